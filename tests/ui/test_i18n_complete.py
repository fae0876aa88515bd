"""Every visible string is in Korean (issue 12): flags, e-mails, pages, messages.

Three checks, fast and without GNU gettext:
- the Korean catalogue has no empty and no fuzzy entry (a fuzzy one is left out of the
  compiled catalogue, so the page shows English);
- every string the code marks for translation (``gettext`` and its aliases in the apps'
  Python, ``{% translate %}``, ``{% blocktranslate %}`` and ``_("…")`` in the templates,
  read the way ``makemessages`` reads them) has a Korean translation in the catalogue;
- every page of the site (tests/site_pages.py), asked for in Korean, shows none of the
  site's English interface text: neither a catalogue phrase left untranslated (a string
  evaluated before the language was chosen) nor one of the English-only words listed below
  (a string never marked for translation).
"""

import ast
import io
import re
import tokenize
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from babel.messages.pofile import read_po
from django.test import Client
from django.utils.translation import templatize

from tests.site_pages import PAGES, build_site

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "ko" / "LC_MESSAGES" / "django.po"
APPS = ("contacts", "projects", "rcf", "scm_reports")
TEMPLATES = ROOT / "templates"

# The functions makemessages knows, and what their arguments are: (context index or None,
# singular index, plural index or None).
FUNCTIONS = {
    "gettext": (None, 0, None), "gettext_lazy": (None, 0, None), "gettext_noop": (None, 0, None),
    "_": (None, 0, None), "ngettext": (None, 0, 1), "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None), "pgettext_lazy": (0, 1, None), "npgettext": (0, 1, 2), "npgettext_lazy": (0, 1, 2),
}


def catalogue():
    with PO.open("rb") as handle:
        return read_po(handle, locale="ko")


def _python_aliases(tree):
    """``from django.utils.translation import gettext_lazy as _lazy`` makes ``_lazy`` a
    translation function too (makemessages would miss it: this check does not)."""
    names = dict(FUNCTIONS)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            for alias in node.names:
                if alias.name in FUNCTIONS and alias.asname:
                    names[alias.asname] = FUNCTIONS[alias.name]
    return names


def python_messages(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = _python_aliases(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else (
            node.func.attr if isinstance(node.func, ast.Attribute) else None)
        if name not in names:
            continue
        context, singular, plural = names[name]
        args = node.args
        if len(args) <= singular or not (
                isinstance(args[singular], ast.Constant) and isinstance(args[singular].value, str)):
            continue
        yield (args[context].value if context is not None else None, args[singular].value,
               args[plural].value if plural is not None and len(args) > plural
               and isinstance(args[plural], ast.Constant) else None, f"{path.relative_to(ROOT)}:{node.lineno}")


_CALL = re.compile(r"\b(npgettext|pgettext|ngettext|gettext|_)\(")


def template_messages(path):
    """The strings makemessages would extract: Django's templatize turns the template into
    calls such as `` gettext('Sign in') ``, whose arguments are Python literals."""
    code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    for match in _CALL.finditer(code):
        strings = []
        tokens = tokenize.generate_tokens(io.StringIO(code[match.end():]).readline)
        try:
            for token in tokens:
                if token.type == tokenize.STRING:
                    strings.append(ast.literal_eval(token.string))
                elif token.type == tokenize.OP and token.string == ")":
                    break
        except (tokenize.TokenError, SyntaxError, ValueError):
            continue
        line = code[:match.start()].count("\n") + 1
        where = f"{path.relative_to(ROOT)}:{line}"
        kind = match.group(1)
        if kind in ("gettext", "_") and strings:
            yield None, strings[0], None, where
        elif kind == "ngettext" and len(strings) >= 2:
            yield None, strings[0], strings[1], where
        elif kind == "pgettext" and len(strings) >= 2:
            yield strings[0], strings[1], None, where
        elif kind == "npgettext" and len(strings) >= 3:
            yield strings[0], strings[1], strings[2], where


def marked_messages():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts or "tests" in path.parts:
                continue
            yield from python_messages(path)
    for path in sorted(TEMPLATES.rglob("*.html")) + sorted(TEMPLATES.rglob("*.txt")):
        yield from template_messages(path)


def missing_translations(messages, catalog):
    missing = []
    for context, singular, _plural, where in messages:
        message = catalog.get(singular, context=context)
        if message is None or message.fuzzy:
            missing.append(f"{where}: {singular!r}" + (" (fuzzy)" if message is not None else ""))
            continue
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if not all(strings):
            missing.append(f"{where}: {singular!r} (empty)")
    return missing


def test_the_korean_catalogue_has_no_empty_and_no_fuzzy_entry():
    problems = []
    for message in catalogue():
        if not message.id:
            continue  # the header
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if not all(strings):
            problems.append(f"empty: {message.id!r}")
        if message.fuzzy:
            problems.append(f"fuzzy (left out of the compiled catalogue): {message.id!r}")
    assert not problems, "\n".join(problems)


def test_every_string_marked_for_translation_has_a_korean_translation():
    messages = list(marked_messages())
    assert len(messages) > 1000  # the extraction works (the site has well over a thousand)
    missing = missing_translations(messages, catalogue())
    assert not missing, f"{len(missing)} strings without Korean:\n" + "\n".join(missing)


def test_the_check_catches_an_unmarked_template_and_an_alias(tmp_path):
    template = tmp_path / "t.html"
    template.write_text('{% load i18n %}{% translate "Zebra crossing" %}'
                        '{% blocktranslate count n=k %}One zebra{% plural %}{{ n }} zebras{% endblocktranslate %}'
                        '{% include "x.html" with lead=_("Quagga") %}')
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = [m[1:3] for m in template_messages(template)]
        module = tmp_path / "m.py"
        module.write_text("from django.utils.translation import gettext_lazy as _lazy\nX = _lazy('Okapi')\n")
        found += [m[1:3] for m in python_messages(module)]
    finally:
        ROOT = saved
    assert found == [("Zebra crossing", None), ("One zebra", "%(n)s zebras"), ("Quagga", None), ("Okapi", None)]
    assert len(missing_translations([(None, "Zebra crossing", None, "t.html:1")], catalogue())) == 1


# --- The pages in Korean ------------------------------------------------------------------------

# Words that are the same in both languages: names, acronyms, file types, product names, HTTP.
SAME_IN_BOTH = re.compile(
    r"(?<![A-Za-z])(RCF Tracker|RCF|SCM|POCs?|ROK|U\.S\.|US|USD|KRW|API|OpenAPI|REST|CSV|XLSX?|PDF|PNG|JPEG|"
    r"KST|UTC|ASEAN|B2B|ID|URL|UNCLASSIFIED|CUI|Token|Authorization|SHA|MB|docx|xlsx|pptx|txt|Word|Excel|"
    r"PowerPoint|Google|Microsoft|Authenticator|FreeOTP|manage\.py|create_api_token)(?![A-Za-z])")


class VisibleText(HTMLParser):
    """The text a reader sees (and hears: alt, aria-label, title, placeholder), without
    scripts, styles, code and the data the sample site is made of."""

    SKIP = {"script", "style", "code", "pre", "template", "svg"}
    ATTRIBUTES = ("alt", "aria-label", "title", "placeholder")
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.skipping = 0
        self.open = []  # the open elements: whether each one skips its text
        self.parts = []

    def handle_starttag(self, tag, attrs):
        # Skipped: scripts, code, and text marked as English on purpose (lang="en": the language switch).
        skip = tag in self.SKIP or dict(attrs).get("lang", "").startswith("en")
        if tag not in self.VOID:
            self.open.append((tag, skip))
            self.skipping += skip
        if skip:
            return
        for name, value in attrs:
            if name in self.ATTRIBUTES and value:
                self.parts.append(value)
        if tag == "input" and dict(attrs).get("type") in ("submit", "button") and dict(attrs).get("value"):
            self.parts.append(dict(attrs)["value"])

    def handle_endtag(self, tag):
        while self.open:
            name, skip = self.open.pop()
            self.skipping -= skip
            if name == tag:
                break

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.parts.append(" ".join(data.split()))


def visible_text(html):
    parser = VisibleText()
    parser.feed(html)
    return parser.parts


def data_strings():
    """Every text value in the database (titles, names, summaries…): English there is data."""
    from django.apps import apps
    from django.db import models

    values = set()
    for model in apps.get_models():
        if model._meta.app_label not in APPS + ("auth",):
            continue
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, (models.CharField, models.TextField))]
        manager = getattr(model, "all_objects", model._default_manager)
        for row in manager.values_list(*fields) if fields else ():
            values.update(str(v) for v in row if v)
    return values


def english_on_page(parts, data):
    """The English words left in the page's text once the data values and the words that are
    the same in both languages are taken out: each one is interface text left in English."""
    latin_data = sorted((v for v in data if len(v) > 1 and re.search(r"[A-Za-z]", v)), key=len, reverse=True)
    blob = "\x00".join(value.lower() for value in latin_data)
    found = []
    for part in parts:
        if part.strip(" .,:;“”\"'").lower() in blob:
            continue  # a piece of a data value (a search result highlights words inside a title)
        # Not interface text: only Hangul and digits, or the name "English" alone (languages are
        # offered in their own names, as in the header's switch).
        if not re.search(r"[A-Za-z]{2}", part) or part == "English":
            continue
        text = re.sub(r"(?<!\S)/[\w/.-]*", " ", part)  # paths (/api/v1/)
        for value in latin_data:
            if value in text:  # a whole data value, not two letters inside a word
                text = re.sub(r"(?<![A-Za-z])" + re.escape(value) + r"(?![A-Za-z])", " ", text)
        words = re.findall(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]", SAME_IN_BOTH.sub(" ", text))
        if words:
            found.append(f"{' '.join(words)[:80]!r} in {part[:120]!r}")
    return found


@pytest.mark.django_db
def test_every_page_in_korean_shows_no_english_interface_text(settings):
    settings.LANGUAGE_CODE = "en-us"
    site = build_site()
    data = data_strings()
    problems = []
    for page in PAGES:
        client = Client(HTTP_ACCEPT_LANGUAGE="ko")
        client.cookies["django_language"] = "ko"
        if page.role:
            client.force_login(site.users[page.role])
        response = client.get(page.url(site), follow=False)
        searched = set(parse_qs(page.query).get("q", []))  # what the user typed is data too
        assert response.status_code == 200, page.slug
        html = response.content.decode()
        if page.slug == "api-docs":  # Swagger UI writes its own English; the site's frame is checked
            html = html.split('<div class="swagger-frame">')[0]
        for problem in english_on_page(visible_text(html), data | searched):
            problems.append(f"{page.slug}: {problem}")
    assert not problems, f"{len(problems)} English strings on Korean pages:\n" + "\n".join(problems)


def test_the_page_check_finds_an_untranslated_button_and_passes_data_and_acronyms():
    html = ('<main><h1>조치</h1><button type="submit">Save</button><p>[Sample] Jordan Lee · 저장</p>'
            '<input placeholder="Choose an area"><p>SCM 2026 · POC · KST</p><script>var x = "code";</script></main>')
    assert english_on_page(visible_text(html), {"[Sample] Jordan Lee"}) == [
        "'Save' in 'Save'", "'Choose an area' in 'Choose an area'"]

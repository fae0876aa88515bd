"""The OpenAPI 3 schema is valid and documents every answer an operation
can give; Swagger UI is served from this site alone (no CDN)."""

import os
import re
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch")


@pytest.fixture
def schema(api_client, viewer):
    response = api_client(viewer).get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_the_schema_needs_a_login(client):
    assert client.get("/api/v1/schema/").status_code in (401, 403)


def test_every_resource_of_the_issue_is_there(schema):
    paths = set(schema["paths"])
    for resource in ("priority-areas", "countries", "organizations", "contacts", "projects", "engagements",
                     "scm-cycles", "readiness", "flags"):
        assert f"/api/v1/{resource}/" in paths
    assert "/api/v1/projects/{id}/transition/" in paths
    assert "/api/v1/projects/{id}/restore/" in paths


def test_every_operation_documents_its_status_codes(schema):
    for path, method, operation in operations(schema):
        codes = set(operation["responses"])
        where = f"{method.upper()} {path}"
        assert {"401", "403", "429"} <= codes, where
        if "{" in path:
            assert "404" in codes, where
        if method in WRITE_METHODS:
            assert {"400", "413", "415"} <= codes, where
        if method in ("put", "patch", "delete"):
            assert {"412", "428"} <= codes, where
            if_match = [p for p in operation["parameters"] if p["name"] == "If-Match" and p["in"] == "header"]
            assert if_match and if_match[0]["required"], where
        if method == "get" and "since" in {p["name"] for p in operation.get("parameters", [])}:
            assert {"400", "410"} <= codes, where
    assert "409" in schema["paths"]["/api/v1/projects/"]["post"]["responses"]


def test_the_project_representation_uses_codes_and_is_complete(schema):
    project = schema["components"]["schemas"]["Project"]
    expected = {
        "id", "external_id", "title", "summary", "priority_area", "additional_areas", "partner_countries",
        "lead_side", "status", "priority", "us_lead_poc", "rok_lead_poc", "industry_partners",
        "complementary_efforts", "target_year",
        "ready_on", "start_date", "end_date", "version", "created_at", "updated_at",
    }
    assert expected <= set(project["properties"])
    assert project["properties"]["priority_area"]["type"] == "string"
    assert project["properties"]["partner_countries"]["items"]["type"] == "string"
    # Request bodies refuse unknown keys, as the API does.
    assert schema["components"]["schemas"]["ProjectRequest"]["additionalProperties"] is False
    assert schema["components"]["schemas"]["PatchedProjectRequest"]["additionalProperties"] is False


def _local_assets(html: str, base: str) -> list[str]:
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls
    for url in urls:
        assert not urlparse(url).netloc, f"{url} is not served by this site"
    return [urljoin(base, url.replace("&amp;", "&")) for url in urls]


@pytest.mark.django_db(transaction=True)
def test_swagger_ui_and_its_assets_come_from_this_site(live_server, http, viewer, django_user_model):
    user = django_user_model.objects.get(pk=viewer.pk)
    session = http(user)
    docs = session.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert "script-src 'self'" in docs.headers["Content-Security-Policy"]
    for url in _local_assets(docs.text, docs.url):
        asset = session.get(url)
        assert asset.status_code == 200, url
        if "script=" in url:  # the start-up script: it points at our schema, nowhere else
            assert "/api/v1/schema/" in asset.text
            assert not re.search(r"https?://(?!localhost|127\.0\.0\.1)", asset.text)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_swagger_ui_renders_in_a_browser_with_no_outside_request(live_server, client, viewer, settings):
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        if os.environ.get("RCF_REQUIRE_BROWSER") == "1":
            pytest.fail("RCF_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
        pytest.skip("No Chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    client.force_login(viewer)  # a staff member's session, as after signing in
    origin = urlparse(live_server.url).netloc
    outside, refused, operations, failures = [], [], [], []

    def browse():
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(chromium),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"],
            )
            try:
                context = browser.new_context()
                context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                                      "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
                page = context.new_page()
                page.on("request", lambda r: urlparse(r.url).netloc in (origin, "") or outside.append(r.url))
                page.on("console", lambda m: "Content Security Policy" in m.text and refused.append(m.text))
                page.goto(f"{live_server.url}/api/v1/docs/")
                page.wait_for_selector("text=/api/v1/projects/{id}/transition/", timeout=20000)
                operations.append(page.locator(".opblock").count())
            except Exception as exc:  # noqa: BLE001 - reported by the test below
                failures.append(exc)
            finally:
                browser.close()

    # Its own thread: pytest-playwright's session (the browser tests) may
    # already run an event loop in this one, and the sync API refuses that.
    thread = threading.Thread(target=browse)
    thread.start()
    thread.join(timeout=120)
    assert not failures, failures
    assert operations and operations[0] > 30  # every operation is listed
    assert outside == []
    assert refused == []

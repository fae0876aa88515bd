"""gzip and CORS for the JSON API, over real HTTP (issue 13).

gzip: a JSON answer is compressed when the client accepts it, its ETag still
answers 304 and still names the version in If-Match; an HTML page (with a
CSRF token) never is. CORS: off until ``CORS_ALLOWED_ORIGINS`` names an
origin; a preflight from it succeeds without a token; another origin, and
the staff pages, get no CORS headers."""

import gzip
import http.client
import re
from urllib.parse import urlsplit

import pytest

from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = "https://dashboard.example.org"


def raw_get(live_server, path, headers):
    """A GET whose body arrives as sent (requests would decompress it)."""
    parts = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.fixture
def token(administrator):
    from .conftest import issue_key

    return f"Token {issue_key(administrator)}"


def test_json_answers_are_gzip_compressed_when_accepted(live_server, token):
    for n in range(12):
        OrganizationFactory(name=f"Shipyard number {n}", side="industry", notes="Builds hulls. " * 5)
    headers = {"Authorization": token, "Accept-Encoding": "gzip"}
    status, response_headers, body = raw_get(live_server, "/api/v1/organizations/", headers)
    assert status == 200
    assert response_headers["content-encoding"] == "gzip"
    assert "accept-encoding" in response_headers["vary"].lower()
    plain = gzip.decompress(body)
    assert b"Shipyard number 11" in plain
    assert len(body) < len(plain) / 2

    status, identity_headers, identity = raw_get(live_server, "/api/v1/organizations/",
                                                 {"Authorization": token, "Accept-Encoding": "identity"})
    assert "content-encoding" not in identity_headers
    assert identity == plain
    _status, refused_headers, refused = raw_get(live_server, "/api/v1/organizations/",
                                                {"Authorization": token, "Accept-Encoding": "gzip;q=0, br"})
    assert "content-encoding" not in refused_headers and refused == plain
    # Two encodings, two strong tags; each answers 304, and so does the other one's.
    assert response_headers["etag"] != identity_headers["etag"]
    for tag in (response_headers["etag"], identity_headers["etag"]):
        status, _headers, body = raw_get(live_server, "/api/v1/organizations/", {**headers, "If-None-Match": tag})
        assert (status, body) == (304, b"")


def test_a_compressed_records_etag_still_names_its_version(live_server, http, administrator):
    organization = OrganizationFactory(name="Hanwha Ocean", side="industry", notes="Frigates and tankers. " * 20)
    client = http(administrator)  # requests accepts gzip and decompresses
    url = f"/api/v1/organizations/{organization.pk}/"
    read = client.get(url)
    assert read.headers["Content-Encoding"] == "gzip"
    tag = read.headers["ETag"]
    assert re.fullmatch(rf'"{read.json()["version"]}\.[0-9a-f]{{16}}-gzip"', tag)
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 304
    assert client.get(url, headers={"If-None-Match": tag, "Accept-Encoding": "identity"}).status_code == 304
    # The compressed answer's tag, sent back with a write, names the same version.
    changed = client.patch(url, json={"notes": "Frigates."}, headers={"If-Match": tag})
    assert changed.status_code == 200
    assert client.patch(url, json={"notes": "Late."}, headers={"If-Match": tag}).status_code == 412


def test_html_pages_are_never_compressed(live_server, client, administrator, settings):
    client.force_login(administrator)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    for path in ("/projects/", "/api/v1/organizations/?format=api"):
        status, headers, body = raw_get(live_server, path, {"Cookie": cookie,
                                                            "Accept-Encoding": "gzip", "Accept": "text/html"})
        assert status == 200, path
        assert "content-encoding" not in headers, path
        assert b"csrf" in body.lower(), path


def test_cors_is_off_by_default(http):
    preflight = http().options("/api/v1/projects/", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_a_preflight_from_an_allowed_origin_needs_no_token(http, viewer, settings):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]
    preflight = http().options("/api/v1/projects/1/", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization, if-match, content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    allowed = {h.strip().lower() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "if-match", "if-none-match", "content-type"} <= allowed
    assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]

    read = http(viewer).get("/api/v1/projects/", headers={"Origin": ORIGIN})
    assert read.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = {h.strip().lower() for h in read.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "link", "retry-after", "last-modified"} <= exposed


def test_other_origins_and_staff_pages_get_no_cors_headers(http, viewer, settings):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]
    other = http().options("/api/v1/projects/", headers={
        "Origin": "https://evil.example.net", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in other.headers
    read = http(viewer).get("/api/v1/projects/", headers={"Origin": "https://evil.example.net"})
    assert "Access-Control-Allow-Origin" not in read.headers
    page = http().get("/accounts/login/", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in page.headers

"""Request-level robustness: no input reaches the database or a parser in a
form that turns into a 500. Deeply nested JSON, NUL characters, oversized
and chunked bodies, a stopped database, and entity tags that only look like
a version all get a clear 4xx/5xx answer naming what is wrong."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from rcf.models import ApiToken
from tests.processes import current_database_url, free_port

ROOT = Path(__file__).resolve().parent.parent
API = "/api/v1"


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(user=user, name='tests')[1]}")
    return client


@pytest.fixture(autouse=True)
def _generous_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100000/minute", "anon": "100000/minute"},
    }


@pytest.fixture
def staff_api(db, administrator):
    return token_client(administrator)


def write_endpoints(project) -> list[tuple[str, str]]:
    """Every kind of API write: create on each writable resource, replace,
    update and the lifecycle action."""
    return [
        ("post", f"{API}/organizations/"),
        ("post", f"{API}/contacts/"),
        ("post", f"{API}/projects/"),
        ("post", f"{API}/engagements/"),
        ("post", f"{API}/scm-cycles/"),
        ("put", f"{API}/projects/{project.pk}/"),
        ("patch", f"{API}/projects/{project.pk}/"),
        ("post", f"{API}/projects/{project.pk}/transition/"),
    ]


# --- 1. Deeply nested JSON ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_deeply_nested_json_body_is_refused_with_400_on_every_write_endpoint(staff_api, make_project):
    project = make_project()
    body = "[" * 1000 + "]" * 1000  # 2 KB; Python's json recursion gives up near 1,000 levels
    for method, url in write_endpoints(project):
        response = getattr(staff_api, method)(url, body, content_type="application/json", HTTP_IF_MATCH='"1"')
        assert response.status_code == 400, (method, url, response.status_code, response.content[:300])
        assert "nested" in response.json()["detail"], (method, url)


@pytest.mark.django_db
def test_nesting_is_counted_outside_strings_and_ordinary_bodies_still_parse(staff_api):
    # Brackets inside a string are text, not nesting.
    response = staff_api.post(f"{API}/organizations/", {"name": "[[{" * 60, "side": "us"})
    assert response.status_code == 201, response.json()
    # Just over the limit inside a field: refused, naming the limit.
    deep = json.dumps({"name": json.loads("[" * 40 + "]" * 40), "side": "us"})
    response = staff_api.post(f"{API}/organizations/", deep, content_type="application/json")
    assert response.status_code == 400
    assert "32" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["\u0000", "bad\ud800half"], ids=["nul", "lone-surrogate"])
def test_a_nul_or_lone_surrogate_anywhere_in_a_json_body_is_a_400(staff_api, value):
    """Neither can be stored as text (PostgreSQL refuses NUL, UTF-8 has no
    lone surrogates); both arrive only as \\u escapes in JSON."""
    for body in ({"name": value, "side": "us"}, {"name": "Shipyard", "side": value}, {value: "x", "side": "us"}):
        raw = json.dumps(body)  # ensure_ascii keeps them as \\u escapes, as a client would send them
        response = staff_api.post(f"{API}/organizations/", raw, content_type="application/json")
        assert response.status_code == 400, (body, response.status_code, response.content[:300])
        assert "character" in response.json()["detail"]


# --- 2. NUL in paths, query strings, form values, cookies ---------------------------------


@pytest.mark.django_db
def test_nul_in_a_path_or_query_is_a_400_for_anonymous_callers(client):
    for url in ("/calendar/%00.ics", f"{API}/countries/%00/", "/projects/?q=%00", "/accounts/login/?next=%00"):
        response = client.get(url)
        assert response.status_code == 400, (url, response.status_code)
        assert "NUL" in response.content.decode()
    api = client.get(f"{API}/countries/%00/")
    assert api["Content-Type"] == "application/json"
    assert "path" in api.json()["detail"]
    page = client.get("/projects/?q=%00")
    assert page["Content-Type"].startswith("text/html")
    assert "&quot;q&quot;" in page.content.decode() or '"q"' in page.content.decode()


@pytest.mark.django_db
def test_nul_in_an_admin_filter_or_an_api_filter_is_a_400(client, administrator, staff_api):
    client.force_login(administrator)
    response = client.get("/admin/projects/cooperativeproject/?status__exact=%00")
    assert response.status_code == 400
    assert "status__exact" in response.content.decode()
    response = staff_api.get(f"{API}/projects/?status=%00")
    assert response.status_code == 400
    assert "status" in response.json()["detail"]


@pytest.mark.django_db
def test_nul_in_a_form_value_is_a_400(client, editor):
    # Anonymous: the login form looks the user name up in the database.
    response = client.post("/accounts/login/", {"username": "ed\x00itor", "password": "x"})
    assert response.status_code == 400
    assert "username" in response.content.decode()
    client.force_login(editor)
    response = client.post("/contacts/organizations/new/", {"name": "Shipyard\x00", "side": "us"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


@pytest.mark.django_db
def test_nul_in_a_cookie_is_a_400(client):
    # http.cookies unquotes octal escapes: "\\000" in a quoted cookie is a NUL,
    # which would otherwise reach the session table as a session key.
    response = client.get("/accounts/login/", HTTP_COOKIE='sessionid="\\000abcdefgh"')
    assert response.status_code == 400
    assert "sessionid" in response.content.decode()


# --- 3. Bodies over the limits ------------------------------------------------------------


@pytest.mark.django_db
def test_an_api_body_over_the_limit_is_a_413_json_whatever_its_type(staff_api, settings):
    big = settings.RCF_API_MAX_BODY_BYTES + 1
    for content_type, body in (
        ("application/json", json.dumps({"name": "x" * big, "side": "us"})),
        ("application/x-www-form-urlencoded", "name=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)),
        ("multipart/form-data; boundary=BOUNDARY",
         "--BOUNDARY\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n" + "x" * big + "\r\n--BOUNDARY--\r\n"),
    ):
        response = staff_api.post(f"{API}/organizations/", body, content_type=content_type)
        assert response.status_code == 413, (content_type, response.status_code, response.content[:200])
        assert response["Content-Type"] == "application/json"
        assert str(settings.RCF_API_MAX_BODY_BYTES) in response.json()["detail"]


@pytest.mark.django_db
def test_a_form_over_the_limit_is_a_413_page(client, editor, settings):
    client.force_login(editor)
    body = "name=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + "&side=us"
    response = client.post("/contacts/organizations/new/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "too large" in response.content.decode()


@pytest.mark.django_db
def test_too_many_fields_is_a_400_naming_the_limit(client, settings):
    query = "&".join(f"f{number}=1" for number in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    page = client.get(f"/projects/?{query}")
    assert page.status_code == 400
    assert f"more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields" in page.content.decode()
    api = client.get(f"{API}/countries/?{query}")
    assert api.status_code == 400
    assert api.json()["detail"] == f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields."


# --- 5. If-Match --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("tag", ['"03"', '"003"', '"３"', 'W/"3"'])
def test_an_entity_tag_that_only_looks_like_the_version_does_not_match(staff_api, make_project, lead, tag):
    project = make_project()
    for version in (1, 2):
        response = token_client(lead).patch(f"{API}/projects/{project.pk}/", {"summary": f"Edit {version}"},
                                            HTTP_IF_MATCH=f'"{version}"')
        assert response.status_code == 200
    project.refresh_from_db()
    assert project.version == 3
    response = staff_api.patch(f"{API}/projects/{project.pk}/", {"title": "Overwritten"}, HTTP_IF_MATCH=tag)
    assert response.status_code == 412, (tag, response.status_code, response.content[:200])
    project.refresh_from_db()
    assert project.title != "Overwritten"
    assert staff_api.patch(f"{API}/projects/{project.pk}/", {"title": "Mine"},
                           HTTP_IF_MATCH='"3"').status_code == 200


@pytest.mark.django_db
def test_a_chunked_body_the_server_cannot_measure_is_refused_with_411(staff_api):
    """Django's development server passes a chunked body through undecoded and
    does not promise the stream ends (no ``wsgi.input_terminated``)."""
    response = staff_api.generic("POST", f"{API}/organizations/", b"", HTTP_TRANSFER_ENCODING="chunked")
    assert response.status_code == 411
    assert "Content-Length" in response.json()["detail"]


# --- Real HTTP: a gunicorn process of the project -------------------------------------------


@contextlib.contextmanager
def gunicorn(database_url: str, log_path: Path, **extra_env: str):
    """The project under gunicorn (as deployed), one worker, on a free
    loopback port; production-like error handling (DEBUG off)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "false", "DJANGO_SETTINGS_MODULE": "rcf.settings",
           **extra_env}
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "rcf.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--timeout", "60"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 90
            while True:
                assert proc.poll() is None, log_path.read_text()[-3000:]
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
                assert time.monotonic() < deadline, "gunicorn did not start: " + log_path.read_text()[-3000:]
                time.sleep(0.2)
            yield port
            assert proc.poll() is None, "gunicorn exited: " + log_path.read_text()[-3000:]
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def fetch(port, method, path, body=None, headers=None):
    """One request on a fresh connection: (status, headers, body). An
    iterable body goes out with ``Transfer-Encoding: chunked`` and no
    Content-Length."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def chunks(data: bytes, size: int = 1000):
    return (data[start:start + size] for start in range(0, len(data), size))


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_without_content_length_is_read_through_gunicorn_or_refused_over_the_limit(
        administrator, tmp_path):
    from contacts.models import Organization

    key = ApiToken.issue(user=administrator, name="tests")[1]
    headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
    with gunicorn(current_database_url(), tmp_path / "gunicorn.log") as port:
        body = json.dumps({"name": "Chunked shipyard", "side": "industry"}).encode()
        # http.client sends an iterable body chunked, with no Content-Length.
        status, response_headers, payload = fetch(port, "POST", f"{API}/organizations/", chunks(body, 7), headers)
        assert status == 201, payload[:500]
        assert json.loads(payload)["name"] == "Chunked shipyard"
        assert Organization.objects.filter(name="Chunked shipyard").exists()

        too_big = json.dumps({"name": "x" * settings.RCF_API_MAX_BODY_BYTES, "side": "us"}).encode()
        status, response_headers, payload = fetch(port, "POST", f"{API}/organizations/", chunks(too_big, 65536),
                                                  headers)
        assert status == 413, payload[:500]
        assert response_headers["content-type"] == "application/json"
        assert str(settings.RCF_API_MAX_BODY_BYTES) in json.loads(payload)["detail"]

        # A page's form, chunked: the CSRF token and the fields arrive (a wrong password, not "required").
        status, page_headers, page = fetch(port, "GET", "/accounts/login/")
        cookie = page_headers["set-cookie"].split(";")[0]
        token = page.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        form = f"csrfmiddlewaretoken={token}&username=nobody&password=wrong-password".encode()
        status, _, page = fetch(port, "POST", "/accounts/login/", chunks(form, 10), {
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{port}/accounts/login/"})
        assert status == 200, page[:500]
        assert "This field is required" not in page.decode()
        assert 'value="nobody"' in page.decode()


# --- 4. The database goes away and comes back --------------------------------------------


def _pg_program(name: str) -> str:
    directory = os.environ.get("RCF_PG_BIN")
    path = os.path.join(directory, name) if directory else shutil.which(name)
    if not path or not os.path.exists(path):
        if os.environ.get("RCF_REQUIRE_REAL_SERVICES") == "1":
            pytest.fail(f"PostgreSQL's {name} was not found (set RCF_PG_BIN)")
        pytest.skip(f"PostgreSQL's {name} was not found (set RCF_PG_BIN)")
    return path


def _as_postgres(*command) -> list[str]:
    # initdb and pg_ctl refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@pytest.fixture
def private_cluster():
    """A PostgreSQL cluster of this test's own, so it can be stopped and
    started without disturbing the test database: ``stop()``, ``start()``."""
    import tempfile

    initdb, pg_ctl = _pg_program("initdb"), _pg_program("pg_ctl")
    directory = Path(tempfile.mkdtemp(prefix="rcf-requests-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    data, port = directory / "data", free_port()
    subprocess.run(_as_postgres(initdb, "-D", str(data), "-U", "postgres", "--auth=trust"),
                   check=True, capture_output=True)

    def start():
        subprocess.run(_as_postgres(
            pg_ctl, "-D", str(data), "-w", "-l", str(directory / "log"),
            "-o", f"-k {directory} -h 127.0.0.1 -p {port} -c fsync=off", "start",
        ), check=True, capture_output=True)

    def stop():
        subprocess.run(_as_postgres(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"), check=True,
                       capture_output=True)

    start()
    try:
        yield type("Cluster", (), {"url": f"postgres://postgres@127.0.0.1:{port}/postgres",
                                   "start": staticmethod(start), "stop": staticmethod(stop)})
    finally:
        subprocess.run(_as_postgres(pg_ctl, "-D", str(data), "-m", "immediate", "stop"), capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="stops and restarts a PostgreSQL server; the embedded SQLite has no server to lose")
def test_with_the_database_down_pages_answer_503_and_healthz_names_it_then_all_recover_without_a_restart(
        private_cluster, tmp_path):
    with gunicorn(private_cluster.url, tmp_path / "gunicorn.log") as port:
        status, _, body = fetch(port, "GET", "/healthz")
        assert status == 200, body
        assert json.loads(body)["database"]["ok"] is True
        status, headers, page = fetch(port, "GET", "/accounts/login/")  # the worker keeps its connection
        assert status == 200
        form = {"Cookie": headers["set-cookie"].split(";")[0], "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://127.0.0.1:{port}/accounts/login/"}
        token = page.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        login = f"csrfmiddlewaretoken={token}&username=somebody&password=secret".encode()

        private_cluster.stop()
        status, headers, body = fetch(port, "GET", "/healthz")
        assert status == 503, body[:500]
        report = json.loads(body)
        assert report["ok"] is False and report["database"]["ok"] is False
        assert report["broker"]["ok"] is True
        for method, path, data, extra in (("GET", "/accounts/login/", None, {}), ("GET", "/projects/", None, {}),
                                          ("GET", "/calendar/feed-token.ics", None, {}),
                                          ("POST", "/accounts/login/", login, form)):
            status, headers, body = fetch(port, method, path, data, extra)
            page = body.decode()
            assert status == 503, (path, status, page[:500])
            assert headers["content-type"].startswith("text/html")
            assert headers["retry-after"] == "30"
            assert "cannot reach its database" in page
            assert "Traceback" not in page and "OperationalError" not in page and "127.0.0.1" not in page
        status, headers, body = fetch(port, "GET", f"{API}/countries/")
        assert status == 503
        assert headers["content-type"] == "application/json"
        assert "database" in json.loads(body)["detail"]

        private_cluster.start()
        status, _, body = fetch(port, "GET", "/healthz")
        assert status == 200, body
        assert fetch(port, "GET", "/accounts/login/")[0] == 200
        assert fetch(port, "GET", "/projects/")[0] == 302  # to the login page, as before

"""Issue 14, "never a runaway query": on PostgreSQL a web request's statement
is cancelled at ``RCF_DB_STATEMENT_TIMEOUT_MS`` and answered with a clear 503
(page or API JSON), nothing half-saved, and the connection serves the next
request; Celery workers and management commands have no such limit."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import uuid

import psycopg
import pytest
from django.db import connection

from contacts.models import Organization
from projects.models import CooperativeProject
from rcf import db_timeout
from tests.processes import current_database_url
from tests.test_request_robustness import ROOT, fetch, gunicorn

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="statement_timeout is PostgreSQL's; SQLite has none and the tracker does not emulate one")

LIMIT_MS = 200
STOPPED = "This request took too long and was stopped (the database limit is 0.2 s)."


@pytest.fixture
def web_limit(settings):
    """This process as a web server (what rcf/wsgi.py does) with a 200 ms limit,
    on a connection opened afresh."""
    settings.RCF_DB_STATEMENT_TIMEOUT_MS = LIMIT_MS
    db_timeout.install()
    connection.close()
    yield
    db_timeout.uninstall()
    connection.close()


@pytest.mark.urls("tests.timeout_urls")
@pytest.mark.django_db(transaction=True)
def test_a_page_whose_query_runs_past_the_limit_answers_503_in_both_languages_and_saves_nothing(client, web_limit):
    assert client.get("/slow-for-tests/?seconds=0&name=Quick").status_code == 200

    response = client.get("/slow-for-tests/?seconds=2&name=Runaway")
    page = response.content.decode()
    assert response.status_code == 503, page[:500]
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "30"
    assert "Request stopped" in page and STOPPED in page
    assert "Traceback" not in page and "QueryCanceled" not in page and "cannot reach its database" not in page
    assert not Organization.objects.filter(name="Runaway").exists()  # the request's transaction rolled back

    korean = client.get("/slow-for-tests/?seconds=2", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "요청이 너무 오래 걸려 중단되었습니다(데이터베이스 제한 0.2초)." in korean

    # The same connection serves the next request.
    again = client.get("/slow-for-tests/?seconds=0&name=Next")
    assert again.status_code == 200
    assert Organization.objects.filter(name__in=["Quick", "Next"]).count() == 2


@pytest.mark.urls("tests.timeout_urls")
@pytest.mark.django_db(transaction=True)
def test_an_api_request_past_the_limit_answers_503_json_and_the_next_one_200(client, web_limit):
    response = client.get("/api/v1/slow-for-tests/?seconds=2")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "30"
    assert response.json() == {"detail": STOPPED + " Try a narrower filter or search, or a smaller page; if it "
                                                   "goes on, tell the administrators."}
    assert client.get("/api/v1/slow-for-tests/?seconds=0.05").status_code == 200  # under the limit


@pytest.mark.urls("tests.timeout_urls")
@pytest.mark.django_db(transaction=True)
def test_without_the_web_server_or_with_the_limit_off_a_long_statement_runs_to_the_end(client, settings):
    settings.RCF_DB_STATEMENT_TIMEOUT_MS = LIMIT_MS  # set, but this process is not a web server (no install())
    connection.close()
    assert client.get("/slow-for-tests/?seconds=0.4").status_code == 200

    settings.RCF_DB_STATEMENT_TIMEOUT_MS = 0
    db_timeout.install()
    try:
        connection.close()
        assert client.get("/slow-for-tests/?seconds=0.4").status_code == 200
    finally:
        db_timeout.uninstall()
        connection.close()


@contextlib.contextmanager
def table_locked(table: str):
    """Another session holding ``ACCESS EXCLUSIVE`` on a table, as a long
    maintenance job would: every query on it waits."""
    with psycopg.connect(current_database_url()) as locker:
        locker.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
        yield locker
        locker.rollback()


GUNICORN_APP_NAME = "rcf-statement-timeout-test"  # libpq's PGAPPNAME: only gunicorn's connections carry it


def app_backends() -> set[int]:
    """The server processes of gunicorn's connections to the test database (other sessions of the suite
    may be connected too)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND application_name = %s", [GUNICORN_APP_NAME])
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_under_gunicorn_a_real_page_and_the_api_waiting_past_the_limit_answer_503_then_recover_on_one_connection(
        client, lead, tmp_path, monkeypatch):
    from rcf.models import ApiToken

    key = ApiToken.issue(user=lead, name="tests")[1]
    api = {"Authorization": f"Token {key}"}
    client.force_login(lead)
    page = {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}
    monkeypatch.setenv("RCF_DB_STATEMENT_TIMEOUT_MS", str(LIMIT_MS))
    with gunicorn(current_database_url(), tmp_path / "gunicorn.log", PGAPPNAME=GUNICORN_APP_NAME) as port:
        status, _, body = fetch(port, "GET", "/projects/", headers=page)
        assert status == 200, body[:500]
        assert fetch(port, "GET", "/api/v1/projects/", headers=api)[0] == 200
        before = app_backends()
        assert len(before) == 1  # the one worker's persistent connection

        with table_locked(CooperativeProject._meta.db_table) as locker:
            status, headers, body = fetch(port, "GET", "/projects/", headers=page)
            html = body.decode()
            assert status == 503, html[:500]
            assert headers["content-type"].startswith("text/html") and headers["retry-after"] == "30"
            assert STOPPED in html and "Traceback" not in html

            status, headers, body = fetch(port, "GET", "/api/v1/projects/", headers=api)
            assert status == 503, body[:500]
            assert headers["content-type"] == "application/json"
            assert json.loads(body)["detail"].startswith(STOPPED)
            assert locker.execute("SELECT 1").fetchone() == (1,)  # the lock was held throughout

        status, _, body = fetch(port, "GET", "/projects/", headers=page)
        assert status == 200, body[:500]
        assert fetch(port, "GET", "/api/v1/projects/", headers=api)[0] == 200
        assert app_backends() == before  # the same connection, not a new one


SLEEP = ("from django.db import connection\n"
         "with connection.cursor() as c:\n"
         "    c.execute('SELECT pg_sleep(0.6)')\n"
         "    c.execute('SHOW statement_timeout')\n"
         "    print('finished', c.fetchone()[0])\n")


def run_python(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RCF_DB_STATEMENT_TIMEOUT_MS": str(LIMIT_MS), "DJANGO_SETTINGS_MODULE": "rcf.settings"}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_a_management_command_is_not_limited_where_the_web_server_is():
    command = run_python("manage.py", "shell", "-c", SLEEP)
    assert command.returncode == 0, command.stderr[-2000:]
    assert "finished 0" in command.stdout

    web = run_python("-c", "import rcf.wsgi\n" + SLEEP)
    assert web.returncode != 0
    assert "canceling statement due to statement timeout" in web.stderr


@pytest.mark.celery_worker
def test_a_celery_task_is_not_limited(tmp_path):
    from rcf.celery import app

    queue = f"rcf-test-timeout-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "RCF_DB_STATEMENT_TIMEOUT_MS": str(LIMIT_MS), "CELERY_QUEUE": queue}
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "rcf", "worker", "-I", "tests.timeout_tasks", "--pool=solo",
             "--concurrency=1", "-Q", queue, "--without-heartbeat", "--without-mingle", "--without-gossip",
             "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120  # a message sent before the worker binds its queue is lost
            while "ready." not in log_path.read_text():
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.2)
            result = app.send_task("tests.timeout_tasks.sleep_in_database", args=[0.6], queue=queue)
            # The worker's log says how the task ended (this process may not share its result backend).
            while f"{result.id}] succeeded" not in log_path.read_text():
                assert f"{result.id}] raised" not in log_path.read_text(), log_path.read_text()[-3000:]
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.2)
            # It slept 0.6 s, three times the web limit, under statement_timeout 0 (none).
            assert re.search(rf"{result.id}\] succeeded in [0-9.]+s: '0'", log_path.read_text())
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

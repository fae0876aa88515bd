import contextlib
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from projects.models import CooperativeProject

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True


def test_healthz_answers_503_naming_the_broker_when_it_is_down(client, broker_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False


def test_seed_demo_is_idempotent_and_labels_its_data(capsys):
    call_command("seed_demo", password="demo-pass-123")
    call_command("seed_demo", password="demo-pass-123")
    out = capsys.readouterr().out
    assert "demo" in out and "administrator" in out
    titles = list(CooperativeProject.objects.values_list("title", flat=True))
    assert len(titles) == 5
    assert all(t.startswith("[Sample] ") for t in titles)


def test_seed_demo_refuses_production(settings):
    settings.IS_PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", password="demo-pass-123")


@contextlib.contextmanager
def database_unreachable():
    """Point the default connection where no database can be opened (as when
    the server is down), the next query connecting afresh."""
    from django.db import connection

    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-rcf-dir/db.sqlite3"
    else:
        connection.settings_dict.update({"HOST": "127.0.0.1", "PORT": "1"})  # nothing listens on port 1
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_503_json_naming_the_database_and_pages_a_plain_503_when_it_is_unreachable(client, viewer):
    from django.test import Client

    signed_in = Client(raise_request_exception=False)  # as a server would: the answer, not the exception
    signed_in.force_login(viewer)
    with database_unreachable():
        response = client.get("/healthz")
        assert response.status_code == 503
        body = response.json()
        assert body["ok"] is False
        assert body["database"] == {"ok": False, "detail": "unreachable (OperationalError)"}
        page = client.get("/accounts/login/")
        assert page.status_code == 503
        assert page["Retry-After"] == "30"
        assert "cannot reach its database" in page.content.decode()
        assert "OperationalError" not in page.content.decode()
        api = client.get("/api/v1/countries/")
        assert api.status_code == 503 and "database" in api.json()["detail"]
        # Signed in, the session and the user are loaded (by middleware, before any view) and fail too.
        page = signed_in.get("/projects/")
        assert page.status_code == 503
        assert "cannot reach its database" in page.content.decode()
    # Back without a restart: the next request connects again.
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 200
    assert signed_in.get("/projects/").status_code == 200

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

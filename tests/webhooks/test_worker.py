"""A real `celery worker` with its beat delivers a webhook: nobody sends it a
task; the change's outbox message wakes delivery (rcf.webhooks)."""

import time

import pytest

from rcf.models import WebhookDelivery
from tests.test_outbox import worker_with_beat


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_delivers_a_change_signed_soon_after_it_commits(receiver, endpoint_for, make_project, tmp_path,
                                                                 settings, monkeypatch):
    settings.RCF_WEBHOOK_REQUIRE_PUBLIC = False
    monkeypatch.setenv("RCF_WEBHOOK_REQUIRE_PUBLIC", "false")  # the worker's own settings: a loopback receiver
    endpoint_for(receiver, events=["project.created"])
    project = make_project(title="Pushed by the worker")
    with worker_with_beat(tmp_path) as worker:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not receiver.requests:
            assert worker["proc"].poll() is None, worker["log"].read_text()
            time.sleep(0.3)
        assert receiver.requests, worker["log"].read_text()
        while time.monotonic() < deadline and WebhookDelivery.objects.get().status != "delivered":
            time.sleep(0.3)
    [request] = receiver.requests
    assert request["verified"]
    assert request["payload"]["event"] == "project.created"
    assert request["payload"]["data"]["id"] == project.pk
    assert WebhookDelivery.objects.get().status == "delivered"

"""Webhook delivery under trouble: a URL http.client cannot send as is, a
receiver that dribbles its answer, a worker whose claim ran out, an endpoint
turned back on after it was disabled."""

import datetime
import socket
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from projects import services as project_services
from rcf import webhooks
from rcf.models import WebhookDelivery, WebhookEndpoint

from .conftest import Receiver, deliver_all

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.SITE_URL = "https://rcf.example.org"
    settings.RCF_WEBHOOK_REQUIRE_PUBLIC = False  # the receivers are plain http on loopback
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def second_receiver():
    other = Receiver()
    other.thread.start()
    yield other
    other.server.shutdown()
    other.server.server_close()


def test_a_url_with_a_non_ascii_path_is_sent_percent_encoded_and_holds_up_no_other_endpoint(
        receiver, second_receiver, endpoint_for, make_project):
    class Cafe:  # the first receiver, under a path that is not ASCII
        url = receiver.url + "/café?name=é"
        secret = None

    first = endpoint_for(Cafe, events=["project.created"])
    receiver.secret = Cafe.secret
    endpoint_for(second_receiver, events=["project.created"])
    make_project()

    counts = webhooks.webhooks_deliver_due(time_budget=10)  # before: UnicodeEncodeError ended the whole run

    assert counts["delivered"] == 2
    assert [r["path"] for r in receiver.requests] == ["/hooks/rcf/caf%C3%A9?name=%C3%A9"]
    assert receiver.requests[0]["verified"]
    assert len(second_receiver.requests) == 1
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert WebhookDelivery.objects.get(endpoint=first).attempts == 1


@pytest.mark.skipif(connection.vendor == "postgresql", reason="jsonb refuses a lone surrogate outright")
def test_a_message_that_cannot_be_sent_is_a_failed_attempt_and_the_next_endpoint_still_gets_its_own(
        receiver, second_receiver, endpoint_for, make_project):
    first = endpoint_for(receiver, events=["project.created"])
    endpoint_for(second_receiver, events=["project.created"])
    make_project()
    broken = WebhookDelivery.objects.get(endpoint=first)
    WebhookDelivery.objects.filter(pk=broken.pk).update(payload={**broken.payload, "data": "\ud800"})

    webhooks.webhooks_deliver_due(time_budget=10)

    broken.refresh_from_db()
    assert broken.status == "failed" and broken.attempts == 1
    assert "UnicodeEncodeError" in broken.last_error
    assert len(second_receiver.requests) == 1
    assert WebhookDelivery.objects.exclude(pk=broken.pk).get().status == "delivered"


class Dribbler:
    """Answers ``HTTP/1.1 200 OK`` and then one header line every ``pause`` seconds, ``lines`` times."""

    def __init__(self, *, pause: float, lines: int):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.secret = None
        self.pause, self.lines = pause, lines
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            conn, _ = self.sock.accept()
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            for _line in range(self.lines):
                time.sleep(self.pause)
                conn.sendall(b"X-Slow: yes\r\n")
            conn.sendall(b"Content-Length: 2\r\n\r\nok")
            conn.close()
        except OSError:
            pass


def test_the_timeout_bounds_the_whole_attempt_not_each_read(settings, endpoint_for, make_project):
    settings.RCF_WEBHOOK_TIMEOUT_SECONDS = 1
    slow = Dribbler(pause=0.3, lines=10)  # every read within the timeout, the whole answer in 3 s
    endpoint_for(slow, events=["project.created"])
    make_project()

    started = time.monotonic()
    webhooks.webhooks_deliver_due(time_budget=1)
    took = time.monotonic() - started

    delivery = WebhookDelivery.objects.get()
    assert took < 2, took
    assert delivery.status == "failed"
    assert "TimeoutError" in delivery.last_error
    slow.sock.close()


def test_a_worker_whose_claim_ran_out_does_not_overwrite_what_the_next_holder_recorded(
        receiver, endpoint_for, make_project):
    endpoint = endpoint_for(receiver, events=["project.created"])
    make_project()
    now = timezone.now()
    claimed = webhooks._claim_endpoint(now=now, skip=set())
    assert claimed.pk == endpoint.pk
    # The claim lapses while the attempt is under way; a second worker claims the endpoint and records a failure.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(locked_until=now + datetime.timedelta(minutes=10))
    WebhookDelivery.objects.update(status="failed", attempts=1, last_error="HTTP 503: the second worker's")
    head = WebhookDelivery.objects.get()
    head.attempts = 0  # what the first worker read before its claim lapsed

    with pytest.raises(webhooks.ClaimLost):
        webhooks._attempt(head, claimed, now=now)

    head.refresh_from_db()
    assert (head.status, head.attempts, head.last_error) == ("failed", 1, "HTTP 503: the second worker's")


def test_turning_a_disabled_endpoint_back_on_sends_the_message_it_gave_up_on_first(
        receiver, endpoint_for, make_project, clock, lead):
    endpoint = endpoint_for(receiver, events=["project.created", "project.updated"])
    receiver.script = [500] * 1000
    project = make_project()
    project_services.project_update(project=project, by=lead, summary="A new summary")
    deliver_all(clock)
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert list(WebhookDelivery.objects.order_by("id").values_list("event", "status")) == [
        ("project.created", "gave_up"), ("project.updated", "pending")]

    receiver.script = []
    receiver.requests.clear()
    webhooks.webhook_endpoint_update(endpoint=endpoint, is_active=True)
    deliver_all(clock)

    assert [r["payload"]["event"] for r in receiver.accepted()] == ["project.created", "project.updated"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_the_outbox_drain_hands_sending_to_a_worker_instead_of_waiting_on_receivers(
        receiver, endpoint_for, make_project):
    from rcf import outbox

    endpoint_for(receiver, events=["project.created"])
    receiver.delay = 3  # a slow receiver
    make_project()

    started = time.monotonic()
    outbox.outbox_drain()
    took = time.monotonic() - started

    assert took < 2, took
    assert receiver.requests == []  # the worker's task sends it
    assert WebhookDelivery.objects.get().status == "pending"


def test_old_messages_are_purged_by_the_hourly_job_not_by_every_delivery_run(
        receiver, endpoint_for, make_project, settings):
    from rcf.celery import app

    settings.RCF_WEBHOOK_KEEP_DAYS = 90
    endpoint = endpoint_for(receiver, events=["project.created"])
    disabled = endpoint_for(receiver, events=["project.created"])
    make_project()
    make_project()
    long_ago = timezone.now() - datetime.timedelta(days=91)
    first, second, kept_for_later, _fresh = WebhookDelivery.objects.order_by("id")
    WebhookDelivery.objects.filter(pk=first.pk).update(status="delivered", delivered_at=long_ago)
    WebhookDelivery.objects.filter(pk=second.pk).update(status="gave_up", last_attempt_at=long_ago,
                                                        endpoint=endpoint)
    WebhookDelivery.objects.filter(pk=kept_for_later.pk).update(status="gave_up", last_attempt_at=long_ago,
                                                                endpoint=disabled)
    WebhookEndpoint.objects.filter(pk=disabled.pk).update(is_active=False)
    WebhookDelivery.objects.filter(pk=_fresh.pk).update(endpoint=endpoint, status="delivered",
                                                        delivered_at=timezone.now())

    webhooks.webhooks_deliver_due(time_budget=5)
    assert WebhookDelivery.objects.count() == 4  # a delivery run deletes nothing

    assert webhooks.webhooks_purge() == 2
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {kept_for_later.pk, _fresh.pk}
    assert app.conf.beat_schedule["webhooks-purge"]["task"] == "rcf.tasks.webhooks_purge"

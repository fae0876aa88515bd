"""Webhooks end to end: a scripted session of changes through the services,
delivered to a real HTTP receiver on loopback that checks every signature
with ``standardwebhooks`` and fails the first two attempts; retries with
back-off, giving up and disabling after RCF_WEBHOOK_RETRY_HOURS, secret
rotation, redelivery, and a rolled-back change that sends nothing."""

import contextlib
import datetime
from collections import defaultdict

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from projects import services as project_services
from projects.models import Concurrence, CooperativeProject
from rcf import outbox, webhooks
from rcf.models import OutboxMessage, WebhookDelivery, WebhookEndpoint
from scm_reports import services as scm_services
from scm_reports.models import ReadinessFlag, SCMCycle

from .conftest import deliver_all

pytestmark = pytest.mark.django_db

BACKFILL_2025 = datetime.date(2025, 9, 1)  # counts for the 57th SCM (2025): resolves the year's "missed" flag


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.SITE_URL = "https://rcf.example.org"
    settings.RCF_WEBHOOK_REQUIRE_PUBLIC = False  # the receiver is plain http on loopback
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def by_record(requests):
    found = defaultdict(list)
    for request in requests:
        payload = request["payload"]
        found[(payload["resource"], payload["data"]["id"])].append(payload["event"])
    return found


def test_every_event_of_a_session_arrives_signed_once_and_in_order(
    receiver, endpoint_for, clock, make_project, lead, rok_lead, us_lead_poc, administrator
):
    endpoint = endpoint_for(receiver)
    receiver.script = [500, 500]  # the first two attempts fail, then the receiver accepts

    project = make_project()
    project = project_services.project_update(project=project, by=lead, summary="Training, with a Fiji module.")
    project = project_services.project_transition(project=project, to="under_review", by=lead)
    proposal = project_services.project_transition(project=project, to="prioritized", by=lead, priority=2)
    assert isinstance(proposal, Concurrence)
    project_services.concurrence_concur(concurrence=proposal, by=rok_lead)
    project = CooperativeProject.objects.get(pk=project.pk)

    due = timezone.localdate() + datetime.timedelta(days=3)
    action = project_services.action_create(by=lead, title="Send the plan", owner=us_lead_poc, due_on=due,
                                            project=project)
    action = project_services.action_update(action=action, by=lead, description="To MOFA and MND.")
    action = project_services.action_delete(action=action, by=administrator)
    action = project_services.action_restore(action=action, by=administrator)
    engagement = project_services.engagement_create(by=lead, date=timezone.localdate(), kind="meeting",
                                                    summary="Working-level meeting", projects=[project])
    engagement = project_services.engagement_update(engagement=engagement, by=lead, location="Manila")
    engagement = project_services.engagement_delete(engagement=engagement, by=lead)
    engagement = project_services.engagement_restore(engagement=engagement, by=administrator)
    project = project_services.project_soft_delete(project=project, by=administrator)
    project = project_services.project_restore(project=CooperativeProject.all_objects.get(pk=project.pk),
                                               by=administrator)

    scm_services.readiness_flags_sync(today=timezone.localdate())
    missed_2025 = ReadinessFlag.objects.get(year=2025, kind="missed", resolved_at__isnull=True)
    project = CooperativeProject.objects.get(pk=project.pk)
    proposal = project_services.project_transition(project=project, to="ready", by=lead, ready_on=BACKFILL_2025)
    project_services.concurrence_concur(concurrence=proposal, by=rok_lead)
    scm_services.readiness_flags_sync(today=timezone.localdate())
    assert ReadinessFlag.objects.get(pk=missed_2025.pk).resolved_at is not None
    presentation = scm_services.presentation_record(
        project=CooperativeProject.objects.get(pk=project.pk), scm_cycle=SCMCycle.objects.get(number=57),
        outcome="endorsed", by=lead)
    presentation = scm_services.presentation_update(presentation=presentation, by=lead, note="Endorsed as is.")
    presentation = scm_services.presentation_delete(presentation=presentation, by=administrator)
    presentation = scm_services.presentation_restore(presentation=presentation, by=administrator)
    project_services.actions_overdue_announce(today=due + datetime.timedelta(days=1))
    project_services.actions_overdue_announce(today=due + datetime.timedelta(days=2))  # announced once only

    queued = list(WebhookDelivery.objects.order_by("id"))
    assert OutboxMessage.objects.filter(topic=webhooks.WEBHOOK_TOPIC, done_at__isnull=True).count() == 1
    # Delivery as the worker does it: the outbox drain wakes it; then retries as they come due.
    outbox.outbox_drain()
    deliver_all(clock)

    assert all(request["verified"] for request in receiver.requests)
    assert [r["status"] for r in receiver.requests[:3]] == [500, 500, 200]
    # The failed first message was sent again with the same id, and nothing overtook it.
    assert len({r["headers"]["webhook-id"] for r in receiver.requests[:3]}) == 1
    accepted = receiver.accepted()
    assert [r["headers"]["webhook-id"] for r in accepted] == [d.webhook_id for d in queued]
    assert all(d.status == "delivered" for d in WebhookDelivery.objects.all())

    events = by_record(accepted)
    proposals = list(Concurrence.objects.filter(project=project).order_by("id"))
    assert events[("project", project.pk)] == [
        "project.created", "project.updated", "project.transitioned", "project.transitioned", "project.deleted",
        "project.restored", "project.transitioned", "project.transitioned"]
    for proposal in proposals:
        assert events[("concurrence", proposal.pk)] == ["concurrence.proposed", "concurrence.resolved"]
    assert events[("action", action.pk)] == ["action.created", "action.updated", "action.deleted",
                                             "action.restored", "action.overdue"]
    assert events[("engagement", engagement.pk)] == [
        "engagement.created", "engagement.updated", "engagement.deleted", "engagement.restored"]
    assert events[("readiness_flag", missed_2025.pk)] == ["readiness_flag.raised", "readiness_flag.resolved"]
    assert events[("presentation", presentation.pk)] == [
        "presentation.recorded", "presentation.updated", "presentation.deleted", "presentation.restored"]
    every_event = {request["payload"]["event"] for request in accepted}
    assert every_event == set(webhooks.EVENTS)

    # The payload: the API's representation (or the tombstone), the event, its id and time, the record's URL.
    payloads = [r["payload"] for r in accepted]
    updated = next(p for p in payloads if p["event"] == "project.updated")
    assert updated["id"] == accepted[1]["headers"]["webhook-id"]
    assert updated["data"]["summary"] == "Training, with a Fiji module."
    assert updated["data"]["partner_countries"] == ["PH"]  # codes, as the API shows them
    assert updated["url"] == f"https://rcf.example.org/api/v1/projects/{project.pk}/"
    assert updated["occurred_at"].endswith("Z")
    deleted = next(p for p in payloads if p["event"] == "project.deleted")
    assert deleted["data"]["deleted"] is True and deleted["data"]["id"] == project.pk
    assert deleted["data"]["external_id"] is None
    assert next(p for p in payloads if p["event"] == "action.deleted")["data"]["deleted"] is True
    gone = next(p for p in payloads if p["event"] == "presentation.deleted")
    assert gone["data"]["deleted"] is True and gone["data"]["id"] == presentation.pk
    assert next(p for p in payloads if p["event"] == "presentation.updated")["data"]["note"] == "Endorsed as is."
    step = [p for p in payloads if p["event"] == "project.transitioned"][0]
    assert step["transition"] == {"from": "concept", "to": "under_review"}
    assert step["data"]["status"] == "under_review"
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).failing_since is None


def test_a_change_rolled_back_sends_nothing(receiver, endpoint_for, clock, make_project):
    endpoint_for(receiver, events=["project.created", "project.updated"])
    with contextlib.suppress(RuntimeError), transaction.atomic():
        make_project(title="Never saved")
        assert WebhookDelivery.objects.count() == 1
        raise RuntimeError("the request failed after the change")
    assert WebhookDelivery.objects.count() == 0
    assert not OutboxMessage.objects.filter(topic=webhooks.WEBHOOK_TOPIC).exists()
    deliver_all(clock)
    assert receiver.requests == []

    project = make_project(title="Saved")  # only the events subscribed go out
    project_services.project_transition(project=project, to="under_review", by=None)
    deliver_all(clock)
    assert [r["payload"]["event"] for r in receiver.requests] == ["project.created"]


def test_retries_back_off_then_the_endpoint_is_disabled_and_its_administrator_told(
    receiver, endpoint_for, clock, make_project, settings
):
    endpoint = endpoint_for(receiver, events=["project.created"], admin_email="hooks-admin@example.org")
    receiver.script = [503] * 1000
    first = make_project(title="First")
    make_project(title="Second")
    deliver_all(clock)

    attempts = list(receiver.requests)
    assert {r["payload"]["data"]["id"] for r in attempts} == {first.pk}  # the second waits behind the first
    times = [int(r["headers"]["webhook-timestamp"]) for r in attempts]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps[:4] == pytest.approx([30, 60, 120, 240], abs=2)  # exponential back-off
    assert max(gaps) <= 2 * 3600 + 2
    assert times[-1] - times[0] == pytest.approx(24 * 3600, abs=5)  # retried for 24 h, not longer
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "503" in endpoint.disabled_reason and "24 hours" in endpoint.disabled_reason
    head = WebhookDelivery.objects.get(payload__data__id=first.pk)
    assert head.status == "gave_up" and head.attempts == len(attempts) and head.response_code == 503
    second = WebhookDelivery.objects.exclude(pk=head.pk).get()
    assert second.status == "pending" and second.attempts == 0  # kept for when the endpoint is back
    outbox.outbox_drain()  # the e-mail goes out through the outbox
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["hooks-admin@example.org"]
    assert endpoint.url in mail.outbox[0].subject
    assert f"/admin/rcf/webhookendpoint/{endpoint.pk}/change/" in mail.outbox[0].body

    # Nothing more is sent to a disabled endpoint, and nothing new is queued for it.
    count = len(receiver.requests)
    make_project(title="Third")
    clock.shift(datetime.timedelta(hours=3))
    deliver_all(clock)
    assert len(receiver.requests) == count
    # Back on (the receiver fixed): what waited goes out, oldest first — the message it gave up on first.
    receiver.script = []
    webhooks.webhook_endpoint_update(endpoint=endpoint, is_active=True)
    outbox.outbox_drain()
    deliver_all(clock)
    assert [r["payload"]["data"]["title"] for r in receiver.requests[count:]] == ["First", "Second"]
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).disabled_reason == ""


def test_during_a_rotation_both_secrets_verify_and_only_the_new_one_after(
    receiver, endpoint_for, clock, make_project, settings
):
    endpoint = endpoint_for(receiver, events=["project.created"])
    old_secret = receiver.secret
    new_secret = webhooks.webhook_secret_rotate(endpoint=endpoint)
    assert new_secret != old_secret and new_secret.startswith("whsec_")
    make_project(title="During the overlap")
    deliver_all(clock)
    during = receiver.requests[-1]
    assert len(during["headers"]["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, new_secret):
        assert Webhook(secret).verify(during["body"], during["headers"])["data"]["title"] == "During the overlap"

    clock.shift(datetime.timedelta(hours=settings.RCF_WEBHOOK_ROTATION_OVERLAP_HOURS, minutes=1))
    make_project(title="After the overlap")
    deliver_all(clock)
    after = receiver.requests[-1]
    assert len(after["headers"]["webhook-signature"].split(" ")) == 1
    assert Webhook(new_secret).verify(after["body"], after["headers"])["data"]["title"] == "After the overlap"
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(after["body"], after["headers"])


def test_redeliver_sends_the_same_message_again(receiver, endpoint_for, clock, make_project):
    endpoint_for(receiver, events=["project.created"])
    make_project()
    deliver_all(clock)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.response_code == 200
    assert delivery.duration_ms is not None

    webhooks.webhook_redeliver(delivery=delivery)
    assert WebhookDelivery.objects.get().status == "pending"
    deliver_all(clock)
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [delivery.webhook_id] * 2
    assert len(receiver.accepted()) == 1  # the receiver's deduplication sees one message
    assert WebhookDelivery.objects.get().attempts == 2


def test_a_redirect_is_not_followed(receiver, endpoint_for, clock, make_project):
    endpoint_for(receiver, events=["project.created"])
    receiver.script = [302]
    make_project()
    webhooks.webhooks_deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.response_code == 302
    assert "redirects are not followed" in delivery.last_error
    assert len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_each_delivery_once_and_in_order(receiver, endpoint_for, make_project, settings):
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises all writers, so workers cannot overlap")
    settings.RCF_WEBHOOK_REQUIRE_PUBLIC = False
    endpoint_for(receiver, events=["project.created"])
    other = type(receiver)()  # a second endpoint, served by a second receiver
    other.thread.start()
    try:
        endpoint_for(other, events=["project.created"])
        projects = [make_project(title=f"Project {n}") for n in range(12)]
        receiver.delay = other.delay = 0.05
        barrier = threading.Barrier(4)
        errors = []

        def work():
            try:
                barrier.wait()
                webhooks.webhooks_deliver_due(time_budget=30)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        for seen in (receiver, other):
            titles = [r["payload"]["data"]["title"] for r in seen.requests]
            assert titles == [p.title for p in projects]  # each once, in order
    finally:
        other.server.shutdown()
        other.server.server_close()

"""Changing an endpoint: a second rotation inside the overlap is refused, a
new URL starts a new retry period, URLs are redacted in logs and e-mails."""

import datetime
import logging

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from rcf import outbox, webhooks
from rcf.models import ApiToken, WebhookDelivery, WebhookEndpoint

from .conftest import deliver_all

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.SITE_URL = "https://rcf.example.org"
    settings.RCF_WEBHOOK_REQUIRE_PUBLIC = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": "100000/minute", "anon": "100000/minute"}}


def test_a_second_rotation_during_the_overlap_is_refused_and_the_original_secret_keeps_signing(
        administrator, receiver, endpoint_for):
    endpoint = endpoint_for(receiver, events=["project.created"])
    original = endpoint.secret
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(user=administrator, name='t')[1]}")

    first = api.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/")
    second = api.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/")

    assert first.status_code == 200
    assert second.status_code == 400, second.content
    assert "rotate again after that" in second.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == original
    assert webhooks.signing_secrets(endpoint, now=timezone.now()) == [first.json()["secret"], original]
    # Once the overlap is over, rotating works again.
    later = endpoint.previous_secret_expires_at + datetime.timedelta(seconds=1)
    assert webhooks.webhook_secret_rotate(endpoint=endpoint, now=later) != first.json()["secret"]


def test_a_new_url_gives_waiting_messages_a_whole_retry_period_again(receiver, endpoint_for, make_project, clock):
    endpoint = endpoint_for(receiver, events=["project.created"])
    endpoint = webhooks.webhook_endpoint_update(endpoint=endpoint, url=receiver.url + "/old")
    receiver.script = [500] * 1000
    make_project()
    webhooks.webhooks_deliver_due(time_budget=10)
    clock.shift(23 * 3600)  # nearly a day of failures at the old URL
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - datetime.timedelta(hours=23))

    webhooks.webhook_endpoint_update(endpoint=WebhookEndpoint.objects.get(pk=endpoint.pk), url=receiver.url)
    webhooks.webhooks_deliver_due(time_budget=10)  # fails once more at the new URL: not given up on

    delivery = WebhookDelivery.objects.get()
    endpoint.refresh_from_db()
    assert delivery.status == "failed" and endpoint.is_active
    assert delivery.first_attempt_at > timezone.now() - datetime.timedelta(minutes=5)
    assert endpoint.failing_since == delivery.first_attempt_at


def test_the_url_query_is_redacted_in_logs_and_in_the_disabled_e_mail(receiver, endpoint_for, make_project, clock,
                                                                        caplog):
    class WithToken:
        url = receiver.url + "?token=TOPSECRET"
        secret = None

    endpoint_for(WithToken, events=["project.created"], admin_email="ops@example.org")
    receiver.script = [500] * 1000
    make_project()
    with caplog.at_level(logging.WARNING, logger="rcf.webhooks"):
        deliver_all(clock)

    assert not WebhookEndpoint.objects.get().is_active
    outbox.outbox_drain()
    assert len(mail.outbox) == 1
    assert "TOPSECRET" not in mail.outbox[0].subject + mail.outbox[0].body
    assert receiver.url + "?…" in mail.outbox[0].subject
    assert caplog.records and "TOPSECRET" not in caplog.text


def test_an_endpoint_url_with_credentials_is_refused(administrator):
    with pytest.raises(ValidationError) as refused:
        webhooks.webhook_endpoint_create(url="http://user:pw@127.0.0.1:9/hook", events=["project.created"])
    assert "user name and password" in " ".join(refused.value.message_dict["url"])


def test_an_update_that_changes_nothing_sends_nothing(receiver, endpoint_for, make_project, lead, us_lead_poc):
    from projects import services as project_services

    endpoint_for(receiver, events=["project.updated", "action.updated", "engagement.updated"])
    project = make_project()
    action = project_services.action_create(by=lead, title="Send the plan", owner=us_lead_poc, project=project,
                                            due_on=timezone.localdate() + datetime.timedelta(days=3))
    engagement = project_services.engagement_create(by=lead, date=timezone.localdate(), kind="meeting",
                                                    summary="Working-level meeting", projects=[project])

    project = project_services.project_update(project=project, by=lead)
    project = project_services.project_update(project=project, by=lead, title=project.title)
    action = project_services.action_update(action=action, by=lead, title="Send the plan")
    engagement = project_services.engagement_update(engagement=engagement, by=lead, summary="Working-level meeting")
    assert WebhookDelivery.objects.count() == 0

    project_services.project_update(project=project, by=lead, summary="Now with a Fiji module.")
    project_services.action_update(action=action, by=lead, title="Send the final plan")
    project_services.engagement_update(engagement=engagement, by=lead, location="Manila")
    assert list(WebhookDelivery.objects.order_by("id").values_list("event", flat=True)) == [
        "project.updated", "action.updated", "engagement.updated"]


def test_the_disabled_e_mail_is_retried_until_sent_in_the_recipients_language_with_the_marking(
        receiver, endpoint_for, make_project, clock, settings, rok_lead):
    from contacts.models import PointOfContact

    settings.RCF_HANDLING_MARKING = "UNCLASSIFIED"
    PointOfContact.objects.filter(user=rok_lead).update(preferred_language="ko")
    endpoint_for(receiver, events=["project.created"], by=rok_lead, admin_email="")
    assert WebhookEndpoint.objects.get().admin_email == rok_lead.email
    receiver.script = [500] * 1000
    make_project()
    deliver_all(clock)
    assert not WebhookEndpoint.objects.get().is_active

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # nothing listens: refused
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    outbox.outbox_drain()
    assert len(mail.outbox) == 0

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the mail server is back
    clock.shift(3600)
    outbox.outbox_drain()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [rok_lead.email]
    assert "웹훅" in message.subject, message.subject
    assert message.body.startswith("UNCLASSIFIED") and message.body.rstrip().endswith("UNCLASSIFIED")
    # The reason stored on the endpoint reads in the site's language.
    assert WebhookEndpoint.objects.get().disabled_reason.startswith("Disabled on ")

"""Webhooks in the admin: an administrator adds an endpoint and sees its
secret once, rotates it, reads the delivery log and redelivers."""

import pytest
from django.contrib.messages import get_messages

from rcf.models import WebhookDelivery, WebhookEndpoint

from .conftest import deliver_all

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local(settings):
    settings.RCF_WEBHOOK_REQUIRE_PUBLIC = False


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_an_administrator_adds_an_endpoint_rotates_its_secret_and_redelivers(
    client, administrator, receiver, make_project, clock
):
    client.force_login(administrator)
    response = client.post("/admin/rcf/webhookendpoint/add/", {
        "url": receiver.url, "description": "Ministry sync", "events": ["project.created", "project.updated"],
        "admin_email": "", "is_active": "on",
    }, follow=True)
    assert response.status_code == 200, response.content.decode()[:3000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["project.created", "project.updated"] and endpoint.created_by == administrator
    # Shown on the answer itself, never carried in the messages cookie across a redirect.
    assert endpoint.secret in response.content.decode()
    assert response.redirect_chain == []
    assert not any(endpoint.secret in m for m in messages_of(response))
    assert all(endpoint.secret not in morsel.value for morsel in response.cookies.values())
    assert "no-store" in response["Cache-Control"]
    page = client.get(f"/admin/rcf/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in page  # shown once only
    assert "0 deliveries" in page

    response = client.post("/admin/rcf/webhookendpoint/", {
        "action": "rotate_secret", "_selected_action": [endpoint.pk]}, follow=True)
    endpoint.refresh_from_db()
    assert endpoint.secret in response.content.decode() and response.redirect_chain == []
    assert all(endpoint.secret not in morsel.value for morsel in response.cookies.values())
    assert endpoint.previous_secret and endpoint.previous_secret_expires_at

    receiver.secret = endpoint.secret
    make_project()
    deliver_all(clock)
    delivery = WebhookDelivery.objects.get()
    log = client.get("/admin/rcf/webhookdelivery/", {"endpoint__id__exact": endpoint.pk}).content.decode()
    assert "project.created" in log and delivery.get_status_display() in log
    response = client.post("/admin/rcf/webhookdelivery/", {
        "action": "redeliver", "_selected_action": [delivery.pk]}, follow=True)
    assert response.status_code == 200
    assert WebhookDelivery.objects.get().status == "pending"
    deliver_all(clock)
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [delivery.webhook_id] * 2
    assert all(r["verified"] for r in receiver.requests)


def test_an_unsafe_url_or_no_event_is_refused_in_the_admin(client, administrator, settings):
    settings.RCF_WEBHOOK_REQUIRE_PUBLIC = True
    client.force_login(administrator)
    response = client.post("/admin/rcf/webhookendpoint/add/", {
        "url": "https://10.1.2.3/hooks", "events": [], "is_active": "on"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "10.1.2.3, a private address" in page
    assert "This field is required" in page
    assert not WebhookEndpoint.objects.exists()


def test_editors_cannot_reach_the_webhook_admin(client, editor):
    editor.is_staff = True
    editor.save()
    client.force_login(editor)
    assert client.get("/admin/rcf/webhookendpoint/").status_code == 403
    assert client.get("/admin/rcf/webhookdelivery/").status_code == 403

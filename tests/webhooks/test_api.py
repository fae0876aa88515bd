"""/api/v1/webhooks/: administrators manage endpoints; the secret is shown
once; the delivery log and "redeliver"; everyone else gets 403; bad input 400."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from rcf.models import ApiToken, WebhookDelivery, WebhookEndpoint
from scm_reports.roles import EDITOR
from tests.factories import UserFactory

from .conftest import deliver_all

pytestmark = pytest.mark.django_db
API = "/api/v1/webhooks/"


@pytest.fixture(autouse=True)
def _local(settings):
    settings.RCF_WEBHOOK_REQUIRE_PUBLIC = False
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": "100000/minute", "anon": "100000/minute"}}


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(user=user, name='tests')[1]}")
    return client


@pytest.fixture
def admin_api(administrator):
    return client_for(administrator)


def test_create_shows_the_secret_once(admin_api, administrator, receiver):
    response = admin_api.post(API, {"url": receiver.url, "events": ["project.created", "action.overdue"]},
                              format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["project.created", "action.overdue"]
    assert body["is_active"] is True and body["created_by"] == administrator.username
    assert body["admin_email"] == administrator.email
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.secret == body["secret"]

    listed = admin_api.get(API)
    one = admin_api.get(f"{API}{endpoint.pk}/")
    assert listed.status_code == one.status_code == 200
    assert body["secret"] not in listed.content.decode() and "secret" not in listed.json()[0]
    assert "secret" not in one.json() and body["secret"] not in one.content.decode()
    assert one["ETag"].startswith(f'"{endpoint.version}.')


def test_bad_input_is_refused_naming_what_is_wrong(admin_api, receiver):
    def post(data):
        response = admin_api.post(API, data, format="json")
        assert response.status_code == 400, response.content
        return response.json()

    assert "project.exploded" in post({"url": receiver.url, "events": ["project.created", "project.exploded"]})[
        "events"][0]
    assert "events" in post({"url": receiver.url, "events": []})
    assert "events" in post({"url": receiver.url, "events": "project.created"})
    assert "url" in post({"events": ["project.created"]})
    assert "url" in post({"url": "not a url", "events": ["project.created"]})
    assert "secret" in post({"url": receiver.url, "events": ["project.created"], "secret": "whsec_mine"})
    assert "colour" in post({"url": receiver.url, "events": ["project.created"], "colour": "red"})
    assert WebhookEndpoint.objects.count() == 0


def test_https_and_a_public_address_are_required_in_production(admin_api, settings):
    settings.RCF_WEBHOOK_REQUIRE_PUBLIC = True
    response = admin_api.post(API, {"url": "http://hooks.example.org/", "events": ["project.created"]},
                              format="json")
    assert response.status_code == 400 and "https" in response.json()["url"][0]
    response = admin_api.post(API, {"url": "https://127.0.0.1:9/", "events": ["project.created"]}, format="json")
    assert response.status_code == 400 and "loopback" in response.json()["url"][0]
    settings.RCF_WEBHOOK_ALLOW_PRIVATE = ["127.0.0.1"]
    response = admin_api.post(API, {"url": "https://127.0.0.1:9/", "events": ["project.created"]}, format="json")
    assert response.status_code == 201


def test_only_administrators_manage_webhooks(viewer, editor, receiver, admin_api):
    staff_editor = UserFactory(username="staff-editor", is_staff=True)
    staff_editor.groups.set([Group.objects.get(name=EDITOR)])
    created = admin_api.post(API, {"url": receiver.url, "events": ["project.created"]}, format="json").json()
    for user in (viewer, editor, staff_editor):
        client = client_for(user)
        assert client.get(API).status_code == 403
        assert client.get(f"{API}{created['id']}/").status_code == 403
        assert client.post(API, {"url": receiver.url, "events": ["project.created"]},
                           format="json").status_code == 403
        assert client.post(f"{API}{created['id']}/rotate-secret/").status_code == 403
        assert client.get(f"{API}{created['id']}/deliveries/").status_code == 403
    assert APIClient().get(API).status_code in (401, 403)
    assert WebhookEndpoint.objects.count() == 1


def test_patch_needs_the_etag_and_rotate_gives_a_new_secret(admin_api, receiver):
    created = admin_api.post(API, {"url": receiver.url, "events": ["project.created"]}, format="json").json()
    url = f"{API}{created['id']}/"
    assert admin_api.patch(url, {"events": ["project.updated"]}, format="json").status_code == 428
    assert admin_api.patch(url, {"events": ["project.updated"]}, format="json",
                           HTTP_IF_MATCH='"7"').status_code == 412
    etag = admin_api.get(url)["ETag"]
    response = admin_api.patch(url, {"events": ["project.updated", "project.created"], "is_active": False},
                               format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content
    assert response.json()["events"] == ["project.created", "project.updated"]  # in the documented order
    assert response.json()["is_active"] is False
    bad = admin_api.patch(url, {"events": ["nope"]}, format="json", HTTP_IF_MATCH=response["ETag"])
    assert bad.status_code == 400 and "nope" in bad.json()["events"][0]

    rotated = admin_api.post(f"{url}rotate-secret/")
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != created["secret"]
    assert rotated.json()["secret_rotation_ends_at"] is not None
    assert "secret" not in admin_api.get(url).json()

    assert admin_api.delete(url).status_code == 428
    assert admin_api.delete(url, HTTP_IF_MATCH=admin_api.get(url)["ETag"]).status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_and_redeliver(admin_api, receiver, make_project, clock):
    created = admin_api.post(API, {"url": receiver.url, "events": ["project.created"]}, format="json").json()
    receiver.secret = created["secret"]
    receiver.script = [500]
    make_project()
    deliver_all(clock)
    log = admin_api.get(f"{API}{created['id']}/deliveries/")
    assert log.status_code == 200
    [row] = log.json()["results"]
    assert row["status"] == "delivered" and row["attempts"] == 2 and row["response_code"] == 200
    assert row["event"] == "project.created" and row["duration_ms"] is not None
    assert row["webhook_id"] == receiver.requests[0]["headers"]["webhook-id"]

    again = admin_api.post(f"{API}{created['id']}/deliveries/{row['id']}/redeliver/")
    assert again.status_code == 202 and again.json()["status"] == "pending"
    assert len(receiver.requests) == 2  # nothing is sent by the request itself
    deliver_all(clock)
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [row["webhook_id"]] * 3
    assert all(r["verified"] for r in receiver.requests)
    assert WebhookDelivery.objects.get().status == "delivered"
    assert admin_api.post(f"{API}{created['id']}/deliveries/999999/redeliver/").status_code == 404

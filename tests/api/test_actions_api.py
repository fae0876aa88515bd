"""/api/v1/actions/: the action item resource (token auth, ETag/If-Match,
filters, sync feed with tombstones, external_id, the same rules as the pages)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import services
from projects.models import ActionItem
from rcf.selectors import framework_today
from tests.factories import EngagementFactory, PointOfContactFactory, ProjectFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/actions/"
DAY = datetime.timedelta(days=1)
FIELDS = {"id", "external_id", "title", "description", "owner", "project", "engagement", "due_on", "status",
          "done_on", "version", "created_at", "updated_at"}


def ids(response):
    assert response.status_code == 200, response.json()
    return [r["id"] for r in response.json()["results"]]


def test_create_read_update_done_and_delete(api_client, editor):
    owner = PointOfContactFactory()
    project = ProjectFactory(start_date=datetime.date(2026, 3, 1))
    engagement = EngagementFactory(projects=[project])
    client = api_client(editor)
    response = client.post(URL, {"external_id": "mtg-1", "title": "Send the plan", "owner": owner.pk,
                                 "engagement": engagement.pk, "due_on": "2026-03-16"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == FIELDS
    assert (body["owner"], body["project"], body["status"], body["done_on"], body["version"]) == (
        owner.pk, project.pk, "open", None, 1)  # the engagement's only project
    assert response["ETag"].startswith('"1.') and response["Location"].endswith(f"{URL}{body['id']}/")
    detail = f"{URL}{body['id']}/"
    assert client.get(detail).json() == body

    assert client.patch(detail, {"status": "done"}, format="json").status_code == 428  # If-Match required
    response = client.patch(detail, {"status": "done"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["done_on"]) == ("done", framework_today().isoformat())
    stale = client.patch(detail, {"title": "Stale"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412 and stale.json()["current"]["version"] == 2

    duplicate = client.post(URL, {"external_id": "mtg-1", "title": "Again", "owner": owner.pk,
                                  "due_on": "2026-03-16"}, format="json")
    assert duplicate.status_code == 409 and duplicate.json()["id"] == body["id"]

    assert client.delete(detail, HTTP_IF_MATCH='"2"').status_code == 204
    assert client.get(detail).status_code == 404
    assert ActionItem.all_objects.get(pk=body["id"]).deleted_at is not None


def test_bad_input_names_the_field_and_saves_nothing(api_client, editor):
    project = ProjectFactory(start_date=datetime.date(2026, 3, 1))
    client = api_client(editor)
    inactive = PointOfContactFactory(active=False)
    response = client.post(URL, {"title": "x", "owner": inactive.pk, "due_on": "2026-03-16"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["owner"]
    response = client.post(URL, {"title": "x", "owner": PointOfContactFactory().pk, "project": project.pk,
                                 "due_on": "2026-02-01"}, format="json")
    assert response.status_code == 400 and "due_on" in response.json()
    response = client.post(URL, {"title": "x", "owner": PointOfContactFactory().pk, "due_on": "2026-03-01",
                                 "status": "finished"}, format="json")
    assert response.status_code == 400 and "status" in response.json()
    response = client.post(URL, {"title": "x", "owner": PointOfContactFactory().pk, "due_on": "2026-03-01",
                                 "colour": "red"}, format="json")
    assert response.status_code == 400 and "colour" in response.json()
    assert not ActionItem.all_objects.exists()


def test_a_viewer_reads_but_cannot_write(api_client, viewer):
    action = services.action_create(title="Call", owner=PointOfContactFactory(), due_on=framework_today())
    client = api_client(viewer)
    assert ids(client.get(URL)) == [action.pk]
    response = client.patch(f"{URL}{action.pk}/", {"status": "done"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 403
    assert ActionItem.objects.get(pk=action.pk).status == "open"


def test_filters(api_client, viewer):
    today = framework_today()
    us, rok = PointOfContactFactory(side="us"), PointOfContactFactory(side="rok")
    project = ProjectFactory()
    engagement = EngagementFactory(projects=[project])
    late = services.action_create(title="late", owner=us, project=project, due_on=today - DAY)
    soon = services.action_create(title="soon", owner=rok, engagement=engagement, due_on=today + 3 * DAY)
    done = services.action_create(title="done", owner=us, due_on=today - 5 * DAY, status="done")
    client = api_client(viewer)
    assert ids(client.get(URL, {"owner": us.pk})) == [done.pk, late.pk]
    assert ids(client.get(URL, {"side": "rok"})) == [soon.pk]
    assert ids(client.get(URL, {"project": project.pk})) == [late.pk, soon.pk]
    assert ids(client.get(URL, {"engagement": engagement.pk})) == [soon.pk]
    assert ids(client.get(URL, {"status": "done"})) == [done.pk]
    assert ids(client.get(URL, {"due_after": today.isoformat()})) == [soon.pk]
    assert ids(client.get(URL, {"due_before": (today - DAY).isoformat()})) == [done.pk, late.pk]
    assert ids(client.get(URL, {"overdue": "true"})) == [late.pk]
    assert ids(client.get(URL, {"overdue": "false"})) == [done.pk, soon.pk]
    assert client.get(URL, {"due_before": "tomorrow"}).status_code == 400
    assert client.get(URL, {"status": "finished"}).status_code == 400


# Committed writes: on PostgreSQL the feed never hands out rows of a transaction still running.
@pytest.mark.django_db(transaction=True)
def test_sync_feed_carries_changes_and_tombstones(api_client, editor):
    from .conftest import settle

    owner = PointOfContactFactory()
    client = api_client(editor)
    first = services.action_create(title="one", owner=owner, due_on=framework_today(), external_id="ext-1")
    settle()
    feed = client.get(URL, {"since": ""}).json()
    assert [r["id"] for r in feed["results"]] == [first.pk]
    services.action_delete(action=first)
    second = services.action_create(title="two", owner=owner, due_on=framework_today())
    settle()
    feed = client.get(URL, {"since": feed["cursor"]}).json()
    assert feed["results"][0] == {"id": first.pk, "external_id": "ext-1", "deleted": True,
                                  "deleted_at": feed["results"][0]["deleted_at"]}
    assert feed["results"][1]["id"] == second.pk


def test_in_the_openapi_schema(api_client, viewer):
    schema = api_client(viewer).get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/actions/" in schema["paths"] and "/api/v1/actions/{id}/" in schema["paths"]
    properties = schema["components"]["schemas"]["ActionItem"]["properties"]
    assert FIELDS <= set(properties)
    names = {p["name"] for p in schema["paths"]["/api/v1/actions/"]["get"]["parameters"]}
    assert {"owner", "project", "engagement", "status", "due_before", "due_after", "overdue", "since"} <= names


def test_list_query_count_is_the_same_for_10_and_1000_actions(api_client, viewer):
    owner = PointOfContactFactory()
    project = ProjectFactory()
    client = api_client(viewer)
    counts = []
    for total in (10, 1000):
        ActionItem.objects.all().delete()
        ActionItem.objects.bulk_create([ActionItem(title=f"a{n}", owner=owner, project=project,
                                                   due_on=datetime.date(2026, 1, 1) + datetime.timedelta(n % 300))
                                        for n in range(total)])
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"page_size": 1000})
        assert response.status_code == 200
        assert len(response.json()["results"]) == total
        counts.append(len(queries))
    assert counts[0] == counts[1]

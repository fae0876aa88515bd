"""The progress-updates and milestones resources of the sync API (issue 11):
the same rules as the pages, token auth and roles, ETag/If-Match, sync with
tombstones, external_id, filters, OpenAPI; list and feed query counts do not
grow with the data."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import services
from projects.models import CooperativeProject, Milestone, ProgressUpdate
from tests.factories import ProjectFactory, area

from .conftest import settle

D = datetime.date
TODAY = D(2026, 9, 1)
NOW = datetime.datetime(2026, 9, 1, 0, 0, tzinfo=datetime.UTC)  # 09:00 in Seoul
API = "/api/v1"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def implementing(**fields):
    return ProjectFactory(status="in_implementation", ready_on=D(2025, 10, 1), **fields)


def ids(response):
    assert response.status_code == 200, response.json()
    return sorted(r["id"] for r in response.json()["results"])


@pytest.mark.django_db
def test_post_an_update_and_read_it_back(api_client, editor):
    project = implementing()
    client = api_client(editor)
    response = client.post(f"{API}/progress-updates/", {
        "external_id": "q3-report", "project": project.pk, "date": "2026-08-31", "health": "at_risk",
        "narrative": "Trainers not yet named.", "next_steps": "Ask the ministry."}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "external_id", "project", "date", "health", "narrative", "next_steps", "version",
                         "created_at", "updated_at"}
    assert (body["project"], body["health"], body["version"]) == (project.pk, "at_risk", 1)
    assert response["ETag"].startswith('"1.') and response["Location"].endswith(f"/progress-updates/{body['id']}/")
    assert ProgressUpdate.objects.get().created_by == editor
    # The same external_id again: 409 naming the record, never a duplicate.
    again = client.post(f"{API}/progress-updates/", {
        "external_id": "q3-report", "project": project.pk, "date": "2026-08-31", "health": "at_risk",
        "narrative": "Retry."}, format="json")
    assert again.status_code == 409 and again.json()["id"] == body["id"]
    assert ProgressUpdate.objects.count() == 1


@pytest.mark.django_db
def test_bad_input_names_each_field(api_client, editor):
    client = api_client(editor)
    concept = ProjectFactory(status="concept")
    response = client.post(f"{API}/progress-updates/", {
        "project": concept.pk, "date": "2026-09-02", "health": "on_track", "narrative": "Early."}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert "in implementation" in errors["project"][0]
    assert "after today (2026-09-01)" in errors["date"][0]
    response = client.post(f"{API}/progress-updates/", {
        "project": implementing().pk, "date": "2026-08-01", "health": "green", "narrative": "X"}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"health"}
    response = client.post(f"{API}/progress-updates/", {
        "project": implementing().pk, "date": "2026-08-01", "health": "on_track", "narrative": "X", "colour": "red"},
        format="json")
    assert response.status_code == 400 and response.json() == {"colour": ["Unknown field."]}
    project = implementing(start_date=D(2026, 3, 1))
    response = client.post(f"{API}/milestones/", {"project": project.pk, "title": "Kick-off",
                                                  "due_on": "2026-02-01", "done_on": "2026-09-05"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "due_on": ["The due date cannot be before the project's start (2026-03-01)."],
        "done_on": ["The done date cannot be after today (2026-09-01)."],
    }
    assert not ProgressUpdate.all_objects.exists() and not Milestone.all_objects.exists()


@pytest.mark.django_db
def test_a_viewer_reads_but_cannot_write(api_client, viewer):
    project = implementing()
    services.progress_update_create(project=project, date=TODAY, health="on_track", narrative="X", today=TODAY)
    client = api_client(viewer)
    assert client.get(f"{API}/progress-updates/").status_code == 200
    assert client.post(f"{API}/progress-updates/", {"project": project.pk, "date": "2026-08-01",
                                                    "health": "on_track", "narrative": "X"},
                       format="json").status_code == 403
    assert client.post(f"{API}/milestones/", {"project": project.pk, "title": "M", "due_on": "2026-10-01"},
                       format="json").status_code == 403
    assert ProgressUpdate.objects.count() == 1 and not Milestone.objects.exists()


@pytest.mark.django_db
def test_mark_a_milestone_done_with_if_match(api_client, editor):
    milestone = services.milestone_create(project=implementing(), title="Course held", due_on=D(2026, 8, 15),
                                          today=TODAY)
    client = api_client(editor)
    url = f"{API}/milestones/{milestone.pk}/"
    assert client.patch(url, {"done_on": "2026-08-31"}, format="json").status_code == 428
    stale = client.patch(url, {"done_on": "2026-08-31"}, format="json", HTTP_IF_MATCH='"9"')
    assert stale.status_code == 412 and stale.json()["current"]["done_on"] is None
    done = client.patch(url, {"done_on": "2026-08-31"}, format="json", HTTP_IF_MATCH='"1"')
    assert done.status_code == 200 and done.json()["done_on"] == "2026-08-31" and done["ETag"].startswith('"2.')
    moved = client.patch(url, {"project": implementing().pk}, format="json", HTTP_IF_MATCH='"2"')
    assert moved.status_code == 400 and "stays with its project" in moved.json()["project"][0]


@pytest.mark.django_db
def test_filters(api_client, viewer):
    one, two = implementing(title="One"), implementing(title="Two")
    a = services.progress_update_create(project=one, date=D(2026, 8, 1), health="at_risk", narrative="A",
                                        today=TODAY)
    b = services.progress_update_create(project=two, date=D(2026, 8, 20), health="on_track", narrative="B",
                                        today=TODAY)
    late = services.milestone_create(project=one, title="Late", due_on=D(2026, 8, 31), today=TODAY)
    due_today = services.milestone_create(project=one, title="Today", due_on=TODAY, today=TODAY)
    done = services.milestone_create(project=two, title="Done", due_on=D(2026, 8, 1), done_on=D(2026, 8, 2),
                                     today=TODAY)
    client = api_client(viewer)
    assert ids(client.get(f"{API}/progress-updates/", {"project": one.pk})) == [a.pk]
    assert ids(client.get(f"{API}/progress-updates/", {"health": "on_track"})) == [b.pk]
    assert ids(client.get(f"{API}/progress-updates/", {"date_from": "2026-08-10"})) == [b.pk]
    assert client.get(f"{API}/progress-updates/", {"health": "green"}).status_code == 400
    assert ids(client.get(f"{API}/milestones/", {"overdue": "true"})) == [late.pk]
    assert ids(client.get(f"{API}/milestones/", {"overdue": "false"})) == sorted([due_today.pk, done.pk])
    assert ids(client.get(f"{API}/milestones/", {"done": "true"})) == [done.pk]
    assert ids(client.get(f"{API}/milestones/", {"done": "false", "project": one.pk})) == sorted(
        [late.pk, due_today.pk])


@pytest.mark.django_db(transaction=True)
def test_sync_feed_reports_changes_and_tombstones(api_client, editor):
    project = implementing()
    client = api_client(editor)
    for resource, payload in (
        ("progress-updates", {"project": project.pk, "date": "2026-08-01", "health": "on_track", "narrative": "X",
                              "external_id": "u-1"}),
        ("milestones", {"project": project.pk, "title": "M", "due_on": "2026-10-01", "external_id": "m-1"}),
    ):
        created = client.post(f"{API}/{resource}/", payload, format="json").json()
        settle()
        first = client.get(f"{API}/{resource}/", {"since": ""}).json()
        assert [r["id"] for r in first["results"]] == [created["id"]]
        assert client.delete(f"{API}/{resource}/{created['id']}/", HTTP_IF_MATCH='"1"').status_code == 204
        settle()
        second = client.get(f"{API}/{resource}/", {"since": first["cursor"]}).json()
        assert second["results"] == [{"id": created["id"], "external_id": payload["external_id"], "deleted": True,
                                      "deleted_at": second["results"][0]["deleted_at"]}]
        assert client.get(f"{API}/{resource}/{created['id']}/").status_code == 404


@pytest.mark.django_db
def test_the_schema_documents_both_resources(api_client, viewer):
    schema = api_client(viewer).get(f"{API}/schema/", {"format": "json"}).json()
    for path in ("/api/v1/progress-updates/", "/api/v1/progress-updates/{id}/", "/api/v1/milestones/",
                 "/api/v1/milestones/{id}/"):
        assert path in schema["paths"]
    components = schema["components"]["schemas"]
    assert set(components["ProgressUpdate"]["properties"]) == {
        "id", "external_id", "project", "date", "health", "narrative", "next_steps", "version", "created_at",
        "updated_at"}
    assert {"title", "due_on", "done_on"} <= set(components["Milestone"]["properties"])
    parameters = {p["name"] for p in schema["paths"]["/api/v1/milestones/"]["get"]["parameters"]}
    assert {"project", "overdue", "done", "since"} <= parameters
    parameters = {p["name"] for p in schema["paths"]["/api/v1/progress-updates/"]["get"]["parameters"]}
    assert {"project", "health", "since"} <= parameters
    assert "409" in schema["paths"]["/api/v1/progress-updates/"]["post"]["responses"]


# --- Query counts: 10 vs 1,000 records ----------------------------------------------------------


def _bulk(count, start=0):
    projects = CooperativeProject.objects.bulk_create(
        CooperativeProject(title=f"Bulk {start + n}", priority_area=area(), lead_side="joint",
                           status="in_implementation", ready_on=D(2025, 10, 1)) for n in range(count))
    ProgressUpdate.objects.bulk_create(
        ProgressUpdate(project=p, date=TODAY - datetime.timedelta(days=n % 100), health="at_risk",
                       narrative="Bulk.", external_id=f"u-{start + n}") for n, p in enumerate(projects))
    Milestone.objects.bulk_create(
        Milestone(project=p, title=f"M {start + n}", due_on=TODAY - datetime.timedelta(days=n % 20 - 10))
        for n, p in enumerate(projects))


def _queries(client, url, params):
    settle()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured), response.json()["results"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("resource", ["progress-updates", "milestones"])
@pytest.mark.parametrize("mode", ["list", "sync feed", "filtered list"])
def test_a_page_costs_the_same_queries_for_10_and_1000_records(api_client, viewer, resource, mode):
    params = {
        "list": {"page_size": 1000},
        "sync feed": {"since": "", "page_size": 1000},
        # A filter that keeps every record.
        "filtered list": {"page_size": 1000, **({"health": "at_risk"} if resource == "progress-updates"
                                                else {"done": "false"})},
    }[mode]
    client = api_client(viewer)
    _bulk(10)
    few, results = _queries(client, f"{API}/{resource}/", params)
    assert len(results) == 10
    _bulk(990, start=10)
    many, results = _queries(client, f"{API}/{resource}/", params)
    assert len(results) == 1000
    assert many == few

"""Acceptance, through real HTTP against a live server: a client does a full
sync; another client creates, changes and deletes records; the first
client's incremental sync then reproduces the server's data exactly,
tombstones included."""

import pytest

from contacts.models import Organization, PointOfContact
from contacts.serializers import OrganizationSerializer, PointOfContactSerializer
from projects import services as project_services
from projects.models import CooperativeProject, Engagement
from projects.serializers import EngagementSerializer, ProjectSerializer
from scm_reports.models import SCMCycle
from scm_reports.serializers import SCMCycleSerializer
from tests.factories import EngagementFactory, OrganizationFactory, PointOfContactFactory

from .conftest import SyncClient, settle

pytestmark = pytest.mark.django_db(transaction=True)

RESOURCES = {
    "projects": (CooperativeProject, ProjectSerializer),
    "organizations": (Organization, OrganizationSerializer),
    "contacts": (PointOfContact, PointOfContactSerializer),
    "engagements": (Engagement, EngagementSerializer),
    "scm-cycles": (SCMCycle, SCMCycleSerializer),
}


def server_state(resource):
    """What the database holds, as DRF's own serializer represents it."""
    model, serializer = RESOURCES[resource]
    live = {obj.pk: dict(serializer(obj).data) for obj in model.objects.all()}
    deleted = dict(model.all_objects.filter(deleted_at__isnull=False).values_list("pk", "deleted_at"))
    return live, deleted


def matches_server(client: SyncClient) -> bool:
    live, deleted = server_state(client.resource)
    return client.records == live and set(client.tombstones) == set(deleted)


def test_incremental_sync_reproduces_the_server_exactly(http, viewer, lead, administrator, make_project, advance):
    # What exists before the first client's full sync, a deletion included.
    projects = [make_project(title=f"Project {n}", external_id=f"mnd-{n}") for n in range(5)]
    advance(projects[1], "under_review")
    project_services.project_soft_delete(project=projects[4], by=lead)
    yard = OrganizationFactory(side="industry", name="Shipyard")
    poc = PointOfContactFactory(side="us", full_name="Alex Morgan")
    engagement = EngagementFactory(projects=[projects[0]])

    reader = http(viewer, read_only=True)
    clients = {resource: SyncClient(reader, resource) for resource in RESOURCES}
    settle()
    for client in clients.values():
        client.sync_until(matches_server)
        assert matches_server(client), client.resource
    assert clients["projects"].pages >= 2  # page_size 3: the full sync really paged

    # Another system writes, through the API.
    writer = http(lead)
    etag = writer.get(f"/api/v1/projects/{projects[0].pk}/").headers["ETag"]
    assert writer.patch(f"/api/v1/projects/{projects[0].pk}/", json={"summary": "Changed", "partner_countries": [
        "VN", "FJ"]}, headers={"If-Match": etag}).status_code == 200
    assert writer.delete(f"/api/v1/projects/{projects[2].pk}/", headers={"If-Match": '"1"'}).status_code == 204
    created = writer.post("/api/v1/projects/", json={
        "title": "New from the other ministry", "priority_area": "information-sharing", "lead_side": "rok",
        "external_id": "kida-1", "partner_countries": ["TL"]})
    assert created.status_code == 201
    assert writer.post(f"/api/v1/projects/{projects[3].pk}/transition/", json={"to": "under_review"}).status_code \
        == 200
    assert writer.put(f"/api/v1/organizations/{yard.pk}/", json={"name": "Shipyard Ltd", "side": "industry"},
                      headers={"If-Match": '"1"'}).status_code == 200
    assert writer.patch(f"/api/v1/contacts/{poc.pk}/", json={"priority_areas": ["maritime-security"]},
                        headers={"If-Match": '"1"'}).status_code == 200
    assert writer.delete(f"/api/v1/engagements/{engagement.pk}/", headers={"If-Match": '"1"'}).status_code == 204
    new_engagement = writer.post("/api/v1/engagements/", json={
        "projects": [created.json()["id"], projects[1].pk], "date": "2026-03-02", "kind": "call",
        "summary": "Kick-off", "participants": [poc.pk],
        "other_participants": [{"name": "Maria Santos", "organization": "Philippine Coast Guard"}]})
    assert new_engagement.status_code == 201
    admin = http(administrator)
    assert admin.post(f"/api/v1/projects/{projects[4].pk}/restore/").status_code == 200
    cycle = admin.post("/api/v1/scm-cycles/", json={"number": 59, "meeting_date": "2027-10-20"})
    assert cycle.status_code == 201

    changed = {
        "projects": {projects[0].pk, projects[2].pk, created.json()["id"], projects[3].pk, projects[4].pk},
        "organizations": {yard.pk},
        "contacts": {poc.pk},
        "engagements": {engagement.pk, new_engagement.json()["id"]},
        "scm-cycles": {cycle.json()["id"]},
    }
    settle()
    for resource, client in clients.items():
        changes = client.sync_until(matches_server)
        assert matches_server(client), resource
        # Only what changed came down (each record once: the feed holds its latest state).
        assert sorted(c["id"] for c in changes) == sorted(changed[resource]), resource
    # The details a client would notice.
    assert clients["projects"].records[projects[0].pk]["summary"] == "Changed"
    assert projects[2].pk in clients["projects"].tombstones
    assert projects[4].pk in clients["projects"].records and projects[4].pk not in clients["projects"].tombstones
    assert engagement.pk in clients["engagements"].tombstones

    # A fresh full sync agrees with the incremental one, tombstones included.
    for resource, client in clients.items():
        fresh = SyncClient(http(viewer), resource, page_size=1000)
        fresh.sync()
        assert fresh.records == client.records
        assert fresh.tombstones == client.tombstones


def test_next_links_carry_the_page_size(http, viewer, make_project):
    for n in range(4):
        make_project(title=f"P{n}")
    session = http(viewer)
    settle()
    first = session.get("/api/v1/projects/", params={"since": "", "page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = session.get(first["next"]).json()
    assert len(second["results"]) == 2
    assert [r["id"] for r in first["results"] + second["results"]] == sorted(
        CooperativeProject.objects.values_list("pk", flat=True))

"""The incremental sync feed (GET …/?since=<cursor>), in process: order,
paging, tombstones, cursors, and what it refuses."""

import datetime
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from projects import services as project_services
from projects.models import CooperativeProject
from rcf.api import SyncFeed
from tests.factories import OrganizationFactory

from .conftest import settle

# Committed writes: on PostgreSQL the feed never hands out rows of a
# transaction still running, and a test's own wrapping transaction is one.
pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/projects/"


def feed(client, cursor="", url=URL, **params):
    """Every page from ``cursor``: (items, last cursor, pages)."""
    items, pages = [], 0
    settle()
    response = client.get(url, {"since": cursor, **params})
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        items += body["results"]
        pages += 1
        if body["next"] is None:
            return items, body["cursor"], pages
        assert parse_qs(urlparse(body["next"]).query)["since"] == [body["cursor"]]
        response = client.get(body["next"])


def test_a_full_sync_pages_through_everything_in_change_order(api_client, viewer, make_project, lead):
    projects = [make_project(title=f"P{n}", external_id=f"e{n}") for n in range(7)]
    project_services.project_update(project=projects[0], by=lead, title="P0 renamed")  # changed last
    items, cursor, pages = feed(api_client(viewer), page_size=3)
    assert pages == 3
    assert [i["id"] for i in items] == [p.pk for p in projects[1:]] + [projects[0].pk]
    assert items[-1]["title"] == "P0 renamed"
    # Nothing changed since: the next sync is empty and keeps the position.
    again, _cursor, _pages = feed(api_client(viewer), cursor)
    assert again == []


def test_changes_deletions_and_restores_after_the_cursor(api_client, viewer, lead, administrator, make_project):
    keep, edit, drop, relink = (make_project(title=t, external_id=t) for t in ("keep", "edit", "drop", "relink"))
    client = api_client(viewer)
    _items, cursor, _pages = feed(client)

    project_services.project_update(project=edit, by=lead, summary="Edited")
    project_services.project_soft_delete(project=drop, by=lead)
    project_services.project_update(project=relink, by=lead, partner_countries=["VN", "FJ"])  # m2m only
    created = make_project(title="created", external_id="created")

    items, cursor, _pages = feed(client, cursor)
    by_id = {i["id"]: i for i in items}
    assert [i["id"] for i in items] == [edit.pk, drop.pk, relink.pk, created.pk]
    assert keep.pk not in by_id
    assert by_id[edit.pk]["summary"] == "Edited"
    assert sorted(by_id[relink.pk]["partner_countries"]) == ["FJ", "VN"]
    deleted_at = CooperativeProject.all_objects.get(pk=drop.pk).deleted_at
    assert by_id[drop.pk] == {
        "id": drop.pk, "external_id": "drop", "deleted": True,
        "deleted_at": deleted_at.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
    }

    project_services.project_restore(project=CooperativeProject.all_objects.get(pk=drop.pk), by=administrator)
    items, _cursor, _pages = feed(client, cursor)
    assert [(i["id"], i.get("deleted", False)) for i in items] == [(drop.pk, False)]
    assert items[0]["title"] == "drop"


def test_every_writable_resource_has_a_feed_with_tombstones(api_client, lead, administrator):
    organization = OrganizationFactory(side="industry", name="Yard")
    client = api_client(administrator)
    for resource in ("organizations", "contacts", "engagements", "scm-cycles"):
        assert client.get(f"/api/v1/{resource}/", {"since": ""}).status_code == 200
    _items, cursor, _pages = feed(client, url="/api/v1/organizations/")
    client.delete(f"/api/v1/organizations/{organization.pk}/", HTTP_IF_MATCH='"1"')
    items, _cursor, _pages = feed(client, cursor, url="/api/v1/organizations/")
    assert items == [
        {"id": organization.pk, "external_id": None, "deleted": True, "deleted_at": items[0]["deleted_at"]}
    ]


def test_a_forged_or_foreign_cursor_is_400(api_client, viewer, make_project):
    make_project()
    client = api_client(viewer)
    _items, cursor, _pages = feed(client)
    for bad in ("garbage", cursor[:-2] + "xx", "WzEsMV0"):
        response = client.get(URL, {"since": bad})
        assert response.status_code == 400
        assert "since" in response.json()
    # A projects cursor means nothing for organisations.
    assert client.get("/api/v1/organizations/", {"since": cursor}).status_code == 400


def test_a_cursor_older_than_the_retention_is_410(api_client, viewer, make_project, settings):
    make_project()
    client = api_client(viewer)
    _items, cursor, _pages = feed(client)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=settings.RCF_SYNC_TOMBSTONE_RETENTION_DAYS - 1)):
        assert client.get(URL, {"since": cursor}).status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(days=settings.RCF_SYNC_TOMBSTONE_RETENTION_DAYS + 1)):
        response = client.get(URL, {"since": cursor})
    assert response.status_code == 410
    assert "in full" in response.json()["detail"]


def test_filters_are_refused_with_since(api_client, viewer):
    response = api_client(viewer).get(URL, {"since": "", "status": "ready", "page": 2})
    assert response.status_code == 400
    assert set(response.json()) == {"status", "page"}


def test_each_answer_renews_the_cursor_so_a_regular_client_never_expires(api_client, viewer, make_project, settings):
    make_project()
    client = api_client(viewer)
    _items, cursor, _pages = feed(client)
    step = datetime.timedelta(days=settings.RCF_SYNC_TOMBSTONE_RETENTION_DAYS - 10)
    with time_machine.travel(timezone.now() + step):
        _items, cursor, _pages = feed(client, cursor)
    with time_machine.travel(timezone.now() + 2 * step):
        assert client.get(URL, {"since": cursor}).status_code == 200


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Isolation levels are PostgreSQL's; SQLite reads "
                    "inside one IMMEDIATE transaction, which is already one snapshot.")
def test_a_read_sees_one_snapshot_and_a_write_waits_for_concurrent_writers(api_client, viewer, lead, make_project,
                                                                         monkeypatch):
    """A feed page and its many-to-many values come from one snapshot
    (REPEATABLE READ); writes run READ COMMITTED, where the conditional
    UPDATE of claim_version sees a concurrent writer's version."""
    project = make_project()
    seen = []

    def isolation():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')")
            seen.append(cursor.fetchone())

    read, claim = SyncFeed._page, project_services.claim_version
    monkeypatch.setattr(SyncFeed, "_page", lambda self, *a: isolation() or read(self, *a))
    monkeypatch.setattr(project_services, "claim_version", lambda **kw: isolation() or claim(**kw))
    assert api_client(viewer).get(URL, {"since": ""}).status_code == 200
    assert api_client(lead).patch(f"{URL}{project.pk}/", {"title": "x"}, HTTP_IF_MATCH='"1"').status_code == 200
    assert seen == [("repeatable read", "on"), ("read committed", "off")]

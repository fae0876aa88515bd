"""Issue 14: a project keeps its latest live progress update's health and date
(``current_health``, ``current_health_on``) in its own row, so the dashboard's
"projects in implementation" panel reads an index. The columns follow every
way the services change an update, and nothing else writes them back."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import selectors, services
from projects.models import CooperativeProject, ProgressUpdate
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 9, 1)


def implementing(**fields):
    return ProjectFactory(status="in_implementation", ready_on=D(2025, 10, 1), **fields)


def post(project, day, health):
    return services.progress_update_create(project=project, date=day, health=health, narrative="Report.",
                                           today=TODAY)


def columns(project):
    return tuple(CooperativeProject.all_objects.filter(pk=project.pk)
                 .values_list("current_health", "current_health_on").get())


def from_scratch(project):
    """The latest live update, by date then id, read from the updates themselves."""
    latest = ProgressUpdate.objects.filter(project=project).order_by("-date", "-id").first()
    return (latest.health, latest.date) if latest else (None, None)


def test_the_latest_health_follows_every_update_path():
    project = implementing()
    assert columns(project) == (None, None)
    first = post(project, D(2026, 8, 1), "at_risk")
    assert columns(project) == ("at_risk", D(2026, 8, 1)) == from_scratch(project)
    # An older update posted after a newer one does not become the latest.
    older = post(project, D(2026, 6, 1), "off_track")
    assert columns(project) == ("at_risk", D(2026, 8, 1)) == from_scratch(project)
    newer = post(project, D(2026, 8, 20), "on_track")
    assert columns(project) == ("on_track", D(2026, 8, 20)) == from_scratch(project)
    # Editing the date moves an update behind another; editing the health changes the latest health.
    services.progress_update_update(update=newer, date=D(2026, 7, 1), today=TODAY)
    assert columns(project) == ("at_risk", D(2026, 8, 1)) == from_scratch(project)
    services.progress_update_update(update=first, health="off_track", today=TODAY)
    assert columns(project) == ("off_track", D(2026, 8, 1)) == from_scratch(project)
    # Deleting the latest leaves the one before it; restoring brings it back.
    first.refresh_from_db()
    services.progress_update_delete(update=first)
    assert columns(project) == ("on_track", D(2026, 7, 1)) == from_scratch(project)
    services.progress_update_restore(update=first)
    assert columns(project) == ("off_track", D(2026, 8, 1)) == from_scratch(project)
    # Same day: the later update (higher id) is the latest.
    same_day = post(project, D(2026, 8, 1), "on_track")
    assert columns(project) == ("on_track", D(2026, 8, 1)) == from_scratch(project)
    for update in (same_day, first, older):
        update.refresh_from_db()
        services.progress_update_delete(update=update)
    newer.refresh_from_db()
    services.progress_update_delete(update=newer)
    assert columns(project) == (None, None) == from_scratch(project)


def test_a_project_saved_from_an_older_copy_keeps_the_latest_health():
    project = implementing()
    stale_copy = CooperativeProject.objects.get(pk=project.pk)  # read before the update is posted
    post(project, D(2026, 8, 1), "off_track")
    services.project_update(project=stale_copy, title="Renamed")
    assert columns(project) == ("off_track", D(2026, 8, 1))
    assert CooperativeProject.objects.get(pk=project.pk).title == "Renamed"


def test_the_rebuild_repairs_rows_written_around_the_services():
    kept, cleared = implementing(), implementing()
    post(kept, D(2026, 8, 1), "at_risk")
    ProgressUpdate.objects.bulk_create([ProgressUpdate(project=kept, date=D(2026, 8, 5), health="on_track",
                                                       narrative="Bulk.")])
    CooperativeProject.objects.filter(pk=cleared.pk).update(current_health="at_risk",
                                                            current_health_on=D(2026, 1, 1))
    services.current_health_rebuild()
    assert columns(kept) == ("on_track", D(2026, 8, 5)) == from_scratch(kept)
    assert columns(cleared) == (None, None)


def test_the_panel_lists_at_most_the_limit_per_group_oldest_update_first_in_one_query():
    for n in range(4):
        post(implementing(title=f"Risky {n}"), D(2026, 8, 1) - datetime.timedelta(days=n * 50), "at_risk")
    post(implementing(title="Fine"), D(2026, 8, 30), "on_track")
    implementing(title="Not yet B")
    implementing(title="Not yet A")
    ProjectFactory(title="Concept", status="concept")
    counts = selectors.health_group_counts(projects=CooperativeProject.objects.all(), today=TODAY)
    with CaptureQueriesContext(connection) as queries:
        panel = selectors.implementation_by_health(projects=CooperativeProject.objects.all(), today=TODAY, limit=2,
                                                   counts=counts)
    assert len(queries) == 1  # the names of every group; the counts came from the caller
    groups = {g["key"]: g for g in panel["groups"]}
    assert [p.title for p in groups["at_risk"]["projects"]] == ["Risky 3", "Risky 2"]  # stale, oldest first
    assert (groups["at_risk"]["count"], groups["at_risk"]["more"], groups["at_risk"]["stale"]) == (4, 2, 2)
    assert [p.title for p in groups["on_track"]["projects"]] == ["Fine"]
    assert [p.title for p in groups["none"]["projects"]] == ["Not yet A", "Not yet B"]
    assert all(p.stale for p in groups["none"]["projects"]) and groups["off_track"]["projects"] == []
    assert panel["total"] == 7 and panel["stale"] == 4

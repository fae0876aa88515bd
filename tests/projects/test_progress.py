"""Progress updates, health and milestones (issue 11): the rules of the
services, the health grouping with stale projects, and "health worsened"."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import selectors, services
from projects.models import CooperativeProject, Milestone, ProgressUpdate
from rcf.services import VersionConflict
from tests.factories import ProgressUpdateFactory, ProjectFactory, area

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 9, 1)


def implementing(**fields):
    return ProjectFactory(status="in_implementation", ready_on=D(2025, 10, 1), **fields)


def post(project, *, date, health="on_track", by=None, **extra):
    return services.progress_update_create(by=by, project=project, date=date, health=health,
                                           narrative=extra.pop("narrative", "Report."), today=TODAY, **extra)


def refused(call) -> dict:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


# --- Progress updates: the rules ---------------------------------------------------------------


def test_an_update_on_a_project_in_implementation_is_saved_with_who_posted_it(editor):
    project = implementing()
    update = post(project, date=TODAY, health="at_risk", by=editor, next_steps="Call the ministry.")
    stored = ProgressUpdate.objects.get(pk=update.pk)
    assert (stored.health, stored.created_by, stored.updated_by, stored.version) == ("at_risk", editor, editor, 1)
    assert stored.history.first().history_user == editor


@pytest.mark.parametrize("status", ["concept", "under_review", "withdrawn"])
def test_a_project_not_in_implementation_takes_no_update(status):
    project = ProjectFactory(status=status)
    errors = refused(lambda: post(project, date=TODAY))
    assert "in implementation" in errors["project"][0]
    assert not ProgressUpdate.all_objects.exists()


def test_a_completed_project_takes_its_closing_report():
    project = ProjectFactory(status="completed", ready_on=D(2025, 10, 1))
    assert post(project, date=TODAY).pk


def test_on_hold_takes_updates_only_when_held_from_implementation(make_project, advance):
    held_in_review = advance(make_project(title="Held early"), "under_review", "on_hold")
    assert "project" in refused(lambda: post(held_in_review, date=TODAY))
    held_in_work = advance(make_project(title="Held in work"), "under_review", "prioritized", "ready", "presented",
                           "in_implementation", "on_hold", today=TODAY)
    assert post(held_in_work, date=TODAY).project == held_in_work


def test_a_deleted_project_takes_no_update(lead):
    project = implementing()
    services.project_soft_delete(project=project, by=lead)
    assert refused(lambda: post(project, date=TODAY)) == {"project": ["The project is deleted."]}


def test_bad_input_is_refused_naming_each_field_and_nothing_is_saved():
    project = implementing()
    errors = refused(lambda: services.progress_update_create(
        project=project, date=D(2026, 9, 2), health="green", narrative="", today=TODAY))
    assert "after today (2026-09-01)" in errors["date"][0]
    assert errors["health"] == ["Choose the health: On track, At risk, Off track."]
    assert "narrative" in errors
    assert not ProgressUpdate.all_objects.exists()
    assert "date" in refused(lambda: post(project, date=D(1900, 1, 1)))
    assert "control character" in refused(lambda: post(project, date=TODAY, narrative="Bad\x00"))["narrative"][0]


def test_today_itself_is_allowed():
    assert post(implementing(), date=TODAY).date == TODAY


def test_an_external_id_is_unique_even_against_deleted_updates():
    project = implementing()
    first = post(project, date=TODAY, external_id="q3")
    services.progress_update_delete(update=first)
    assert refused(lambda: post(project, date=TODAY, external_id="q3")) == {
        "external_id": ["A progress update with this external id already exists."]}


def test_an_update_is_edited_with_the_version_check_and_stays_with_its_project():
    project = implementing()
    update = post(project, date=D(2026, 8, 1))
    services.progress_update_update(update=update, expected_version=1, health="off_track", today=TODAY)
    assert ProgressUpdate.objects.get(pk=update.pk).health == "off_track"
    with pytest.raises(VersionConflict):
        services.progress_update_update(update=ProgressUpdate.objects.get(pk=update.pk), expected_version=1,
                                        health="on_track", today=TODAY)
    other = implementing()
    assert "project" in refused(lambda: services.progress_update_update(
        update=ProgressUpdate.objects.get(pk=update.pk), project=other, today=TODAY))
    # The same project given again (a PUT) is fine.
    services.progress_update_update(update=ProgressUpdate.objects.get(pk=update.pk), project=project,
                                    narrative="Edited.", today=TODAY)


def test_deleting_the_latest_update_makes_the_one_before_the_latest_again():
    project = implementing()
    post(project, date=D(2026, 8, 1), health="at_risk")
    latest = post(project, date=D(2026, 8, 20), health="off_track")
    assert selectors.latest_health(project, today=TODAY)["health"] == "off_track"
    services.progress_update_delete(update=latest, expected_version=1)
    assert selectors.latest_health(project, today=TODAY)["health"] == "at_risk"
    services.progress_update_restore(update=ProgressUpdate.all_objects.get(pk=latest.pk))
    assert selectors.latest_health(project, today=TODAY)["health"] == "off_track"


# --- Milestones: the rules ----------------------------------------------------------------------


def test_a_milestone_due_before_the_project_starts_is_refused():
    project = implementing(start_date=D(2026, 3, 1))
    errors = refused(lambda: services.milestone_create(project=project, title="Kick-off", due_on=D(2026, 2, 28),
                                                       today=TODAY))
    assert errors == {"due_on": ["The due date cannot be before the project's start (2026-03-01)."]}
    assert services.milestone_create(project=project, title="Kick-off", due_on=D(2026, 3, 1), today=TODAY).pk
    assert Milestone.objects.count() == 1


def test_a_done_date_after_today_or_before_the_start_is_refused():
    project = implementing(start_date=D(2026, 3, 1))
    assert "after today" in refused(lambda: services.milestone_create(
        project=project, title="M", due_on=D(2026, 10, 1), done_on=D(2026, 9, 2), today=TODAY))["done_on"][0]
    assert "project's start" in refused(lambda: services.milestone_create(
        project=project, title="M", due_on=D(2026, 10, 1), done_on=D(2026, 2, 1), today=TODAY))["done_on"][0]
    # Done early (before it was due) is fine.
    early = services.milestone_create(project=project, title="M", due_on=D(2026, 10, 1), done_on=D(2026, 8, 1),
                                      today=TODAY)
    assert early.done_on == D(2026, 8, 1)


def test_a_withdrawn_project_plans_no_milestone_but_one_before_implementation_does():
    assert "withdrawn" in refused(lambda: services.milestone_create(
        project=ProjectFactory(status="withdrawn"), title="M", due_on=TODAY, today=TODAY))["project"][0]
    assert services.milestone_create(project=ProjectFactory(status="concept"), title="M", due_on=TODAY,
                                     today=TODAY).pk


def test_marking_a_milestone_done_is_version_checked_and_happens_once(editor):
    milestone = services.milestone_create(project=implementing(), title="Course held", due_on=D(2026, 8, 1),
                                          today=TODAY)
    with pytest.raises(VersionConflict):
        services.milestone_mark_done(milestone=milestone, by=editor, expected_version=7, today=TODAY)
    services.milestone_mark_done(milestone=Milestone.objects.get(pk=milestone.pk), by=editor, expected_version=1,
                                 today=TODAY)
    stored = Milestone.objects.get(pk=milestone.pk)
    assert (stored.done_on, stored.updated_by, stored.version) == (TODAY, editor, 2)
    assert refused(lambda: services.milestone_mark_done(milestone=stored, by=editor, expected_version=2,
                                                        today=TODAY)) == {
        "done_on": ["This milestone is already done (on 2026-09-01)."]}


def test_milestone_timeline_states():
    project = implementing()
    for title, due, done in [("Done", D(2026, 6, 1), D(2026, 6, 3)), ("Late", D(2026, 8, 31), None),
                             ("Today", TODAY, None), ("Next", D(2026, 9, 11), None)]:
        services.milestone_create(project=project, title=title, due_on=due, done_on=done, today=TODAY)
    timeline = selectors.milestone_timeline(project=project, today=TODAY)
    assert [(m.title, m.state, m.days) for m in timeline] == [
        ("Done", "done", 92), ("Late", "overdue", 1), ("Today", "upcoming", 0), ("Next", "upcoming", 10)]
    overdue = Milestone.objects.filter(selectors.milestone_overdue_q(TODAY))
    assert list(overdue.values_list("title", flat=True)) == ["Late"]


# --- Health by project: grouping, stale ---------------------------------------------------------


@pytest.fixture
def portfolio():
    """Projects in implementation with updates a known number of days before TODAY."""

    def at(days):
        return TODAY - datetime.timedelta(days=days)

    made = {name: implementing(title=name) for name in
            ("recovered", "risky-stale", "never", "edge", "deleted-latest", "dated-out-of-order")}
    post(made["recovered"], date=at(40), health="off_track")
    post(made["recovered"], date=at(10), health="on_track")
    post(made["risky-stale"], date=at(91), health="at_risk")  # one day beyond 90: stale
    post(made["edge"], date=at(90), health="off_track")  # exactly 90 days: not yet stale
    post(made["deleted-latest"], date=at(5), health="on_track")
    services.progress_update_delete(update=post(made["deleted-latest"], date=at(1), health="off_track"))
    # Posted later but dated earlier: the date decides which is the latest.
    post(made["dated-out-of-order"], date=at(3), health="at_risk")
    post(made["dated-out-of-order"], date=at(20), health="off_track")
    # Not in implementation: never in the panel, whatever its updates.
    ProgressUpdateFactory(project=ProjectFactory(title="completed", status="completed", ready_on=D(2025, 1, 1)),
                          date=at(1), health="off_track")
    return made


def _grouped(board):
    return {g["key"]: sorted(p.title for p in g["projects"]) for g in board["groups"]}


def test_implementation_by_health_groups_by_the_latest_update_and_marks_stale_ones(portfolio):
    board = selectors.implementation_by_health(projects=CooperativeProject.objects.all(), today=TODAY)
    assert [g["key"] for g in board["groups"]] == ["off_track", "at_risk", "on_track", "none"]
    assert _grouped(board) == {
        "off_track": ["edge"],
        "at_risk": ["dated-out-of-order", "risky-stale"],
        "on_track": ["deleted-latest", "recovered"],
        "none": ["never"],
    }
    counts = {g["key"]: (g["count"], g["stale"]) for g in board["groups"]}
    assert counts == {"off_track": (1, 0), "at_risk": (2, 1), "on_track": (2, 0), "none": (1, 1)}
    assert (board["total"], board["stale"], board["stale_days"]) == (6, 2, 90)
    stale = {p.title for g in board["groups"] for p in g["projects"] if p.stale}
    assert stale == {"risky-stale", "never"}
    # Stale and oldest first within a group.
    assert [p.title for p in board["groups"][1]["projects"]] == ["risky-stale", "dated-out-of-order"]


def test_the_stale_threshold_is_a_setting(portfolio, settings):
    settings.RCF_PROGRESS_STALE_DAYS = 30
    board = selectors.implementation_by_health(projects=CooperativeProject.objects.all(), today=TODAY)
    stale = {p.title for g in board["groups"] for p in g["projects"] if p.stale}
    assert stale == {"risky-stale", "never", "edge"}
    # And time moves on: the same data seen 100 days later is all stale.
    later = selectors.implementation_by_health(projects=CooperativeProject.objects.all(),
                                               today=TODAY + datetime.timedelta(days=100))
    assert later["stale"] == later["total"] == 6


def test_the_grouping_applies_to_the_projects_given(portfolio):
    only = CooperativeProject.objects.filter(title__in=["edge", "never"])
    board = selectors.implementation_by_health(projects=only, today=TODAY)
    assert _grouped(board) == {"off_track": ["edge"], "at_risk": [], "on_track": [], "none": ["never"]}


def test_a_long_group_lists_the_first_ones_and_counts_the_rest():
    for n in range(4):
        post(implementing(title=f"P{n}"), date=TODAY, health="at_risk")
    board = selectors.implementation_by_health(projects=CooperativeProject.objects.all(), today=TODAY, limit=3)
    at_risk = board["groups"][1]
    assert (at_risk["count"], len(at_risk["projects"]), at_risk["more"]) == (4, 3, 1)


def test_latest_health_of_a_project(portfolio):
    state = selectors.latest_health(portfolio["risky-stale"], today=TODAY)
    assert (state["health"], state["stale"], state["days_since"]) == ("at_risk", True, 91)
    assert selectors.latest_health(portfolio["never"], today=TODAY) == {
        "update": None, "health": None, "stale": True, "days_since": None, "stale_days": 90}


def _bulk_implementing(count, start=0):
    projects = CooperativeProject.objects.bulk_create(
        CooperativeProject(title=f"Bulk {start + n}", priority_area=area(), lead_side="joint",
                           status="in_implementation", ready_on=D(2025, 10, 1)) for n in range(count))
    ProgressUpdate.objects.bulk_create(
        ProgressUpdate(project=p, date=TODAY - datetime.timedelta(days=n % 200), health=h, narrative="Bulk.")
        for n, p in enumerate(projects) for h in ("off_track", "on_track", "at_risk")[: 1 + n % 3])
    services.current_health_rebuild()  # bulk_create bypasses the services that keep the latest health


def test_the_grouping_is_one_query_for_10_or_1000_projects():
    _bulk_implementing(10)
    with CaptureQueriesContext(connection) as few:
        small = selectors.implementation_by_health(projects=CooperativeProject.objects.all(), today=TODAY)
    _bulk_implementing(990, start=10)
    with CaptureQueriesContext(connection) as many:
        large = selectors.implementation_by_health(projects=CooperativeProject.objects.all(), today=TODAY)
    assert (small["total"], large["total"]) == (10, 1000)
    # Issue 14: the grouped count on the latest-health columns, and one query for the listed rows (at most
    # 25 per group, read along an index); the dashboard passes its summary rows' counts and saves the first.
    assert len(few) == len(many) == 2
    assert [len(g["projects"]) for g in large["groups"]] == [min(g["count"], 25) for g in large["groups"]]
    assert {g["key"]: g["count"] for g in large["groups"]} == {"off_track": 334, "at_risk": 333, "on_track": 333,
                                                                "none": 0}


# --- Health worsened (the weekly digest) ---------------------------------------------------------


def test_health_worsened_compares_the_latest_update_with_the_one_before():
    since = D(2026, 8, 25)
    worse = implementing(title="worse")
    post(worse, date=D(2026, 8, 1), health="on_track")
    post(worse, date=D(2026, 8, 28), health="at_risk")
    much_worse = implementing(title="much worse")
    post(much_worse, date=D(2026, 7, 1), health="on_track")
    post(much_worse, date=since, health="off_track")  # on the first day of the window: counts
    better = implementing(title="better")
    post(better, date=D(2026, 8, 1), health="off_track")
    post(better, date=D(2026, 8, 30), health="at_risk")
    same = implementing(title="same")
    post(same, date=D(2026, 8, 1), health="at_risk")
    post(same, date=D(2026, 8, 30), health="at_risk")
    first = implementing(title="first update")
    post(first, date=D(2026, 8, 30), health="off_track")
    earlier = implementing(title="worsened before the window")
    post(earlier, date=D(2026, 7, 1), health="on_track")
    post(earlier, date=D(2026, 8, 24), health="off_track")
    undone = implementing(title="worsening deleted")
    post(undone, date=D(2026, 8, 1), health="on_track")
    services.progress_update_delete(update=post(undone, date=D(2026, 8, 30), health="off_track"))

    found = selectors.health_worsened(since=since)
    assert [(p.title, p.previous_health, p.current_health) for p in found] == [
        ("much worse", "on_track", "off_track"), ("worse", "on_track", "at_risk")]
    # Narrowed to the projects given (a lead POC's own).
    only = selectors.health_worsened(since=since, projects=CooperativeProject.objects.filter(pk=worse.pk))
    assert [p.title for p in only] == ["worse"]


def test_a_deleted_project_is_never_reported_worsened(lead):
    project = implementing()
    post(project, date=D(2026, 8, 1), health="on_track")
    post(project, date=D(2026, 8, 30), health="off_track")
    services.project_soft_delete(project=project, by=lead)
    assert not selectors.health_worsened(since=D(2026, 8, 1), projects=CooperativeProject.all_objects.all())


# --- The admin: the same rules, messages beside the fields ----------------------------------------


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.org", "pw-for-tests-1")


def test_the_admin_applies_the_rules_and_records_who(client, superuser):
    import time_machine

    client.force_login(superuser)
    concept, project = ProjectFactory(status="concept"), implementing(start_date=D(2026, 3, 1))
    with time_machine.travel(datetime.datetime(2026, 9, 1, 1, 0, tzinfo=datetime.UTC), tick=False):
        response = client.post("/admin/projects/progressupdate/add/", {
            "project": concept.pk, "date": "2026-08-01", "health": "on_track", "narrative": "X", "external_id": ""})
        assert response.status_code == 200
        assert "in implementation" in str(response.context["adminform"].form.errors["project"])
        response = client.post("/admin/projects/progressupdate/add/", {
            "project": project.pk, "date": "2026-08-01", "health": "on_track", "narrative": "X", "external_id": ""})
        assert response.status_code == 302
        assert ProgressUpdate.objects.get().created_by == superuser
        response = client.post("/admin/projects/milestone/add/", {
            "project": project.pk, "title": "M", "due_on": "2026-02-01", "external_id": ""})
        assert "before the project" in str(response.context["adminform"].form.errors["due_on"])
        response = client.post("/admin/projects/milestone/add/", {
            "project": project.pk, "title": "M", "due_on": "2026-03-01", "external_id": ""})
        assert response.status_code == 302
        milestone = Milestone.objects.get()
        response = client.post(f"/admin/projects/milestone/{milestone.pk}/change/", {
            "title": "M", "due_on": "2026-03-01", "done_on": "2026-09-05", "external_id": ""})
        assert "after today" in str(response.context["adminform"].form.errors["done_on"])
        response = client.post(f"/admin/projects/milestone/{milestone.pk}/change/", {
            "title": "M", "due_on": "2026-03-01", "done_on": "2026-08-30", "external_id": ""})
        assert response.status_code == 302, response.context["adminform"].form.errors
    stored = Milestone.objects.get()
    assert (stored.done_on, stored.version, stored.updated_by) == (D(2026, 8, 30), 2, superuser)
    for model in ("progressupdate", "milestone"):
        assert client.get(f"/admin/projects/{model}/", {"q": "M"}).status_code == 200

"""Readiness that tells the truth: a project that became ready after the last
recorded SCM's deadline counts for the next year even before that SCM is
recorded. The year stays unscheduled but shows its waiting projects (rule,
job JSON, API, dashboard, project list); recording the SCM changes nothing
else."""

import datetime
import json
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from rest_framework.test import APIClient

from rcf.models import ApiToken
from scm_reports.dashboard import dashboard
from scm_reports.models import ReadinessFlag, SCMCycle
from scm_reports.selectors import readiness_by_year
from scm_reports.services import readiness_flags_sync

pytestmark = pytest.mark.django_db

D = datetime.date
# The seeded SCMs run up to the 57th (2025-11-04, deadline 2025-11-03); none for 2026.
TODAY = D(2026, 3, 1)
NOW = datetime.datetime(2026, 3, 1, 3, 0, tzinfo=datetime.UTC)  # noon in Seoul


def by_year(today=TODAY, **kwargs):
    return {r.year: r for r in readiness_by_year(today=today, with_project_ids=True, **kwargs)}


def record_2026_scm(**fields):
    return SCMCycle.objects.create(number=58, year=2026, meeting_date=D(2026, 11, 5), location="Washington",
                                   **fields)


def test_a_project_ready_after_the_last_scm_waits_for_the_next_and_counts_once_it_is_recorded(ready_project):
    project = ready_project(D(2026, 3, 1), today=TODAY)

    before = by_year()
    assert before[2026].state == "unscheduled"
    assert before[2026].counting_projects == 1
    assert before[2026].counting_project_ids == [project.pk]
    assert before[2026].cycle is None and before[2026].deadline is None
    assert before[2025].counting_projects == 0  # it does not count for the SCM it came after

    record_2026_scm()
    after = by_year()
    assert after[2026].state == "covered"
    assert (after[2026].counting_projects, after[2026].counting_project_ids) == (1, [project.pk])
    # No other change: every other year reads the same.
    assert {y: r.as_dict() for y, r in after.items() if y != 2026} == \
        {y: r.as_dict() for y, r in before.items() if y != 2026}


def test_ready_after_the_57th_deadline_but_still_in_2025_waits_for_2026(ready_project):
    late = ready_project(D(2025, 12, 10), today=D(2025, 12, 15))
    on_deadline = ready_project(D(2025, 11, 3), today=D(2025, 12, 15))
    result = by_year(D(2025, 12, 15))
    assert result[2025].counting_project_ids == [on_deadline.pk]
    # Listed although 2026 has not begun: its SCM is the one this project waits for.
    assert list(result) == [2025, 2026]
    assert result[2026].state == "unscheduled" and result[2026].counting_project_ids == [late.pk]
    # The 57th SCM has met: the dashboard's "next SCM" is the one the project waits for.
    board = dashboard(today=D(2025, 12, 15))
    assert (board.next_scm.year, board.next_scm.state, board.next_scm.counting_projects) == (2026, "unscheduled", 1)


def test_projects_ready_in_later_years_wait_for_their_own_years_scm(ready_project):
    early = ready_project(D(2026, 2, 1), today=D(2027, 3, 1))
    later = ready_project(D(2027, 2, 1), today=D(2027, 3, 1))
    result = by_year(D(2027, 3, 1))
    assert result[2026].counting_project_ids == [early.pk]
    assert result[2027].counting_project_ids == [later.pk]
    record_2026_scm()
    result = by_year(D(2027, 3, 1))
    assert result[2026].state == "covered" and result[2026].counting_project_ids == [early.pk]
    assert result[2027].state == "unscheduled" and result[2027].counting_project_ids == [later.pk]


def test_in_a_gap_between_recorded_scms_projects_still_count_for_the_next_recorded_one(ready_project):
    SCMCycle.objects.create(number=59, year=2027, meeting_date=D(2027, 10, 20))
    project = ready_project(D(2026, 3, 1), today=TODAY)
    result = by_year()
    assert result[2026].state == "unscheduled" and result[2026].counting_projects == 0
    assert result[2027].counting_project_ids == [project.pk]


def test_a_deleted_project_does_not_wait(ready_project, lead):
    from projects.services import project_soft_delete

    project = ready_project(D(2026, 3, 1), today=TODAY)
    project_soft_delete(project=project, by=lead)
    assert by_year()[2026].counting_projects == 0


def test_the_rule_still_takes_two_queries_with_waiting_projects(ready_project, django_assert_num_queries):
    for day in (D(2025, 6, 1), D(2026, 1, 5), D(2026, 2, 1)):
        ready_project(day, today=TODAY)
    with django_assert_num_queries(2):
        result = readiness_by_year(today=TODAY)
    assert result[-1].counting_projects == 2
    with django_assert_num_queries(3):
        readiness_by_year(today=TODAY, with_project_ids=True)


def test_the_job_json_lists_the_waiting_projects_and_the_flag_keeps_their_number(ready_project):
    first = ready_project(D(2026, 1, 10), today=TODAY)
    out = StringIO()
    call_command("flag_unready_years", "--today", "2026-03-01", "--json", stdout=out)
    year = next(y for y in json.loads(out.getvalue())["years"] if y["year"] == 2026)
    assert year == {"year": 2026, "scm_number": None, "meeting_date": None, "deadline": None,
                    "state": "unscheduled", "counting_projects": 1, "counting_project_ids": [first.pk]}
    flag = ReadinessFlag.objects.get(year=2026, kind="unscheduled", resolved_at__isnull=True)
    assert flag.counting_projects == 1

    # A second project becomes ready: the open flag's number follows, no new flag.
    ready_project(D(2026, 3, 1), today=TODAY)
    result = readiness_flags_sync(today=TODAY)
    assert result["raised"] == [] and result["resolved"] == []
    flag.refresh_from_db()
    assert flag.counting_projects == 2

    # Recording the SCM resolves the unscheduled flag; the year is covered.
    record_2026_scm()
    result = readiness_flags_sync(today=TODAY)
    assert result["resolved"] == [{"year": 2026, "kind": "unscheduled"}]
    assert next(y for y in result["years"] if y["year"] == 2026)["state"] == "covered"


def test_the_api_shows_the_waiting_projects(ready_project, viewer):
    project = ready_project(D(2026, 3, 1), today=TODAY)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(user=viewer, name='t', read_only=True)[1]}")
    body = client.get("/api/v1/readiness/", {"today": "2026-03-01"}).json()
    year = next(y for y in body if y["year"] == 2026)
    assert (year["state"], year["counting_projects"], year["counting_project_ids"]) == \
        ("unscheduled", 1, [project.pk])
    # The project list's year filter finds it too.
    with time_machine.travel(NOW, tick=False):
        listed = client.get("/api/v1/projects/", {"year": 2026}).json()
    assert [p["id"] for p in listed["results"]] == [project.pk]
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    fields = schema["components"]["schemas"]["ReadinessYear"]["properties"]
    assert "waiting for it to be recorded" in fields["counting_projects"]["description"]


def test_the_dashboard_says_how_many_projects_wait_and_the_list_shows_them(client, viewer, ready_project,
                                                                           make_project):
    first = ready_project(D(2026, 1, 10), today=TODAY)
    second = ready_project(D(2026, 3, 1), today=TODAY, title="Second ready project")
    make_project(title="Not ready")
    client.force_login(viewer)
    with time_machine.travel(NOW, tick=False):
        html = client.get("/").content.decode()
        assert "2 ready projects are waiting for the 2026 SCM to be recorded." in html
        assert 'href="/projects/?year=2026"' in html
        listed = client.get("/projects/", {"year": 2026})
        board = client.get("/", {"year": 2026}).context["board"]
    assert {p.pk for p in listed.context["projects"]} == {first.pk, second.pk}
    assert board.matrix["total"] == 2

    record_2026_scm()
    with time_machine.travel(NOW, tick=False):
        html = client.get("/").content.decode()
    assert "waiting for the 2026 SCM" not in html
    assert "58th SCM" in html

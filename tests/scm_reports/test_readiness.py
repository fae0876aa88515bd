"""The readiness rule (scm_reports.selectors.readiness_by_year) at its boundaries."""

import datetime

import pytest

from projects.services import project_soft_delete, project_transition
from scm_reports.models import SCMCycle
from scm_reports.selectors import readiness_by_year

pytestmark = pytest.mark.django_db

D = datetime.date


def states(today, **kwargs):
    return {r.year: r for r in readiness_by_year(today=today, **kwargs)}


def test_years_run_from_2025_to_the_current_year(scm_2026):
    assert list(states(D(2026, 1, 1))) == [2025, 2026]
    assert list(states(D(2028, 3, 1))) == [2025, 2026, 2027, 2028]


def test_years_reach_the_last_recorded_scm_even_in_the_future(scm_2026):
    SCMCycle.objects.create(number=60, year=2028, meeting_date=D(2028, 10, 20))
    result = states(D(2026, 1, 1))
    assert list(result) == [2025, 2026, 2027, 2028]
    assert result[2027].state == "unscheduled"


def test_deadline_defaults_to_the_day_before_the_meeting(scm_2026):
    assert states(D(2026, 1, 1))[2026].deadline == D(2026, 11, 4)
    scm_2026.readiness_deadline = D(2026, 10, 1)
    scm_2026.save()
    assert states(D(2026, 1, 1))[2026].deadline == D(2026, 10, 1)


def test_ready_on_the_deadline_day_counts(ready_project):
    project = ready_project(D(2025, 11, 3))  # 57th SCM on 2025-11-04
    result = states(D(2026, 1, 1), with_project_ids=True)
    assert result[2025].state == "covered"
    assert result[2025].counting_project_ids == [project.pk]


def test_ready_on_the_meeting_day_counts_for_the_next_year(ready_project, scm_2026):
    project = ready_project(D(2025, 11, 4))
    result = states(D(2026, 1, 1), with_project_ids=True)
    assert result[2025].state == "missed"
    assert result[2026].counting_project_ids == [project.pk]
    assert result[2026].state == "covered"


def test_ready_on_launch_day_counts_for_2025(ready_project):
    ready_project(D(2024, 10, 30))
    assert states(D(2026, 1, 1))[2025].state == "covered"


def test_ready_the_day_before_launch_counts_for_no_year(ready_project):
    ready_project(D(2024, 10, 29))
    assert states(D(2026, 1, 1))[2025].state == "missed"


def test_a_project_pulled_back_from_ready_stops_counting(ready_project, lead):
    project = ready_project(D(2025, 6, 1))
    assert states(D(2025, 7, 1))[2025].state == "covered"
    project_transition(project=project, to="prioritized", by=lead)
    assert states(D(2025, 7, 1))[2025].state == "pending"


def test_a_presented_project_later_on_hold_still_counts(ready_project, advance, lead):
    project = ready_project(D(2025, 6, 1))
    project = advance(project, "presented")
    project_transition(project=project, to="on_hold", by=lead)
    assert states(D(2026, 1, 1))[2025].state == "covered"


def test_a_soft_deleted_project_does_not_count(ready_project, lead):
    project = ready_project(D(2025, 6, 1))
    project_soft_delete(project=project, by=lead)
    assert states(D(2026, 1, 1))[2025].state == "missed"


def test_a_year_with_no_recorded_cycle_is_unscheduled():
    result = states(D(2026, 3, 1))
    assert result[2026].state == "unscheduled"
    assert result[2026].deadline is None


def test_at_risk_window_starts_exactly_at_risk_days_before_the_deadline(scm_2026, settings):
    settings.RCF_AT_RISK_DAYS = 90
    deadline = D(2026, 11, 4)
    assert states(deadline - datetime.timedelta(days=91))[2026].state == "pending"
    assert states(deadline - datetime.timedelta(days=90))[2026].state == "at_risk"
    assert states(deadline)[2026].state == "at_risk"
    assert states(deadline + datetime.timedelta(days=1))[2026].state == "missed"


def test_the_at_risk_window_follows_the_setting(scm_2026, settings):
    settings.RCF_AT_RISK_DAYS = 30
    assert states(D(2026, 9, 1))[2026].state == "pending"
    assert states(D(2026, 10, 5))[2026].state == "at_risk"


def test_a_changed_meeting_date_moves_the_state(ready_project, scm_2026):
    ready_project(D(2026, 10, 20), today=D(2026, 10, 20))
    assert states(D(2026, 10, 20))[2026].state == "covered"
    scm_2026.meeting_date = D(2026, 10, 15)  # moved earlier: the project is now too late
    scm_2026.save()
    result = states(D(2026, 10, 20))
    assert result[2026].state == "missed"
    assert result[2026].deadline == D(2026, 10, 14)


def test_the_rule_reads_the_cycles_and_counts_in_a_fixed_number_of_queries(
    ready_project, scm_2026, django_assert_num_queries
):
    for day in (D(2025, 1, 5), D(2025, 6, 1), D(2026, 2, 1)):
        ready_project(day)
    for number, year in ((59, 2027), (60, 2028), (61, 2029)):
        SCMCycle.objects.create(number=number, year=year, meeting_date=D(year, 11, 1))
    with django_assert_num_queries(2):
        readiness_by_year(today=D(2026, 1, 1))
    with django_assert_num_queries(3):
        readiness_by_year(today=D(2026, 1, 1), with_project_ids=True)

"""The project lifecycle, enforced by projects.services.project_transition."""

import datetime
import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from projects.models import Concurrence, CooperativeProject, ProjectStatus, ProjectTransition
from projects.services import (
    allowed_transitions,
    concurrence_concur,
    is_joint_step,
    project_transition,
    project_update,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 10)
S = ProjectStatus

# How to reach each status from a new concept, as a lead POC.
PATH_TO = {
    S.CONCEPT: [],
    S.UNDER_REVIEW: [S.UNDER_REVIEW],
    S.PRIORITIZED: [S.UNDER_REVIEW, S.PRIORITIZED],
    S.READY: [S.UNDER_REVIEW, S.PRIORITIZED, S.READY],
    S.PRESENTED: [S.UNDER_REVIEW, S.PRIORITIZED, S.READY, S.PRESENTED],
    S.IN_IMPLEMENTATION: [S.UNDER_REVIEW, S.PRIORITIZED, S.READY, S.PRESENTED, S.IN_IMPLEMENTATION],
    S.COMPLETED: [S.UNDER_REVIEW, S.PRIORITIZED, S.READY, S.PRESENTED, S.IN_IMPLEMENTATION, S.COMPLETED],
    S.ON_HOLD: [S.ON_HOLD],
    S.WITHDRAWN: [S.WITHDRAWN],
}

ALLOWED = {
    (S.CONCEPT, S.UNDER_REVIEW),
    (S.UNDER_REVIEW, S.PRIORITIZED),
    (S.UNDER_REVIEW, S.CONCEPT),
    (S.PRIORITIZED, S.READY),
    (S.PRIORITIZED, S.UNDER_REVIEW),
    (S.READY, S.PRESENTED),
    (S.READY, S.PRIORITIZED),
    (S.PRESENTED, S.IN_IMPLEMENTATION),
    (S.IN_IMPLEMENTATION, S.COMPLETED),
    # back from hold to where it was held from (here: concept)
    (S.ON_HOLD, S.CONCEPT),
    (S.ON_HOLD, S.WITHDRAWN),
}
for _status in (S.CONCEPT, S.UNDER_REVIEW, S.PRIORITIZED, S.READY, S.PRESENTED, S.IN_IMPLEMENTATION):
    ALLOWED |= {(_status, S.ON_HOLD), (_status, S.WITHDRAWN)}

ALL_PAIRS = [(a, b) for a, b in itertools.product(S.values, S.values) if a != b]


@pytest.mark.parametrize("from_status,to_status", sorted(ALLOWED))
def test_every_allowed_step_works_and_is_recorded(make_project, advance, lead, rok_lead, from_status, to_status):
    project = advance(make_project(), *PATH_TO[from_status], today=TODAY)
    assert project.status == from_status
    priority = 2 if to_status == S.PRIORITIZED else None
    # ready -> presented is recorded with the SCM and its outcome (scm_reports passes at_scm=True).
    result = project_transition(project=project, to=to_status, by=lead, note="why not", today=TODAY,
                                priority=priority, at_scm=to_status == S.PRESENTED)
    taken_by = lead
    if is_joint_step(from_status=from_status, to_status=to_status):
        # A joint decision: the U.S. lead's step is a proposal until the ROK lead concurs.
        assert isinstance(result, Concurrence)
        project.refresh_from_db()
        assert project.status == from_status
        concurrence_concur(concurrence=result, by=rok_lead, today=TODAY)
        taken_by = rok_lead
    project.refresh_from_db()
    assert project.status == to_status
    step = project.transitions.first()
    assert (step.from_status, step.to_status, step.by) == (from_status, to_status, taken_by)
    assert step.note.startswith("why not")


@pytest.mark.parametrize("from_status,to_status", [p for p in ALL_PAIRS if p not in ALLOWED])
def test_every_other_step_is_refused_with_a_message_and_nothing_saved(
    make_project, advance, lead, from_status, to_status
):
    project = advance(make_project(), *PATH_TO[from_status], today=TODAY)
    before = (project.version, project.ready_on, ProjectTransition.objects.count())
    with pytest.raises(ValidationError) as refused:
        project_transition(project=project, to=to_status, by=lead, today=TODAY)
    assert "cannot move from" in str(refused.value.message_dict["to"])
    project.refresh_from_db()
    assert project.status == from_status
    assert (project.version, project.ready_on, ProjectTransition.objects.count()) == before


def test_allowed_transitions_lists_only_the_next_steps(make_project):
    assert allowed_transitions(project=make_project()) == [S.UNDER_REVIEW, S.ON_HOLD, S.WITHDRAWN]


def test_entering_ready_sets_ready_on_to_today(make_project, advance):
    project = advance(make_project(), S.UNDER_REVIEW, S.PRIORITIZED, S.READY, today=TODAY)
    assert project.ready_on == TODAY
    assert project.transitions.first().ready_on == TODAY


def test_ready_on_can_be_backfilled_with_an_earlier_date(make_project, advance):
    project = advance(make_project(), S.UNDER_REVIEW, S.PRIORITIZED, S.READY, today=TODAY,
                      ready_on=datetime.date(2025, 9, 1))
    project.refresh_from_db()
    assert project.ready_on == datetime.date(2025, 9, 1)


def test_a_future_ready_on_is_refused(make_project, advance, lead):
    project = advance(make_project(), S.UNDER_REVIEW, S.PRIORITIZED, today=TODAY)
    with pytest.raises(ValidationError) as refused:
        project_transition(project=project, to=S.READY, by=lead, today=TODAY,
                           ready_on=TODAY + datetime.timedelta(days=1))
    assert "future" in refused.value.message_dict["ready_on"][0]
    project.refresh_from_db()
    assert (project.status, project.ready_on) == (S.PRIORITIZED, None)


@pytest.mark.parametrize(
    "missing,field",
    [
        ({"us_lead_poc": None}, "us_lead_poc"),
        ({"rok_lead_poc": None}, "rok_lead_poc"),
        ({"partner_countries": []}, "partner_countries"),
        ({"summary": ""}, "summary"),
    ],
)
def test_ready_needs_both_lead_pocs_a_partner_country_and_a_summary(
    make_project, advance, lead, missing, field
):
    project = advance(make_project(**missing), S.UNDER_REVIEW, S.PRIORITIZED, today=TODAY)
    version = project.version
    with pytest.raises(ValidationError) as refused:
        project_transition(project=project, to=S.READY, by=lead, today=TODAY)
    assert list(refused.value.message_dict) == [field]
    project.refresh_from_db()
    assert (project.status, project.ready_on, project.version) == (S.PRIORITIZED, None, version)


@pytest.mark.parametrize("to_status", [S.PRIORITIZED, S.ON_HOLD, S.WITHDRAWN])
def test_leaving_ready_other_than_for_presented_clears_ready_on(make_project, advance, lead, to_status):
    project = advance(make_project(), S.UNDER_REVIEW, S.PRIORITIZED, S.READY, today=TODAY)
    project = project_transition(project=project, to=to_status, by=lead, today=TODAY)
    project.refresh_from_db()
    assert project.ready_on is None


def test_presented_keeps_ready_on_even_when_later_put_on_hold(make_project, advance, lead):
    project = advance(make_project(), S.UNDER_REVIEW, S.PRIORITIZED, S.READY, S.PRESENTED,
                      today=TODAY, ready_on=datetime.date(2025, 10, 1))
    project = project_transition(project=project, to=S.ON_HOLD, by=lead, today=TODAY)
    project.refresh_from_db()
    assert project.ready_on == datetime.date(2025, 10, 1)
    assert allowed_transitions(project=project) == [S.PRESENTED, S.WITHDRAWN]


def test_prioritising_needs_a_priority(make_project, advance, lead, rok_lead):
    project = advance(make_project(), S.UNDER_REVIEW)
    with pytest.raises(ValidationError) as refused:
        project_transition(project=project, to=S.PRIORITIZED, by=lead)
    assert "priority" in refused.value.message_dict
    proposal = project_transition(project=project, to=S.PRIORITIZED, by=lead, priority=1)
    concurrence_concur(concurrence=proposal, by=rok_lead)  # a joint decision
    project.refresh_from_db()
    assert (project.status, project.priority) == (S.PRIORITIZED, 1)


def test_an_editor_may_move_concept_and_review_but_not_prioritise(make_project, editor):
    project = make_project()
    project = project_transition(project=project, to=S.UNDER_REVIEW, by=editor)
    project = project_transition(project=project, to=S.CONCEPT, by=editor)
    project = project_transition(project=project, to=S.UNDER_REVIEW, by=editor)
    with pytest.raises(PermissionDenied):
        project_transition(project=project, to=S.PRIORITIZED, by=editor, priority=1)
    project.refresh_from_db()
    assert project.status == S.UNDER_REVIEW


def test_a_viewer_cannot_move_anything(make_project, viewer):
    with pytest.raises(PermissionDenied):
        project_transition(project=make_project(), to=S.UNDER_REVIEW, by=viewer)


def test_a_ready_project_cannot_lose_its_lead_poc_by_an_edit(make_project, advance, lead):
    project = advance(make_project(), S.UNDER_REVIEW, S.PRIORITIZED, S.READY, today=TODAY)
    with pytest.raises(ValidationError) as refused:
        project_update(project=project, by=lead, us_lead_poc=None)
    assert "us_lead_poc" in refused.value.message_dict
    assert CooperativeProject.objects.get(pk=project.pk).us_lead_poc_id is not None


def test_an_editor_cannot_set_priority_through_a_step_they_may_take(make_project, editor):
    project = make_project()
    with pytest.raises(PermissionDenied):
        project_transition(project=project, to=S.UNDER_REVIEW, by=editor, priority=1)
    project.refresh_from_db()
    assert (project.status, project.priority) == (S.CONCEPT, None)


def test_a_prioritised_project_cannot_lose_its_priority(make_project, advance, lead):
    project = advance(make_project(), S.UNDER_REVIEW, S.PRIORITIZED)
    with pytest.raises(ValidationError) as refused:
        project_update(project=project, by=lead, priority=None)
    assert "priority" in refused.value.message_dict
    assert CooperativeProject.objects.get(pk=project.pk).priority == 3


def test_a_backfilled_ready_date_cannot_reach_back_before_the_project_last_left_ready(make_project, advance, lead,
                                                                                     rok_lead):
    project = advance(make_project(), S.UNDER_REVIEW, S.PRIORITIZED, S.READY, today=TODAY)
    project = project_transition(project=project, to=S.PRIORITIZED, by=lead, today=TODAY)  # pulled back
    left_on = project.transitions.first().at.astimezone(datetime.UTC).date()
    with pytest.raises(ValidationError) as refused:
        project_transition(project=project, to=S.READY, by=lead, ready_on=datetime.date(2025, 6, 1),
                           today=left_on + datetime.timedelta(days=30))
    assert "last left" in refused.value.message_dict["ready_on"][0]
    proposal = project_transition(project=project, to=S.READY, by=lead, ready_on=left_on + datetime.timedelta(days=2),
                                  today=left_on + datetime.timedelta(days=30))
    concurrence_concur(concurrence=proposal, by=rok_lead, today=left_on + datetime.timedelta(days=30))
    project.refresh_from_db()
    assert (project.status, project.ready_on) == (S.READY, left_on + datetime.timedelta(days=2))

"""The project page's stepper (issue 12) reads the lifecycle's rules from the
code that enforces them: projects.selectors.step_requirements lists, per step,
exactly what projects.services.project_transition would refuse it for."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from projects.models import CooperativeProject
from projects.selectors import lifecycle_path, step_requirements
from projects.services import project_transition, transition_problems
from tests.factories import country

pytestmark = pytest.mark.django_db


def _row(rows, status):
    return next(row for row in rows if row["status"] == status)


def _refusal(project, to, by, **kwargs):
    try:
        project_transition(project=CooperativeProject.objects.get(pk=project.pk), to=to, by=by, **kwargs)
    except PermissionDenied as refusal:
        return [str(refusal)]
    except ValidationError as error:
        return error.messages
    return []


def test_a_missing_rok_lead_summary_and_partner_are_listed_before_the_ready_step(lead, make_project, advance):
    project = advance(make_project(rok_lead_poc=None, summary="", partner_countries=[]), "under_review",
                      "prioritized")
    ready = _row(step_requirements(project=project, user=lead), "ready")
    assert not ready["allowed"]
    fields = {r["field"] for r in ready["blocked"]}
    assert {"rok_lead_poc", "summary", "partner_countries"} <= fields
    # The same messages the step itself is refused with.
    assert set(_refusal(project, "ready", lead)) <= {r["message"] for r in ready["reasons"]}
    # The next step forward comes first; the step back last.
    rows = step_requirements(project=project, user=lead)
    assert rows[0]["status"] == "ready" and rows[-1]["status"] == "under_review"
    assert rows[-1]["direction"] == "back"


def test_every_listed_reason_is_one_the_service_refuses_with(viewer, editor, lead, make_project, advance):
    project = advance(make_project(rok_lead_poc=None), "under_review")
    for user in (viewer, editor, lead):
        for row in step_requirements(project=project, user=user):
            if row["allowed"] or row["scm"]:
                continue
            refusal = _refusal(project, row["status"], user)
            # The first refusal the service raises is among the reasons shown (all of them, not only the first).
            assert refusal and refusal[0] in {r["message"] for r in row["reasons"]}, (user, row["status"])


def test_a_role_that_may_not_take_a_step_says_so(editor, lead, make_project, advance):
    project = advance(make_project(), "under_review")
    rows = step_requirements(project=project, user=editor)
    prioritise = _row(rows, "prioritized")
    assert prioritise["role_blocked"]
    assert "Only lead POCs" in prioritise["blocked"][0]["message"]
    assert _row(rows, "concept")["allowed"]  # an editor's step
    assert not _row(step_requirements(project=project, user=lead), "prioritized")["role_blocked"]


def test_a_priority_the_form_can_give_is_not_a_blocking_reason(lead, make_project, advance):
    project = advance(make_project(), "under_review")
    prioritise = _row(step_requirements(project=project, user=lead), "prioritized")
    assert [r["field"] for r in prioritise["fixable"]] == ["priority"]
    assert not prioritise["blocked"]
    assert prioritise["priority_message"] == "Priority must be between 1 (highest) and 5."


def test_an_open_proposal_is_a_reason_awaiting_the_other_side(lead, rok_lead, make_project, advance):
    project = advance(make_project(), "under_review", "prioritized")
    project_transition(project=project, to="ready", by=lead)  # proposed: awaiting ROK concurrence
    project = CooperativeProject.objects.get(pk=project.pk)
    mine = _row(step_requirements(project=project, user=lead), "ready")
    assert any("awaiting the other side's concurrence" in r["message"] for r in mine["blocked"])
    theirs = _row(step_requirements(project=project, user=rok_lead), "ready")
    assert any("concur with or decline that proposal" in r["message"] for r in theirs["blocked"])


def test_the_ready_date_limits_carry_the_services_messages(lead, make_project, advance):
    project = advance(make_project(), "under_review", "prioritized")
    today = datetime.date(2026, 3, 10)
    ready = _row(step_requirements(project=project, user=lead, today=today), "ready")
    assert ready["ready_on_max"] == today
    assert ready["ready_on_max_message"] == "The ready date cannot be in the future."
    problems = transition_problems(project=project, to="ready", by=lead, today=today,
                                   ready_on=today + datetime.timedelta(days=1))
    assert problems and problems[0].message_dict == {"ready_on": ["The ready date cannot be in the future."]}


def test_the_path_marks_done_current_and_a_side_state(lead, make_project, advance):
    project = advance(make_project(), "under_review", "prioritized")
    path = lifecycle_path(CooperativeProject.objects.get(pk=project.pk))
    assert [s["state"] for s in path["steps"]][:4] == ["done", "done", "current", "todo"]
    project = project_transition(project=CooperativeProject.objects.get(pk=project.pk), to="on_hold", by=lead)
    path = lifecycle_path(CooperativeProject.objects.get(pk=project.pk))
    assert path["side"] == "on_hold"
    assert [s["state"] for s in path["steps"]][:4] == ["done", "done", "paused", "todo"]


def test_a_refused_step_re_renders_the_page_with_the_note_and_the_reason_by_the_step(
        client, lead, make_project, advance):
    project = advance(make_project(rok_lead_poc=None), "under_review", "prioritized")
    client.force_login(lead)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert 'data-testid="why-ready"' in page and "A project needs a ROK lead POC" in page
    response = client.post(f"/projects/{project.pk}/transition/",
                           {"to": "ready", "note": "Cleared with both ministries.", "version": project.version})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Cleared with both ministries.</textarea>" in page
    step = page[page.index('id="step-ready"'):]
    assert step.index('data-testid="step-error"') < step.index('name="note"')
    assert "A project needs a ROK lead POC before it can be ready." in step[:step.index("</form>")]
    assert CooperativeProject.objects.get(pk=project.pk).status == "prioritized"


def test_a_field_error_links_to_the_step_forms_field(client, lead, make_project, advance):
    project = advance(make_project(partner_countries=[country("VN")]), "under_review", "prioritized")
    client.force_login(lead)
    response = client.post(f"/projects/{project.pk}/transition/",
                           {"to": "ready", "note": "x", "ready_on": "2099-01-01", "version": project.version})
    assert response.status_code == 400
    assert 'href="#readyon-ready"' in response.content.decode()


def test_delete_and_withdraw_ask_first_and_say_what_happens(client, lead, administrator, make_project, advance):
    project = advance(make_project(), "under_review")
    client.force_login(lead)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    withdraw = page[page.index('id="step-withdrawn"'):]
    assert "data-confirm=" in withdraw[:withdraw.index("</form>")]
    assert "no further step can be taken" in withdraw[:withdraw.index("</form>")]
    client.force_login(administrator)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    delete = page[page.index(f'action="/projects/{project.pk}/delete/"') - 200:]
    assert "data-confirm=" in delete[:delete.index("</form>")]
    assert "An administrator can restore it." in delete[:delete.index("</form>")]

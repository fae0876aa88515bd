"""Lead POCs are people of a side, and prioritising and declaring ready are
joint decisions (issue 10): projects.services.project_transition and
concurrence_*, contacts.selectors.acting_lead_poc, the pages, the demo data
and the readiness job's reminder."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from contacts.selectors import acting_lead_poc
from contacts.services import poc_create, poc_update
from projects.models import Concurrence, CooperativeProject, ProjectTransition
from projects.services import (
    ProposalConflict,
    concurrence_concur,
    concurrence_decline,
    concurrence_withdraw,
    project_transition,
    project_update,
)
from scm_reports.roles import ADMINISTRATOR, LEAD_POC
from tests.factories import PointOfContactFactory, UserFactory, country

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 10)


@pytest.fixture
def prioritized(make_project, advance):
    return advance(make_project(), "under_review", "prioritized", today=TODAY)


def _group_user(username, role):
    from django.contrib.auth.models import Group

    user = UserFactory(username=username)
    user.groups.set([Group.objects.get(name=role)])
    return user


def _status(project):
    return CooperativeProject.objects.get(pk=project.pk).status


# --- Lead POCs are people of a side ----------------------------------------------------------


def test_the_acting_lead_poc_is_the_linked_active_lead_of_a_side(lead, us_lead_poc, rok_lead, rok_lead_poc):
    assert acting_lead_poc(lead) == us_lead_poc
    assert acting_lead_poc(rok_lead) == rok_lead_poc
    rok_lead_poc.active = False
    rok_lead_poc.save()
    assert acting_lead_poc(rok_lead) is None
    us_lead_poc.is_lead = False
    us_lead_poc.save()
    assert acting_lead_poc(lead) is None


@pytest.mark.parametrize("role", [LEAD_POC, ADMINISTRATOR])
def test_a_group_without_a_linked_active_lead_poc_takes_no_lead_step(make_project, advance, role, us_lead_poc):
    """Whatever the group (the lead POC role, administrator), no linked lead POC: refused, nothing saved."""
    project = advance(make_project(), "under_review", today=TODAY)
    user = _group_user("group-only", role)
    for to, extra in (("prioritized", {"priority": 1}), ("on_hold", {}), ("withdrawn", {})):
        with pytest.raises(PermissionDenied, match="not linked to an active lead POC"):
            project_transition(project=project, to=to, by=user, today=TODAY, **extra)
    with pytest.raises(PermissionDenied):
        project_update(project=project, by=user, priority=2)
    assert (_status(project), Concurrence.objects.count()) == ("under_review", 0)
    # A lead POC that is no longer a lead (or inactive) gives no powers either.
    PointOfContactFactory(side="rok", is_lead=False, user=user)
    with pytest.raises(PermissionDenied):
        project_transition(project=project, to="prioritized", by=user, priority=1, today=TODAY)


def test_the_lead_step_page_refuses_a_lead_group_user_without_a_poc(client, make_project, advance):
    project = advance(make_project(), "under_review", today=TODAY)
    client.force_login(_group_user("group-only", LEAD_POC))
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert 'data-testid="step-prioritized"' not in page
    response = client.post(f"/projects/{project.pk}/transition/", {"to": "prioritized", "priority": "1"})
    assert response.status_code == 403
    assert _status(project) == "under_review"


def test_only_administrators_designate_leads_and_link_logins(editor, administrator, us_lead_poc):
    poc = PointOfContactFactory(side="rok")
    with pytest.raises(ValidationError) as refused:
        poc_update(poc=poc, by=editor, is_lead=True)
    assert "is_lead" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        poc_update(poc=us_lead_poc, by=editor, is_lead=False)
    assert "is_lead" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        poc_update(poc=poc, by=editor, user=editor)
    assert "user" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        poc_create(by=editor, full_name="New lead", side="us", organization=us_lead_poc.organization,
                   is_lead=True)
    assert "is_lead" in refused.value.message_dict
    # An edit that leaves them alone is fine; an administrator may change them.
    poc_update(poc=us_lead_poc, by=editor, is_lead=True, phone="+1 703 555 0100")
    poc_update(poc=poc, by=administrator, is_lead=True, user=editor)
    poc.refresh_from_db()
    assert (poc.is_lead, poc.user) == (True, editor)


def test_the_contacts_form_refuses_an_editor_setting_is_lead(client, editor):
    poc = PointOfContactFactory(side="rok")
    client.force_login(editor)
    response = client.post(f"/contacts/{poc.pk}/edit/", {
        "full_name": poc.full_name, "organization": poc.organization_id, "side": "rok", "email": poc.email,
        "active": "on", "is_lead": "on", "preferred_language": "en", "version": poc.version})
    assert response.status_code == 400
    assert "Only administrators can designate or remove lead POCs." in response.content.decode()
    poc.refresh_from_db()
    assert poc.is_lead is False


def test_the_admin_shows_is_lead_read_only_to_staff_who_may_not_designate(client, administrator):
    from django.contrib.auth.models import Permission

    poc = PointOfContactFactory(side="rok")
    url = f"/admin/contacts/pointofcontact/{poc.pk}/change/"
    client.force_login(administrator)
    assert 'name="is_lead"' in client.get(url).content.decode()
    staff = UserFactory(username="staff-editor", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(
        codename__in=["view_pointofcontact", "change_pointofcontact"]))
    client.force_login(staff)
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="is_lead"' not in page.content.decode() and 'name="user"' not in page.content.decode()


# --- Joint concurrence --------------------------------------------------------------------------


def test_one_side_proposes_ready_and_the_other_concurs_dated_the_day_it_concurs(prioritized, lead, rok_lead):
    proposal = project_transition(project=prioritized, to="ready", by=lead, note="Briefed", today=TODAY)
    assert isinstance(proposal, Concurrence)
    assert (proposal.side, proposal.step, proposal.is_open, str(proposal.awaiting_label())) == (
        "us", "ready", True, "Awaiting ROK concurrence")
    assert _status(prioritized) == "prioritized"
    later = TODAY + datetime.timedelta(days=6)
    concurrence_concur(concurrence=proposal, by=rok_lead, today=later)
    project = CooperativeProject.objects.get(pk=prioritized.pk)
    assert (project.status, project.ready_on) == ("ready", later)
    proposal.refresh_from_db()
    assert (proposal.concurred_by, proposal.is_open) == (rok_lead, False)
    step = project.transitions.first()
    assert (step.to_status, step.by, step.ready_on) == ("ready", rok_lead, later)
    assert "Briefed" in step.note and "concurred by the ROK side" in step.note


def test_a_backfill_date_in_the_proposal_is_the_ready_date(prioritized, lead, rok_lead):
    proposal = project_transition(project=prioritized, to="ready", by=lead, today=TODAY,
                                  ready_on=datetime.date(2026, 2, 1))
    concurrence_concur(concurrence=proposal, by=rok_lead, today=TODAY + datetime.timedelta(days=3))
    assert CooperativeProject.objects.get(pk=prioritized.pk).ready_on == datetime.date(2026, 2, 1)


def test_prioritising_is_joint_too_and_the_rok_side_may_propose(make_project, advance, lead, rok_lead):
    project = advance(make_project(lead_side="rok"), "under_review", today=TODAY)
    proposal = project_transition(project=project, to="prioritized", by=rok_lead, priority=1, today=TODAY)
    assert (proposal.side, proposal.priority, _status(project)) == ("rok", 1, "under_review")
    assert CooperativeProject.objects.get(pk=project.pk).priority is None  # nothing of it applied yet
    concurrence_concur(concurrence=proposal, by=lead, today=TODAY)
    project.refresh_from_db()
    assert (project.status, project.priority) == ("prioritized", 1)


def test_a_second_open_proposal_is_refused_by_the_database(prioritized, lead, rok_lead):
    first = project_transition(project=prioritized, to="ready", by=lead, today=TODAY)
    with pytest.raises(ProposalConflict, match="already proposed"):
        project_transition(project=prioritized, to="ready", by=rok_lead, today=TODAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        Concurrence.objects.create(project=prioritized, step="ready", from_status="prioritized", project_version=1,
                                   side="rok")
    # Once it is closed, a new one may be made.
    concurrence_decline(concurrence=first, by=rok_lead, note="Not yet")
    assert project_transition(project=prioritized, to="ready", by=rok_lead, today=TODAY).is_open


def test_a_decline_closes_it_with_the_note_and_the_project_stays(prioritized, lead, rok_lead):
    proposal = project_transition(project=prioritized, to="ready", by=lead, today=TODAY)
    with pytest.raises(ValidationError) as refused:
        concurrence_decline(concurrence=proposal, by=rok_lead, note="  ")
    assert "note" in refused.value.message_dict
    concurrence_decline(concurrence=proposal, by=rok_lead, note="The partner has not agreed yet.")
    proposal.refresh_from_db()
    assert (proposal.state, proposal.declined_by, proposal.response_note) == (
        "declined", rok_lead, "The partner has not agreed yet.")
    assert _status(prioritized) == "prioritized"
    with pytest.raises(ProposalConflict, match="closed: it was declined"):
        concurrence_concur(concurrence=proposal, by=rok_lead, today=TODAY)
    assert _status(prioritized) == "prioritized"


def test_the_same_side_cannot_concur_with_its_own_proposal(prioritized, lead, us_lead_poc):
    proposal = project_transition(project=prioritized, to="ready", by=lead, today=TODAY)
    other_us_lead = UserFactory(username="another-us-lead")
    other_us_lead.groups.set(lead.groups.all())
    PointOfContactFactory(side="us", is_lead=True, user=other_us_lead)
    for who in (lead, other_us_lead):
        with pytest.raises(PermissionDenied, match="ROK side must concur"):
            concurrence_concur(concurrence=proposal, by=who, today=TODAY)
        with pytest.raises(PermissionDenied):
            concurrence_decline(concurrence=proposal, by=who, note="no")
    editor_like = _group_user("group-only", LEAD_POC)
    with pytest.raises(PermissionDenied):
        concurrence_concur(concurrence=proposal, by=editor_like, today=TODAY)
    assert (_status(prioritized), Concurrence.objects.get(step="ready").is_open) == ("prioritized", True)
    # The proposing side can withdraw it.
    concurrence_withdraw(concurrence=proposal, by=other_us_lead)
    assert Concurrence.objects.get(step="ready").state == "withdrawn"


def test_a_stale_proposal_is_refused(prioritized, lead, rok_lead):
    proposal = project_transition(project=prioritized, to="ready", by=lead, today=TODAY)
    # The project was changed after the ROK lead reviewed it.
    seen = CooperativeProject.objects.get(pk=prioritized.pk).version
    project_update(project=CooperativeProject.objects.get(pk=prioritized.pk), by=lead, summary="Changed scope.")
    with pytest.raises(ProposalConflict, match="changed after you opened it"):
        concurrence_concur(concurrence=proposal, by=rok_lead, project_version=seen, today=TODAY)
    # The project stepped back meanwhile: the proposal closed with it.
    project_transition(project=CooperativeProject.objects.get(pk=prioritized.pk), to="under_review", by=lead,
                       today=TODAY)
    with pytest.raises(ProposalConflict, match="closed: it was withdrawn"):
        concurrence_concur(concurrence=proposal, by=rok_lead, today=TODAY)
    assert "moved from" in Concurrence.objects.get(step="ready").response_note
    assert _status(prioritized) == "under_review"


def test_a_proposal_whose_project_moved_without_closing_it_is_stale(prioritized, lead, rok_lead):
    proposal = project_transition(project=prioritized, to="ready", by=lead, today=TODAY)
    CooperativeProject.objects.filter(pk=prioritized.pk).update(status="under_review", priority=None)  # by hand
    with pytest.raises(ProposalConflict, match="stale"):
        concurrence_concur(concurrence=proposal, by=rok_lead, today=TODAY)
    assert _status(prioritized) == "under_review"


def test_proposing_what_the_lifecycle_does_not_allow_is_refused_and_saves_nothing(make_project, advance, lead):
    concept = make_project()
    with pytest.raises(ValidationError) as refused:
        project_transition(project=concept, to="ready", by=lead, today=TODAY)
    assert "cannot move from" in str(refused.value.message_dict["to"])
    project = advance(make_project(partner_countries=[]), "under_review", "prioritized", today=TODAY)
    with pytest.raises(ValidationError) as refused:
        project_transition(project=project, to="ready", by=lead, today=TODAY)
    assert "partner_countries" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        project_transition(project=project, to="ready", by=lead, today=TODAY, ready_on=TODAY.replace(year=2027))
    assert "ready_on" in refused.value.message_dict
    assert not Concurrence.objects.filter(concurred_at__isnull=True).exists()


def test_changes_that_matter_while_open_are_shown_on_the_proposal(client, prioritized, lead, rok_lead,
                                                                  rok_lead_poc):
    proposal = project_transition(project=prioritized, to="ready", by=lead, today=TODAY)
    other_rok = PointOfContactFactory(side="rok", full_name="Park Seo-yeon")
    project_update(project=CooperativeProject.objects.get(pk=prioritized.pk), by=lead,
                   partner_countries=[country("PH"), country("VN")], rok_lead_poc=other_rok, title="Renamed")
    proposal.refresh_from_db()
    assert {(c["field"], c["old"], c["new"]) for c in proposal.changes} == {
        ("partner_countries", "PH", "PH, VN"), ("rok_lead_poc", "Kim Min-jun", "Park Seo-yeon")}
    client.force_login(rok_lead)
    page = client.get(f"/projects/{prioritized.pk}/").content.decode()
    assert "Awaiting ROK concurrence" in page and "Changed since it was proposed" in page
    assert "Partner countries: <del>PH</del> → <ins>PH, VN</ins>" in page
    assert 'data-testid="concur"' in page
    client.force_login(lead)
    page = client.get(f"/projects/{prioritized.pk}/").content.decode()
    assert 'data-testid="concur"' not in page and 'data-testid="withdraw"' in page


def test_with_concurrence_off_one_lead_s_step_happens_at_once(settings, make_project, lead):
    settings.RCF_JOINT_CONCURRENCE = False
    project = project_transition(project=make_project(), to="under_review", by=lead, today=TODAY)
    project = project_transition(project=project, to="prioritized", by=lead, priority=2, today=TODAY)
    assert isinstance(project, CooperativeProject) and project.status == "prioritized"
    project = project_transition(project=project, to="ready", by=lead, today=TODAY)
    assert (project.status, project.ready_on, Concurrence.objects.count()) == ("ready", TODAY, 0)
    assert ProjectTransition.objects.filter(project=project, to_status="ready", by=lead).exists()


def test_a_joint_decision_needs_no_proposal(prioritized, lead):
    project = project_transition(project=prioritized, to="ready", by=lead, today=TODAY, joint_decision=True)
    assert (project.status, Concurrence.objects.filter(step="ready").count()) == ("ready", 0)


def test_the_answer_pages_concur_and_decline(client, prioritized, make_project, advance, lead, rok_lead):
    proposal = project_transition(project=prioritized, to="ready", by=lead, today=TODAY)
    client.force_login(lead)
    assert client.post(f"/projects/concurrences/{proposal.pk}/concur/", {}).status_code == 403
    client.force_login(rok_lead)
    response = client.post(f"/projects/concurrences/{proposal.pk}/decline/", {"note": ""}, follow=True)
    assert "Say why the proposal is declined." in response.content.decode()
    response = client.post(f"/projects/concurrences/{proposal.pk}/concur/", {"version": proposal.version},
                           follow=True)
    assert "You concurred" in response.content.decode()
    response = client.post(f"/projects/concurrences/{proposal.pk}/concur/", {}, follow=True)
    assert "This proposal is closed: it was concurred with on" in response.content.decode()


def test_the_dashboard_lists_what_awaits_the_signed_in_lead(client, prioritized, lead, rok_lead, viewer):
    project_transition(project=prioritized, to="ready", by=lead, today=TODAY)
    client.force_login(rok_lead)
    page = client.get("/").content.decode()
    assert "Awaiting your concurrence" in page and "U.S. proposes “Ready”" in page
    client.force_login(lead)
    page = client.get("/").content.decode()
    assert "Nothing awaits your side's concurrence." in page and "Awaiting ROK concurrence" in page
    client.force_login(viewer)
    assert "Awaiting your concurrence" not in client.get("/").content.decode()


# --- The readiness job's reminder ----------------------------------------------------------------


def test_the_job_reminds_the_other_side_once_when_a_proposal_waits_near_the_deadline(
        settings, prioritized, lead, rok_lead, rok_lead_poc):
    from scm_reports.models import SCMCycle
    from scm_reports.tasks import flag_unready_years

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    SCMCycle.objects.create(number=58, year=2026, meeting_date=datetime.date(2026, 11, 5), location="Washington")
    with time_machine.travel(datetime.datetime(2026, 3, 10, 3, tzinfo=datetime.UTC)):
        proposal = project_transition(project=prioritized, to="ready", by=lead, today=TODAY)
    mail.outbox.clear()
    # Waiting 5 days, or far from the deadline: no reminder.
    assert flag_unready_years(today="2026-03-15")["concurrence_reminders"] == 0
    assert flag_unready_years(today="2026-06-01")["concurrence_reminders"] == 0
    # Waiting months, the deadline within 90 days: the ROK lead POCs, once.
    assert flag_unready_years(today="2026-09-01")["concurrence_reminders"] == 1
    reminders = [m for m in mail.outbox if "Awaiting your concurrence" in m.subject]
    assert [m.to for m in reminders] == [[rok_lead_poc.email]]
    assert "Coast guard training" in reminders[0].body and "deadline is 4 Nov 2026" in reminders[0].body
    assert flag_unready_years(today="2026-09-02")["concurrence_reminders"] == 0
    proposal.refresh_from_db()
    assert proposal.reminded_at is not None


# --- The demo data --------------------------------------------------------------------------------


def test_seed_demo_links_one_lead_login_per_side(capsys):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    User.objects.create(username="lead")  # the unlinked login of earlier versions
    call_command("seed_demo", password="demo-pass-123")
    call_command("seed_demo", password="demo-pass-123")
    out = capsys.readouterr().out
    assert "lead-us" in out and "lead-rok" in out
    us, rok = acting_lead_poc(User.objects.get(username="lead-us")), acting_lead_poc(
        User.objects.get(username="lead-rok"))
    assert (us.side, rok.side) == ("us", "rok")
    assert User.objects.get(username="lead").is_active is False
    # The sample data was moved by the two leads together; one proposal is left awaiting the ROK side.
    waiting = Concurrence.objects.get(concurred_at__isnull=True, declined_at__isnull=True, withdrawn_at__isnull=True)
    assert (waiting.side, waiting.step, waiting.proposed_by.username) == ("us", "ready", "lead-us")
    assert Concurrence.objects.filter(concurred_by__username="lead-rok").exists()


def test_the_proposal_and_the_panel_speak_korean(client, prioritized, lead, rok_lead):
    project_transition(project=prioritized, to="ready", by=lead, today=TODAY)
    client.force_login(rok_lead)
    page = client.get(f"/projects/{prioritized.pk}/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "한국 측 동의 대기 중" in page and ">동의<" in page
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "귀측 동의 대기" in page

"""Review of issue 10 (review10): an editor re-activating a lead POC linked
to a login (lead powers granted by an editor), two proposals at once on the
project page (a 500), and the probes that found nothing (odd values on the
new pages and API, Korean search, ordinals) kept as regression checks."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from rest_framework.test import APIClient

from contacts.selectors import acting_lead_poc
from contacts.services import poc_update
from projects.models import Concurrence, CooperativeProject
from rcf.models import ApiToken

pytestmark = pytest.mark.django_db


def _api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(user=user, name='t')[1]}")
    return client


def test_an_editor_cannot_reactivate_a_lead_poc_with_a_login(editor, lead, us_lead_poc):
    us_lead_poc.active = False
    us_lead_poc.save()
    with pytest.raises(ValidationError):
        poc_update(poc=us_lead_poc, by=editor, active=True)
    assert acting_lead_poc(lead) is None


def test_nor_through_the_api(editor, lead, us_lead_poc):
    us_lead_poc.active = False
    us_lead_poc.save()
    r = _api(editor).patch(f"/api/v1/contacts/{us_lead_poc.pk}/", {"active": True}, format="json",
                           HTTP_IF_MATCH=f'"{us_lead_poc.version}"')
    assert r.status_code == 400, r.content
    assert acting_lead_poc(lead) is None


def test_an_editor_cannot_delete_a_lead_poc_with_a_login(editor, administrator, lead, us_lead_poc):
    """Deleting removes the lead powers as deactivating does: administrators only."""
    url = f"/api/v1/contacts/{us_lead_poc.pk}/"
    assert _api(editor).delete(url, HTTP_IF_MATCH=f'"{us_lead_poc.version}"').status_code == 403
    assert acting_lead_poc(lead) == us_lead_poc
    assert _api(administrator).delete(url, HTTP_IF_MATCH=f'"{us_lead_poc.version}"').status_code == 204
    assert acting_lead_poc(lead) is None


@pytest.mark.parametrize("q", ["abc", "99999999999999999999", "-1", "0", "2026.5", "\u0661\u0662"])
def test_odd_years(client, viewer, q):
    client.force_login(viewer)
    assert client.get("/projects/", {"year": q}).status_code < 500
    assert client.get("/api/v1/readiness/", {"year": q}).status_code < 500


@pytest.mark.parametrize("value", ["abc", "99999999999999999999", "-1", "", "1.5"])
def test_present_form_odd_values(client, lead, make_project, advance, value):
    project = advance(make_project(), "under_review", "prioritized", "ready",
                      today=datetime.date(2025, 10, 1), ready_on=datetime.date(2025, 9, 1))
    client.force_login(lead)
    assert client.get(f"/projects/{project.pk}/present/").status_code == 200
    r = client.post(f"/projects/{project.pk}/present/", {"scm_cycle": value, "outcome": "noted",
                                                          "version": value})
    assert r.status_code < 500
    r = _api(lead).post("/api/v1/scm-presentations/", {"project": project.pk, "scm_cycle": value,
                                                       "outcome": "noted"}, format="json")
    assert r.status_code == 400, r.content


def test_search_korean(client, viewer, make_project):
    make_project(title="Coast", title_ko="해양경찰 훈련")
    client.force_login(viewer)
    assert "해양경찰" in client.get("/projects/", {"q": "해양경찰"}).content.decode()
    r = _api(viewer).get("/api/v1/projects/", {"search": "해양경찰"}).json()
    assert len(r["results"]) == 1


def test_ordinals():
    from rcf.ordinals import scm_ordinal
    assert [scm_ordinal(n, language="en") for n in (51, 52, 53, 61, 111, 112, 113, 11, 101)] == [
        "51st", "52nd", "53rd", "61st", "111th", "112th", "113th", "11th", "101st"]
    assert scm_ordinal(51, language="ko") == "제51차"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="Two concurrent writers: SQLite serialises them (one waits for the other's lock).")
def test_two_proposals_at_once_on_the_page_one_wins_no_500(client, make_project, advance, lead, rok_lead):
    import threading

    from django.db import transaction

    from projects.services import project_transition

    project = advance(make_project(), "under_review", "prioritized")
    written, release = threading.Event(), threading.Event()

    def us_proposes():
        try:
            with transaction.atomic():
                project_transition(project=CooperativeProject.objects.get(pk=project.pk), to="ready", by=lead)
                written.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=us_proposes)
    thread.start()
    assert written.wait(10)
    threading.Timer(1.0, release.set).start()
    client.force_login(rok_lead)
    response = client.post(f"/projects/{project.pk}/transition/", {"to": "ready", "note": "", "version": ""},
                           follow=True)
    thread.join(30)
    # The page comes back with the reason beside the step (issue 12), as a conflict: no 500.
    assert response.status_code == 409
    assert "already proposed" in response.content.decode()
    assert Concurrence.objects.filter(project=project, step="ready").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="Two concurrent writers: SQLite serialises them (one waits for the other's lock).")
def test_two_rok_leads_concur_at_once_exactly_one_wins(make_project, advance, lead, rok_lead):
    """Probe (passed): the proposal's row lock decides; the loser gets the 409 naming the concurrence."""
    import threading

    from django.contrib.auth.models import Group

    from projects.services import project_transition
    from tests.factories import PointOfContactFactory, UserFactory

    second = UserFactory(username="second-rok-lead")
    second.groups.set([Group.objects.get(name="lead POC")])
    PointOfContactFactory(side="rok", is_lead=True, user=second)
    project = advance(make_project(), "under_review", "prioritized")
    proposal = project_transition(project=project, to="ready", by=lead)
    clients = [_api(rok_lead), _api(second)]
    start, results = threading.Barrier(2), [None, None]

    def concur(n):
        try:
            start.wait()
            results[n] = clients[n].post(f"/api/v1/concurrences/{proposal.pk}/concur/", {}, format="json")
        finally:
            connection.close()

    threads = [threading.Thread(target=concur, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(r.status_code for r in results) == [200, 409]
    assert "concurred with" in next(r for r in results if r.status_code == 409).json()["detail"]
    assert CooperativeProject.objects.get(pk=project.pk).status == "ready"
    assert project.transitions.filter(to_status="ready").count() == 1


# Two runs of the readiness job at once (the beat schedule and an operator's `flag_unready_years`): the
# reminder about a proposal goes out once. The mail server is the one thing faked: it answers slowly.
_first_send_started, _release_first_send = None, None


class _SlowMailServer:
    def __init__(self, *args, **kwargs):
        from django.core.mail.backends.locmem import EmailBackend

        self.backend = EmailBackend(*args, **kwargs)

    def send_messages(self, messages):
        if not _first_send_started.is_set():
            _first_send_started.set()
            _release_first_send.wait(10)
        return self.backend.send_messages(messages)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="Two concurrent runs of the job: SQLite serialises them (one waits for the other's lock).")
def test_two_runs_of_the_job_at_once_send_the_concurrence_reminder_once(settings, make_project, advance, lead,
                                                                         rok_lead_poc):
    import threading

    import time_machine
    from django.core import mail

    from projects.services import project_transition
    from scm_reports.models import SCMCycle
    from scm_reports.services import concurrence_reminders_send

    global _first_send_started, _release_first_send
    _first_send_started, _release_first_send = threading.Event(), threading.Event()
    settings.EMAIL_BACKEND = "tests.test_review10_findings._SlowMailServer"
    SCMCycle.objects.create(number=58, year=2026, meeting_date=datetime.date(2026, 11, 5), location="Washington")
    project = advance(make_project(), "under_review", "prioritized", today=datetime.date(2026, 3, 10))
    with time_machine.travel(datetime.datetime(2026, 3, 10, 3, tzinfo=datetime.UTC)):
        project_transition(project=project, to="ready", by=lead, today=datetime.date(2026, 3, 10))
    mail.outbox = []
    day = datetime.date(2026, 9, 1)

    def first_run():
        try:
            concurrence_reminders_send(today=day)
        finally:
            connection.close()

    thread = threading.Thread(target=first_run)
    thread.start()
    assert _first_send_started.wait(10)  # the first run is sending the reminder
    second = concurrence_reminders_send(today=day)
    _release_first_send.set()
    thread.join(30)
    assert second == 0
    assert [m.to for m in mail.outbox] == [[rok_lead_poc.email]]


class _DownMailServer:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPServerDisconnected("the mail server is down")


def test_a_reminder_the_mail_server_refused_is_sent_by_the_next_run(settings, make_project, advance, lead,
                                                                    rok_lead_poc):
    import time_machine
    from django.core import mail

    from projects.services import project_transition
    from scm_reports.models import SCMCycle
    from scm_reports.services import concurrence_reminders_send

    SCMCycle.objects.create(number=58, year=2026, meeting_date=datetime.date(2026, 11, 5), location="Washington")
    project = advance(make_project(), "under_review", "prioritized", today=datetime.date(2026, 3, 10))
    with time_machine.travel(datetime.datetime(2026, 3, 10, 3, tzinfo=datetime.UTC)):
        proposal = project_transition(project=project, to="ready", by=lead, today=datetime.date(2026, 3, 10))
    settings.EMAIL_BACKEND = "tests.test_review10_findings._DownMailServer"
    assert concurrence_reminders_send(today=datetime.date(2026, 9, 1)) == 0
    proposal.refresh_from_db()
    assert proposal.reminded_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    assert concurrence_reminders_send(today=datetime.date(2026, 9, 2)) == 1
    assert [m.to for m in mail.outbox] == [[rok_lead_poc.email]]


def test_the_proposer_cannot_concur_after_being_relinked_to_the_other_side(make_project, advance, administrator,
                                                                          us_lead_poc, rok_lead_poc):
    """An administrator may link logins to POCs; relinking their own login from the U.S. lead POC to the ROK one
    between proposing and concurring would make one person both sides."""
    from django.core.exceptions import PermissionDenied

    from projects.services import concurrence_concur, project_transition

    project = advance(make_project(), "under_review", "prioritized")
    us_lead_poc.user, rok_lead_poc.user = None, None
    us_lead_poc.save()
    rok_lead_poc.save()
    poc_update(poc=us_lead_poc, by=administrator, user=administrator)
    proposal = project_transition(project=project, to="ready", by=administrator)
    poc_update(poc=us_lead_poc, by=administrator, user=None)
    poc_update(poc=rok_lead_poc, by=administrator, user=administrator)
    with pytest.raises(PermissionDenied, match="You proposed this step"):
        concurrence_concur(concurrence=proposal, by=administrator)
    assert CooperativeProject.objects.get(pk=project.pk).status == "prioritized"

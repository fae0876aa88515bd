"""The daily action reminders: one e-mail per owner a day listing all their
overdue and due-soon actions (and, for lead POCs, their projects' overdue
milestones), never twice a day; sent by the daily job and by
``manage.py send_action_reminders``."""

import datetime
import io
import json
import smtplib
import threading

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection

from projects import services
from projects.models import ActionReminder
from scm_reports.tasks import flag_unready_years
from tests.factories import MilestoneFactory, PointOfContactFactory, ProjectFactory

TODAY = datetime.date(2026, 3, 10)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def owner(db):
    return PointOfContactFactory(full_name="Ana Park", email="ana@example.org")


def _action(owner, title, due_on, **extra):
    return services.action_create(title=title, owner=owner, due_on=due_on, **extra)


def _mail_to(address):
    return [m for m in mail.outbox if m.to == [address]]


@pytest.mark.django_db
def test_three_overdue_actions_one_email_once_a_day_again_the_next_day(owner):
    """The acceptance test: the daily job sends one e-mail listing all three,
    none on a second run the same day, one again the next day; a done action
    stops appearing."""
    first, second, third = (_action(owner, f"Overdue {n}", TODAY - n * DAY) for n in (1, 2, 3))
    result = flag_unready_years(today=TODAY.isoformat())
    assert result["action_reminders"] == 1
    [message] = _mail_to(owner.email)
    for title in ("Overdue 1", "Overdue 2", "Overdue 3"):
        assert title in message.body
    assert "Overdue actions (3)" in message.body
    assert "http://testserver/actions/" in message.body or "/actions/" in message.body

    assert flag_unready_years(today=TODAY.isoformat())["action_reminders"] == 0
    call_command("send_action_reminders", "--today", TODAY.isoformat(), stdout=io.StringIO())
    assert len(_mail_to(owner.email)) == 1  # never twice on a day, job or command

    services.action_mark_done(action=second, today=TODAY)
    mail.outbox = []
    assert flag_unready_years(today=(TODAY + DAY).isoformat())["action_reminders"] == 1
    [message] = _mail_to(owner.email)
    assert "Overdue 1" in message.body and "Overdue 3" in message.body
    assert "Overdue 2" not in message.body  # done: no longer listed
    assert ActionReminder.objects.get(poc=owner, day=TODAY + DAY).action_ids == [third.pk, first.pk]


@pytest.mark.django_db
def test_the_command_sends_and_prints_json(owner):
    late = _action(owner, "Late", TODAY - DAY)
    soon = _action(owner, "Soon", TODAY + 7 * DAY)
    _action(owner, "Later", TODAY + 8 * DAY)  # beyond the 7 days
    nobody = PointOfContactFactory(email="")  # no address: nothing to send to
    _action(nobody, "Theirs", TODAY - DAY)

    out = io.StringIO()
    call_command("send_action_reminders", "--today", TODAY.isoformat(), "--dry-run", "--json", stdout=out)
    dry = json.loads(out.getvalue())
    assert dry == {"today": "2026-03-10", "reminders": [
        {"poc_id": owner.pk, "email": "ana@example.org", "action_ids": [late.pk, soon.pk], "milestone_ids": []}]}
    assert mail.outbox == [] and not ActionReminder.objects.exists()  # a dry run sends nothing

    out = io.StringIO()
    call_command("send_action_reminders", "--today", TODAY.isoformat(), "--json", stdout=out)
    assert json.loads(out.getvalue()) == dry
    [message] = mail.outbox
    assert "Late" in message.body and "Soon" in message.body and "Later" not in message.body

    for extra in ([], ["--dry-run"]):  # a second run the same day lists none
        out = io.StringIO()
        call_command("send_action_reminders", "--today", TODAY.isoformat(), "--json", *extra, stdout=out)
        assert json.loads(out.getvalue()) == {"today": "2026-03-10", "reminders": []}
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_bad_date_is_a_clear_error():
    with pytest.raises(CommandError, match="--today must be a date in YYYY-MM-DD form"):
        call_command("send_action_reminders", "--today", "10/03/2026", stdout=io.StringIO())


def test_a_bad_date_prints_no_traceback(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "manage.py", "send_action_reminders", "--today", "2026-13-01"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "--today must be a date" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_overdue_milestones_reach_the_projects_lead_pocs(us_lead_poc, rok_lead_poc, owner):
    project = ProjectFactory(us_lead_poc=us_lead_poc, rok_lead_poc=rok_lead_poc, title="Coast guard training")
    milestone = MilestoneFactory(project=project, title="Curriculum agreed", due_on=TODAY - DAY)
    MilestoneFactory(project=project, title="Not yet", due_on=TODAY + DAY)
    action = _action(us_lead_poc, "Book the venue", TODAY - 2 * DAY, project=project)
    report = services.action_reminders_send(today=TODAY)
    rows = {row["poc_id"]: row for row in report}
    assert rows[us_lead_poc.pk]["action_ids"] == [action.pk]
    assert rows[us_lead_poc.pk]["milestone_ids"] == [milestone.pk]
    assert rows[rok_lead_poc.pk] == {"poc_id": rok_lead_poc.pk, "email": rok_lead_poc.email, "action_ids": [],
                                     "milestone_ids": [milestone.pk]}
    assert owner.pk not in rows
    [to_us] = _mail_to(us_lead_poc.email)
    assert "Book the venue" in to_us.body and "Curriculum agreed" in to_us.body and "Not yet" not in to_us.body
    assert "Coast guard training" in to_us.body
    assert len(mail.outbox) == 2  # one e-mail each, not one per item


@pytest.mark.django_db
def test_in_the_owners_language_and_marked(owner, settings):
    settings.RCF_HANDLING_MARKING = "CUI"
    owner.preferred_language = "ko"
    owner.save()
    _action(owner, "Overdue", TODAY - DAY)
    services.action_reminders_send(today=TODAY)
    [message] = mail.outbox
    assert message.body.startswith("CUI\n") and message.body.rstrip().endswith("CUI")
    assert "기한" in message.subject or "조치" in message.subject  # Korean subject
    assert "Overdue actions" not in message.body


@pytest.mark.django_db
def test_inactive_and_deleted_owners_get_nothing(owner):
    _action(owner, "Overdue", TODAY - DAY)
    owner.active = False
    owner.save()
    assert services.action_reminders_send(today=TODAY) == []
    assert mail.outbox == []


class _DownMailServer:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("the mail server is down")


@pytest.mark.django_db
def test_a_mail_server_down_does_not_break_the_job_and_the_next_run_sends(owner, settings, caplog):
    _action(owner, "Overdue", TODAY - DAY)
    settings.EMAIL_BACKEND = "tests.projects.test_action_reminders._DownMailServer"
    result = flag_unready_years(today=TODAY.isoformat())  # no exception: the readiness job goes on
    assert result["action_reminders"] == 0
    reminder = ActionReminder.objects.get(poc=owner, day=TODAY)
    assert reminder.sent_at is None and "down" in reminder.error
    assert "not sent" in caplog.text
    with pytest.raises(CommandError, match="ana@example.org"):
        call_command("send_action_reminders", "--today", TODAY.isoformat(), stdout=io.StringIO())

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert flag_unready_years(today=TODAY.isoformat())["action_reminders"] == 1
    assert len(_mail_to(owner.email)) == 1
    reminder.refresh_from_db()
    assert reminder.sent_at is not None and reminder.error == ""
    assert flag_unready_years(today=TODAY.isoformat())["action_reminders"] == 0


@pytest.mark.django_db
def test_a_run_that_crashed_mid_send_does_not_block_the_day_for_ever(owner):
    import time_machine

    _action(owner, "Overdue", TODAY - DAY)
    with time_machine.travel(datetime.datetime(2026, 3, 10, 0, 0, tzinfo=datetime.UTC)):
        ActionReminder.objects.create(poc=owner, day=TODAY, email=owner.email)  # claimed, never sent
    with time_machine.travel(datetime.datetime(2026, 3, 10, 0, 0, 5, tzinfo=datetime.UTC)):
        assert services.action_reminders_send(today=TODAY) == []  # another run may be sending it now
    with time_machine.travel(datetime.datetime(2026, 3, 10, 1, 0, tzinfo=datetime.UTC)):
        assert len(services.action_reminders_send(today=TODAY)) == 1  # long past any send: taken again
    assert len(mail.outbox) == 1


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
                    reason="Two concurrent runs: SQLite serialises them (one waits for the other's lock).")
def test_two_runs_at_once_send_one_reminder(settings):
    global _first_send_started, _release_first_send
    _first_send_started, _release_first_send = threading.Event(), threading.Event()
    settings.EMAIL_BACKEND = "tests.projects.test_action_reminders._SlowMailServer"
    owner = PointOfContactFactory(email="ana@example.org")
    for n in (1, 2, 3):
        _action(owner, f"Overdue {n}", TODAY - n * DAY)
    mail.outbox = []

    def first_run():
        try:
            services.action_reminders_send(today=TODAY)
        finally:
            connection.close()

    thread = threading.Thread(target=first_run)
    thread.start()
    assert _first_send_started.wait(10)  # the first run is sending
    second = services.action_reminders_send(today=TODAY)
    _release_first_send.set()
    thread.join(30)
    assert second == []
    assert [m.to for m in mail.outbox] == [["ana@example.org"]]


@pytest.mark.django_db
def test_administrators_see_the_reminders_read_only_in_the_admin(client, administrator, owner):
    _action(owner, "Overdue", TODAY - DAY)
    services.action_reminders_send(today=TODAY)
    reminder = ActionReminder.objects.get()
    client.force_login(administrator)
    assert owner.email in client.get("/admin/projects/actionreminder/").content.decode()
    assert client.get(f"/admin/projects/actionreminder/{reminder.pk}/change/").status_code == 200  # a view
    assert client.post(f"/admin/projects/actionreminder/{reminder.pk}/change/", {"error": "x"}).status_code == 403
    assert client.get("/admin/projects/actionreminder/add/").status_code == 403


@pytest.mark.django_db
def test_the_action_admin_saves_through_the_service(client, administrator, owner):
    from projects.models import ActionItem

    client.force_login(administrator)
    owner.active = False
    owner.save()
    response = client.post("/admin/projects/actionitem/add/", {
        "title": "Call", "owner": owner.pk, "due_on": "2026-03-10", "status": "open", "description": "",
        "external_id": ""})
    assert response.status_code == 200 and "active point of contact" in response.content.decode()
    assert not ActionItem.all_objects.exists()

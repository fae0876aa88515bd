"""The weekly digest to lead POCs (issue 11): one e-mail per active lead POC
per week, in their language, listing exactly their week's items."""

import datetime
import io
import json
import smtplib
import threading
import time

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import CommandError, call_command
from django.utils import timezone

from projects import services as project_services
from projects.models import Concurrence
from scm_reports.digest import weekly_digest_for
from scm_reports.models import WeeklyDigest
from scm_reports.services import DigestNotDelivered, weekly_digest_send
from tests.factories import (
    ActionItemFactory,
    EngagementFactory,
    MilestoneFactory,
    PointOfContactFactory,
    ProgressUpdateFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 6, 1)


def days(n):
    return MONDAY + datetime.timedelta(days=n)


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://rcf.example.org/"
    settings.RCF_ACTION_DUE_SOON_DAYS = 7


def _propose(project, *, by, to="prioritized"):
    """An open proposal by ``by``'s side (the other side is asked to concur)."""
    result = project_services.project_transition(project=project, to=to, by=by, priority=2, today=days(-5))
    assert isinstance(result, Concurrence) and result.is_open
    return result


def _health(project, *steps):
    for offset, health in steps:
        ProgressUpdateFactory(project=project, date=days(offset), health=health)


@pytest.fixture
def week(scm_2026, make_project, advance, lead, rok_lead, us_lead_poc, rok_lead_poc):
    """The U.S. lead POC's week of Monday 1 June 2026, and what must not be in it."""
    other = PointOfContactFactory(side="us", full_name="Someone Else")

    # Proposals: two of the ROK side await the U.S. side; one of the U.S. side awaits the ROK side.
    for title in ("Coast guard training", "Port visit programme"):
        _propose(advance(make_project(title=title), "under_review", today=days(-6)), by=rok_lead)
    _propose(advance(make_project(title="Own side's proposal"), "under_review", today=days(-6)), by=lead)

    # Actions: three overdue and one due soon are theirs; the rest are not, or are done, or are later.
    for n, offset in enumerate((-10, -3, -1)):
        ActionItemFactory(owner=us_lead_poc, title=f"Overdue action {n + 1}", due_on=days(offset))
    ActionItemFactory(owner=us_lead_poc, title="Upcoming action", due_on=days(3))
    ActionItemFactory(owner=us_lead_poc, title="Done action", due_on=days(-4), status="done", done_on=days(-2))
    ActionItemFactory(owner=us_lead_poc, title="Cancelled action", due_on=days(-4), status="cancelled")
    ActionItemFactory(owner=us_lead_poc, title="Far-off action", due_on=days(30))
    ActionItemFactory(owner=other, title="Someone else's action", due_on=days(-2))

    # Health: one project they lead worsened this past week.
    implementing = dict(status="in_implementation", priority=2, ready_on=datetime.date(2025, 6, 1))
    led = dict(us_lead_poc=us_lead_poc, rok_lead_poc=rok_lead_poc, **implementing)
    worse = ProjectFactory(title="Radar upgrade", **led)
    _health(worse, (-20, "on_track"), (-3, "off_track"))
    _health(ProjectFactory(title="Steady project", **led), (-20, "on_track"), (-2, "on_track"))
    _health(ProjectFactory(title="Better project", **led), (-20, "off_track"), (-2, "on_track"))
    _health(ProjectFactory(title="Worse a while ago", **led), (-30, "on_track"), (-15, "at_risk"))
    _health(ProjectFactory(title="Not their project", **implementing), (-20, "on_track"),
            (-2, "at_risk"))

    # An overdue milestone of a project they lead counts like an overdue action.
    MilestoneFactory(project=worse, title="Site survey", due_on=days(-5))
    MilestoneFactory(project=worse, title="Survey done", due_on=days(-5), done_on=days(-6))

    # Engagements: one they attend, one about a project they lead; the others are not theirs or not soon.
    EngagementFactory(date=days(2), summary="Working group on radar", projects=[]).participants.set([us_lead_poc])
    EngagementFactory(date=days(9), summary="Yard visit for the radar", projects=[worse])
    EngagementFactory(date=days(21), summary="Three weeks out", projects=[]).participants.set([us_lead_poc])
    EngagementFactory(date=days(-1), summary="Yesterday's call", projects=[]).participants.set([us_lead_poc])
    EngagementFactory(date=days(4), summary="Someone else's meeting", projects=[]).participants.set([other])
    gone = EngagementFactory(date=days(5), summary="Deleted meeting", projects=[worse])
    gone.deleted_at = timezone.now()
    gone.save()
    return us_lead_poc


def test_the_digest_lists_exactly_the_items_of_the_week(week):
    digest = weekly_digest_for(poc=week, today=MONDAY)

    assert digest["counts"] == {"awaiting_concurrence": 2, "overdue_actions": 3, "upcoming_actions": 1,
                                "overdue_milestones": 1, "health_worsened": 1, "engagements": 2}
    assert sorted(c.project.title for c in digest["awaiting"]) == ["Coast guard training", "Port visit programme"]
    assert [a.title for a in digest["overdue"]] == ["Overdue action 1", "Overdue action 2", "Overdue action 3"]
    assert [a.title for a in digest["due_soon"]] == ["Upcoming action"]
    assert [m.title for m in digest["milestones"]] == ["Site survey"]
    assert [p.title for p in digest["worsened"]] == ["Radar upgrade"]
    assert [e.summary for e in digest["engagements"]] == ["Working group on radar", "Yard visit for the radar"]
    assert digest["readiness"].year == 2026 and digest["readiness"].days_left == 156  # deadline 4 Nov 2026


def test_the_email_lists_the_items_and_none_of_the_others(week):
    report = weekly_digest_send(today=MONDAY)
    assert len(report) == len(mail.outbox) == 2  # the ROK lead POC's digest too
    [row] = [r for r in report if r["poc_id"] == week.pk]
    assert row["email"] == week.email and row["language"] == "en"
    [message] = [m for m in mail.outbox if m.to == [week.email]]
    assert message.to == [week.email]
    assert message.subject == "[RCF Tracker] Weekly digest, week of 1 Jun 2026"
    body = message.body
    for present in ("Readiness for the 2026 SCM", "Days left: 156",
                    "Proposals awaiting your side's concurrence (2)", "Coast guard training", "Port visit programme",
                    "Your overdue actions (3)", "Overdue action 1", "Overdue action 3",
                    "Your actions due in the next 7 days (1)", "Upcoming action",
                    "Overdue milestones of projects you lead (1)", "Site survey",
                    "Projects you lead whose health worsened this past week (1)",
                    "Radar upgrade: On track → Off track",
                    "Engagements in the coming two weeks (2)", "Working group on radar", "Yard visit for the radar",
                    "https://rcf.example.org/profile/", "https://rcf.example.org/projects/",
                    "https://rcf.example.org/actions/", "https://rcf.example.org/engagements/"):
        assert present in body, present
    for absent in ("Own side's proposal", "Done action", "Cancelled action", "Far-off action",
                   "Someone else's action", "Survey done", "Steady project", "Better project", "Worse a while ago",
                   "Not their project", "Three weeks out", "Yesterday's call", "Someone else's meeting",
                   "Deleted meeting"):
        assert absent not in body, absent
    digest = WeeklyDigest.objects.get(poc=week)
    assert (digest.week_of, digest.sent_at is not None, digest.error) == (MONDAY, True, "")
    assert digest.item_counts["overdue_actions"] == 3 and digest.item_counts["engagements"] == 2


def test_a_korean_preferring_lead_poc_reads_it_in_korean(week, rok_lead_poc):
    week.weekly_digest = False
    week.save()
    rok_lead_poc.preferred_language, rok_lead_poc.full_name_ko = "ko", "김민준"
    rok_lead_poc.save()
    ActionItemFactory(owner=rok_lead_poc, title="Overdue ROK action", due_on=days(-2))

    [row] = weekly_digest_send(today=MONDAY)
    assert row["language"] == "ko"
    [message] = mail.outbox
    assert message.subject == "[RCF Tracker] 주간 요약 (2026년 6월 1일 주)"
    body = message.body
    for korean in ("김민준 님의 주간 요약 (2026년 6월 1일 주)", "2026년 SCM 준비 현황", "남은 일수: 156",
                   "귀측의 동의를 기다리는 제안 (1)", "Own side's proposal",  # the U.S. side's awaits the ROK side
                   "기한이 지난 나의 조치 (1)", "Overdue ROK action",
                   "향후 7일 이내 기한인 나의 조치 (0)", "곧 기한이 되는 조치가 없습니다.",
                   "담당 프로젝트의 기한이 지난 마일스톤 (1)", "지난주 상태가 나빠진 담당 프로젝트 (1)",
                   "Radar upgrade: 정상 진행 → 궤도 이탈",
                   "향후 2주간의 협의 활동 (1)", "Yard visit for the radar", "프로필 페이지에서 설정을 변경하십시오"):
        assert korean in body, korean
    assert "Weekly digest" not in body and "Your overdue actions" not in body


def test_one_email_per_poc_per_week(week, rok_lead_poc):
    assert len(weekly_digest_send(today=MONDAY)) == 2  # both lead POCs
    assert len(mail.outbox) == 2
    # A second run the same week (the same day, or later in the week) sends nothing.
    assert weekly_digest_send(today=MONDAY) == []
    assert weekly_digest_send(today=days(3)) == []
    assert len(mail.outbox) == 2
    # The next week's run sends the next week's.
    assert len(weekly_digest_send(today=days(7))) == 2
    assert len(mail.outbox) == 4
    assert WeeklyDigest.objects.filter(week_of=days(7)).count() == 2


def test_only_active_lead_pocs_who_have_not_opted_out_get_it(db):
    wanted = PointOfContactFactory(side="us", is_lead=True, email="wanted@example.org")
    PointOfContactFactory(side="us", is_lead=True, email="opted.out@example.org", weekly_digest=False)
    PointOfContactFactory(side="rok", is_lead=True, email="inactive@example.org", active=False)
    PointOfContactFactory(side="rok", is_lead=False, email="officer@example.org")
    PointOfContactFactory(side="us", is_lead=True, email="")
    deleted = PointOfContactFactory(side="rok", is_lead=True, email="deleted@example.org")
    deleted.deleted_at = timezone.now()
    deleted.save()

    assert [r["poc_id"] for r in weekly_digest_send(today=MONDAY)] == [wanted.pk]
    assert [m.to for m in mail.outbox] == [["wanted@example.org"]]


def test_an_empty_week_says_so_section_by_section(us_lead_poc):
    weekly_digest_send(today=MONDAY)
    body = mail.outbox[0].body
    for empty in ("None awaiting your side.", "None overdue.", "None due soon.", "None worsened.",
                  "None planned."):
        assert empty in body, empty


def test_the_marking_is_on_the_email(us_lead_poc, settings):
    settings.RCF_HANDLING_MARKING = "CUI"
    weekly_digest_send(today=MONDAY)
    lines = mail.outbox[0].body.strip().splitlines()
    assert lines[0] == "CUI" and lines[-1] == "CUI"


def test_a_failed_send_is_recorded_and_the_next_run_retries_it(us_lead_poc, monkeypatch):
    real_send = EmailBackend.send_messages

    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    [row] = weekly_digest_send(today=MONDAY)
    assert "Connection unexpectedly closed" in row["error"]
    digest = WeeklyDigest.objects.get()
    assert digest.sent_at is None and "Connection unexpectedly closed" in digest.error

    monkeypatch.setattr(EmailBackend, "send_messages", real_send)
    [row] = weekly_digest_send(today=days(1))
    assert "error" not in row
    digest.refresh_from_db()
    assert digest.sent_at is not None and digest.error == ""
    assert len(mail.outbox) == 1
    # The same Message-ID on every attempt: a copy sent twice after a crash is recognisable.
    assert mail.outbox[0].extra_headers["Message-ID"] == f"<weekly-digest-{us_lead_poc.pk}-2026-06-01@rcf.example.org>"


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_once(monkeypatch, settings):
    """The second run comes while the first is handing the e-mail to the mail
    server (its row locked): it sends nothing."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    PointOfContactFactory(side="us", is_lead=True, email="lead@example.org")
    real_send = EmailBackend.send_messages
    second = {}

    def run_second():
        from django.db import connection

        try:
            second["report"] = weekly_digest_send(today=MONDAY)
        finally:
            connection.close()

    thread = threading.Thread(target=run_second)

    def send_while_another_run_starts(self, messages):
        if not thread.is_alive() and "report" not in second:
            thread.start()
            time.sleep(1)  # the second run reaches the locked row (and skips it, or waits for it)
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_while_another_run_starts)
    first = weekly_digest_send(today=MONDAY)
    thread.join(timeout=30)
    assert len(first) == 1 and second["report"] == []
    assert len(mail.outbox) == 1
    assert WeeklyDigest.objects.get().sent_at is not None


# --- The Celery task and its beat entry ---------------------------------------------------


def test_the_task_sends_the_week_and_raises_for_a_retry_when_the_mail_server_fails(us_lead_poc, monkeypatch):
    from scm_reports.tasks import send_weekly_digest

    def refuse(self, messages):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    with pytest.raises(DigestNotDelivered):
        send_weekly_digest(MONDAY.isoformat())
    monkeypatch.undo()
    report = send_weekly_digest(MONDAY.isoformat())
    assert [r["poc_id"] for r in report] == [us_lead_poc.pk] and len(mail.outbox) == 1


def test_the_beat_schedule_sends_it_weekly_at_the_configured_time(settings):
    from rcf import celery

    entry = celery.app.conf.beat_schedule["weekly-digest"]
    assert entry["task"] == "scm_reports.tasks.send_weekly_digest"
    schedule = entry["schedule"]
    # Default: Monday 08:00 in CELERY_TIMEZONE (Seoul).
    assert (schedule.day_of_week, schedule.hour, schedule.minute) == ({1}, {8}, {0})
    assert settings.CELERY_TIMEZONE == "Asia/Seoul"

    settings.RCF_DIGEST_WEEKDAY, settings.RCF_DIGEST_HOUR, settings.RCF_DIGEST_MINUTE = "5", 17, 30
    friday = celery._weekly_digest_schedule()
    assert (friday.day_of_week, friday.hour, friday.minute) == ({5}, {17}, {30})


# --- The command --------------------------------------------------------------------------


def _command(*args):
    out = io.StringIO()
    call_command("send_weekly_digest", *args, stdout=out)
    return out.getvalue()


def test_the_command_dry_run_lists_and_sends_nothing_then_sends_once(week, rok_lead_poc):
    dry = json.loads(_command("--today", "2026-06-03", "--dry-run", "--json"))
    assert dry["week_of"] == "2026-06-01" and dry["dry_run"] is True
    assert [r["poc_id"] for r in dry["digests"]] == [rok_lead_poc.pk, week.pk]  # by side, then POC
    assert dry["digests"][1]["items"]["overdue_actions"] == 3
    assert mail.outbox == [] and not WeeklyDigest.objects.exists()

    sent = json.loads(_command("--today", "2026-06-03", "--json"))
    assert [r["poc_id"] for r in sent["digests"]] == [rok_lead_poc.pk, week.pk] and len(mail.outbox) == 2
    again = json.loads(_command("--today", "2026-06-04", "--json"))
    assert again["digests"] == [] and len(mail.outbox) == 2
    assert "0 sent" in _command("--today", "2026-06-05")


@pytest.mark.parametrize("value", ["2026-13-01", "monday", ""])
def test_the_command_refuses_a_bad_date(db, value):
    with pytest.raises(CommandError, match="--today must be a date in YYYY-MM-DD form"):
        _command("--today", value)


# --- Cost ---------------------------------------------------------------------------------


def _add_items(poc, n):
    """``n`` overdue actions, engagements next week about a project ``poc`` leads, and projects
    whose health worsened, written in bulk."""
    from projects.models import ActionItem, CooperativeProject, Engagement, ProgressUpdate
    from tests.factories import area

    projects = CooperativeProject.objects.bulk_create([
        CooperativeProject(title=f"Bulk project {i}", priority_area=area(), lead_side="joint", us_lead_poc=poc)
        for i in range(n)])
    ActionItem.objects.bulk_create([ActionItem(title=f"Bulk action {i}", owner=poc, due_on=days(-1), project=p)
                                    for i, p in enumerate(projects)])
    ProgressUpdate.objects.bulk_create(
        [ProgressUpdate(project=p, date=days(-20), health="on_track", narrative="Fine.") for p in projects]
        + [ProgressUpdate(project=p, date=days(-2), health="at_risk", narrative="Late.") for p in projects])
    from projects.services import current_health_rebuild

    current_health_rebuild()  # bulk_create bypasses the services that keep each project's latest health
    engagements = Engagement.objects.bulk_create([Engagement(date=days(3), kind="meeting", summary=f"Bulk {i}")
                                                  for i in range(n)])
    link = Engagement.projects.through
    link.objects.bulk_create([link(engagement=e, cooperativeproject=p)
                              for e, p in zip(engagements, projects, strict=True)])


def test_the_digest_reads_a_fixed_number_of_queries_whatever_its_size(us_lead_poc, scm_2026):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import translation

    from scm_reports.digest import digest_message

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            digest = weekly_digest_for(poc=us_lead_poc, today=MONDAY)
            with translation.override("ko"):
                digest_message(digest)
        return len(ctx), digest["counts"]

    _add_items(us_lead_poc, 10)
    small, counts = queries()
    assert (counts["overdue_actions"], counts["engagements"], counts["health_worsened"]) == (10, 10, 10)
    _add_items(us_lead_poc, 990)
    large, counts = queries()
    assert (counts["overdue_actions"], counts["engagements"], counts["health_worsened"]) == (1000, 1000, 1000)
    assert small == large

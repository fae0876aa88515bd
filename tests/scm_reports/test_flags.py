"""The readiness job: flags raised, resolved, never duplicated; notices once."""

import datetime
import smtplib
import threading

import pytest
from django.core import mail
from django.db import IntegrityError, connection, connections, transaction

from scm_reports.flag_text import flag_text
from scm_reports.models import ReadinessFlag, ReadinessNotice, SCMCycle
from scm_reports.services import readiness_flags_sync, readiness_notice_send
from scm_reports.tasks import flag_unready_years
from tests.factories import PointOfContactFactory

D = datetime.date


def open_flags():
    return sorted(ReadinessFlag.objects.filter(resolved_at__isnull=True).values_list("year", "kind"))


@pytest.mark.django_db
def test_a_missed_year_is_flagged_once_however_often_the_job_runs():
    first = readiness_flags_sync(today=D(2025, 12, 1))
    assert first["raised"] == [{"year": 2025, "kind": "missed"}]
    second = readiness_flags_sync(today=D(2025, 12, 1))
    assert second["raised"] == [] and second["resolved"] == []
    assert open_flags() == [(2025, "missed")]
    flag = ReadinessFlag.objects.get()
    assert flag.scm_cycle.number == 57
    # Data, not a sentence: the text is rendered when shown (tests/scm_reports/test_flag_language.py).
    assert (flag.deadline, flag.counting_projects, flag.detail) == (D(2025, 11, 3), 0, "")
    assert flag_text(flag, today=D(2025, 12, 1)) == (
        "57th SCM on 4 Nov 2025 in Seoul, readiness deadline 3 Nov 2025: no project became ready in time.")


@pytest.mark.django_db
def test_at_risk_turns_into_missed_and_the_at_risk_flag_is_resolved(scm_2026):
    readiness_flags_sync(today=D(2026, 9, 1))
    assert (2026, "at_risk") in open_flags()
    result = readiness_flags_sync(today=D(2026, 11, 5))
    assert {"year": 2026, "kind": "at_risk"} in result["resolved"]
    assert {"year": 2026, "kind": "missed"} in result["raised"]
    assert (2026, "missed") in open_flags() and (2026, "at_risk") not in open_flags()
    assert ReadinessFlag.objects.filter(year=2026).count() == 2  # history kept


@pytest.mark.django_db
def test_a_late_logged_ready_project_covers_its_year_and_resolves_the_flag(ready_project):
    readiness_flags_sync(today=D(2025, 12, 1))
    assert open_flags() == [(2025, "missed")]
    ready_project(D(2025, 10, 1), today=D(2025, 12, 2))  # logged late, ready in the window
    result = readiness_flags_sync(today=D(2025, 12, 2))
    assert result["resolved"] == [{"year": 2025, "kind": "missed"}]
    assert open_flags() == []
    assert ReadinessFlag.objects.get().resolved_at is not None


@pytest.mark.django_db
def test_recording_a_cycle_resolves_unscheduled():
    readiness_flags_sync(today=D(2026, 3, 1))
    assert (2026, "unscheduled") in open_flags()
    SCMCycle.objects.create(number=58, year=2026, meeting_date=D(2026, 11, 5))
    result = readiness_flags_sync(today=D(2026, 3, 1))
    assert {"year": 2026, "kind": "unscheduled"} in result["resolved"]
    assert (2026, "unscheduled") not in open_flags()


@pytest.mark.django_db
def test_dry_run_writes_nothing():
    result = readiness_flags_sync(today=D(2025, 12, 1), dry_run=True)
    assert result["raised"] == [{"year": 2025, "kind": "missed"}]
    assert ReadinessFlag.objects.count() == 0


@pytest.mark.django_db
def test_the_database_allows_one_open_flag_per_year_and_kind():
    ReadinessFlag.objects.create(year=2030, kind="missed")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReadinessFlag.objects.create(year=2030, kind="missed")
    ReadinessFlag.objects.filter(year=2030).update(resolved_at=datetime.datetime.now(datetime.UTC))
    ReadinessFlag.objects.create(year=2030, kind="missed")  # a resolved one does not block


@pytest.mark.django_db
def test_the_job_runs_in_a_bounded_number_of_queries(ready_project, django_assert_max_num_queries):
    few_years = D(2026, 1, 1)
    with django_assert_max_num_queries(8) as few:
        readiness_flags_sync(today=few_years)
    for i in range(30):
        ready_project(D(2025, 1, 1) + datetime.timedelta(days=i * 20))
    for number, year in zip(range(58, 78), range(2026, 2046), strict=True):
        SCMCycle.objects.create(number=number, year=year, meeting_date=D(year, 11, 1))
    with django_assert_max_num_queries(len(few.captured_queries) + 1):
        readiness_flags_sync(today=D(2044, 12, 1))


# --- Notices ------------------------------------------------------------------

@pytest.fixture
def lead_pocs(db):
    return [
        PointOfContactFactory(side="us", is_lead=True, email="us.lead@example.org"),
        PointOfContactFactory(side="rok", is_lead=True, email="rok.lead@example.org"),
        PointOfContactFactory(side="us", is_lead=False, email="us.officer@example.org"),
        PointOfContactFactory(side="rok", is_lead=True, active=False, email="rok.former@example.org"),
    ]


@pytest.mark.django_db
def test_each_active_lead_poc_gets_one_notice_with_scm_deadline_days_left_and_link(lead_pocs, scm_2026,
                                                                                    settings):
    settings.SITE_URL = "https://rcf.example.org"
    readiness_flags_sync(today=D(2026, 9, 1))
    flag = ReadinessFlag.objects.get(year=2026, kind="at_risk")
    assert readiness_notice_send(flag_id=flag.pk, today=D(2026, 9, 1)) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["rok.lead@example.org", "us.lead@example.org"]
    message = mail.outbox[0]
    assert "2026" in message.subject and "at risk" in message.subject
    # Dates in the reader's format (English here; tests/scm_reports/test_flag_language.py for Korean).
    assert "58th Security Consultative Meeting, 5 Nov 2026, Washington" in message.body
    assert "Readiness deadline: 4 Nov 2026" in message.body
    assert "Days left: 64" in message.body
    assert "https://rcf.example.org/" in message.body
    # again (a retried or duplicated task): nothing more is sent
    assert readiness_notice_send(flag_id=flag.pk) == 0
    assert len(mail.outbox) == 2
    flag.refresh_from_db()
    assert flag.notified_at is not None


@pytest.mark.django_db
def test_a_failing_mail_server_is_retried_without_losing_or_duplicating(lead_pocs, monkeypatch):
    readiness_flags_sync(today=D(2025, 12, 1))
    flag = ReadinessFlag.objects.get()
    from django.core.mail.backends.locmem import EmailBackend

    real_send = EmailBackend.send_messages
    calls = {"n": 0}

    def flaky(self, messages):
        calls["n"] += 1
        if calls["n"] == 2:  # the second e-mail fails: the mail server dropped us
            raise smtplib.SMTPServerDisconnected("connection lost")
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        readiness_notice_send(flag_id=flag.pk)
    assert len(mail.outbox) == 1
    flag.refresh_from_db()
    assert flag.notified_at is None and flag.resolved_at is None
    assert readiness_notice_send(flag_id=flag.pk) == 1  # the retry sends only the missing one
    assert sorted(m.to[0] for m in mail.outbox) == ["rok.lead@example.org", "us.lead@example.org"]
    assert ReadinessNotice.objects.filter(flag=flag).count() == 2
    assert ReadinessFlag.objects.count() == 1


def test_the_notice_task_retries_on_smtp_errors():
    from scm_reports.tasks import send_readiness_notice

    assert smtplib.SMTPException in send_readiness_notice.autoretry_for
    assert send_readiness_notice.max_retries >= 5


@pytest.mark.django_db
def test_the_task_raises_flags_and_queues_notices_and_the_next_run_requeues_unsent(lead_pocs):
    from tests.conftest import broker_unreachable

    with broker_unreachable():
        result = flag_unready_years(today="2025-12-01")
    assert result["raised"] == [{"year": 2025, "kind": "missed"}]
    assert result["notices_queued"] == 0
    assert ReadinessFlag.objects.get().notified_at is None
    # Broker back: the next run queues the notice the first could not.
    result = flag_unready_years(today="2025-12-01")
    assert result["raised"] == [] and result["notices_queued"] == 1


def test_beat_runs_the_job_every_day():
    from celery.schedules import crontab

    from rcf.celery import app

    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == "scm_reports.tasks.flag_unready_years"]
    assert len(entries) == 1
    assert entries[0]["schedule"] == crontab(hour=6, minute=0)
    assert app.conf.timezone == "Asia/Seoul"


# --- Concurrency (PostgreSQL) --------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_leave_exactly_one_open_flag_per_year_and_kind(scm_2026):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises all writers, so there is no race to test")
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait()
            readiness_flags_sync(today=D(2027, 1, 5))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert open_flags() == [(2025, "missed"), (2026, "missed"), (2027, "unscheduled")]
    assert ReadinessFlag.objects.count() == 3


@pytest.mark.django_db
def test_an_address_refused_for_good_does_not_stop_the_other_notices(lead_pocs, monkeypatch):
    readiness_flags_sync(today=D(2025, 12, 1))
    flag = ReadinessFlag.objects.get()
    from django.core.mail.backends.locmem import EmailBackend

    real_send = EmailBackend.send_messages

    def refusing(self, messages):
        if messages[0].to == ["us.lead@example.org"]:
            raise smtplib.SMTPRecipientsRefused({"us.lead@example.org": (550, b"no such user")})
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refusing)
    assert readiness_notice_send(flag_id=flag.pk) == 1
    assert [m.to for m in mail.outbox] == [["rok.lead@example.org"]]
    refused = ReadinessNotice.objects.get(email="us.lead@example.org")
    assert "no such user" in refused.error
    flag.refresh_from_db()
    assert flag.notified_at is not None  # settled: no endless retries

"""Notice e-mails are delivered at least once and deduplicable: every attempt
is recorded before the e-mail leaves, and all attempts at one notice carry
the same Message-ID, so a copy sent again after a crash is recognisable."""

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from contacts.models import PointOfContact
from scm_reports.models import ReadinessFlag, ReadinessNotice
from scm_reports.services import readiness_flags_sync, readiness_notice_send
from tests.factories import PointOfContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def flag(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://rcf.example.org/"
    PointOfContactFactory(side="us", is_lead=True, email="us.lead@example.org")
    readiness_flags_sync(today=datetime.date(2025, 12, 1))
    return ReadinessFlag.objects.get()


class WorkerKilled(BaseException):
    """What the worker's process sees when it is killed: nothing after it runs.
    (A BaseException, like the SystemExit of a terminated process, so no
    ``except Exception`` on the way can record the e-mail as sent.)"""


def test_a_notice_resent_after_a_crash_carries_the_same_message_id(flag, monkeypatch, caplog):
    real_send = EmailBackend.send_messages

    def delivered_then_killed(self, messages):
        real_send(self, messages)  # the mail server has it…
        raise WorkerKilled  # …and the worker dies before recording it as sent

    monkeypatch.setattr(EmailBackend, "send_messages", delivered_then_killed)
    with pytest.raises(WorkerKilled):
        readiness_notice_send(flag_id=flag.pk)
    notice = ReadinessNotice.objects.get()
    assert notice.sent_at is None and notice.attempts == 1 and notice.last_attempt_at is not None

    monkeypatch.setattr(EmailBackend, "send_messages", real_send)
    # The retry (redelivered by the broker) comes once the dead worker's claim has run out.
    later = timezone.now() + datetime.timedelta(minutes=10)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert readiness_notice_send(flag_id=flag.pk) == 1

    first, second = mail.outbox
    message_id = f"<readiness-notice-{flag.pk}-{notice.point_of_contact_id}@rcf.example.org>"
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"] == message_id
    assert message_id in first.message().as_string()  # in the e-mail itself, not only in our object
    assert (first.extra_headers["X-RCF-Attempt"], second.extra_headers["X-RCF-Attempt"]) == ("1", "2")
    assert f"attempt 2 with Message-ID {message_id}" in caplog.text
    notice.refresh_from_db()
    assert notice.sent_at is not None and notice.attempts == 2
    flag.refresh_from_db()
    assert flag.notified_at is not None
    assert readiness_notice_send(flag_id=flag.pk) == 0 and len(mail.outbox) == 2  # settled


def test_the_attempt_is_recorded_even_when_the_send_raises(flag, monkeypatch):
    def failing(self, messages):
        raise smtplib.SMTPServerDisconnected("connection lost")

    monkeypatch.setattr(EmailBackend, "send_messages", failing)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        readiness_notice_send(flag_id=flag.pk)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        readiness_notice_send(flag_id=flag.pk)  # Celery's retry: not blocked by the first attempt
    notice = ReadinessNotice.objects.get()
    assert notice.attempts == 2 and notice.last_attempt_at is not None
    assert notice.sent_at is None and notice.sending_until is None
    flag.refresh_from_db()
    assert flag.notified_at is None  # still owed


def test_a_notice_another_worker_is_sending_is_left_to_it(flag, monkeypatch):
    real_send = EmailBackend.send_messages
    inner = {}

    def concurrent(self, messages):
        # While this worker's e-mail is with the mail server, a second task for the same flag runs.
        inner["sent"] = readiness_notice_send(flag_id=flag.pk)
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", concurrent)
    assert readiness_notice_send(flag_id=flag.pk) == 1
    assert inner["sent"] == 0
    assert len(mail.outbox) == 1
    assert ReadinessNotice.objects.get().attempts == 1


def test_the_message_id_falls_back_to_the_sender_domain(flag, settings):
    settings.SITE_URL = ""
    settings.DEFAULT_FROM_EMAIL = "RCF Tracker <rcf@mnd.example.kr>"
    poc = PointOfContact.objects.get()
    notice = ReadinessNotice.objects.create(flag=flag, point_of_contact=poc, email=poc.email)
    assert notice.message_id == f"<readiness-notice-{flag.pk}-{notice.point_of_contact_id}@mnd.example.kr>"

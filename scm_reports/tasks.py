"""Celery tasks: thin wrappers that take dates or ids and call the services."""

import datetime
import logging
import smtplib

from celery import shared_task

from rcf.outbox import outbox_enqueue
from rcf.selectors import framework_today

from . import services

logger = logging.getLogger(__name__)

# The outbox topic of "re-check the readiness goal" (rcf.outbox).
READINESS_CHECK = "scm_reports.readiness_check"


# Its result is the job's report (read by `celery call` users and the tests).
@shared_task(name="scm_reports.tasks.flag_unready_years", ignore_result=False)
def flag_unready_years(today: str | None = None) -> dict:
    """Raise and resolve readiness flags, then queue the notices not yet sent."""
    day = datetime.date.fromisoformat(today) if today else framework_today()
    result = services.readiness_flags_sync(today=day)
    result["notices_queued"] = readiness_notices_dispatch()
    # Proposals one side has waited on too long, when the deadline is near (once each).
    result["concurrence_reminders"] = services.concurrence_reminders_send(today=day)
    # One e-mail per owner a day about their overdue and upcoming actions (a mail server
    # failure is logged and recorded by the service, and retried by the next run).
    from projects.services import action_reminders_send

    result["action_reminders"] = len(action_reminders_send(today=day))
    # Webhooks: "action.overdue", once per action and due date.
    from projects.services import actions_overdue_announce

    result["actions_overdue_announced"] = actions_overdue_announce(today=day)
    return result


@shared_task(
    name="scm_reports.tasks.send_readiness_notice",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    # Below the broker's visibility timeout (300 s): Redis would hand a task
    # waiting out a longer countdown to a second worker. Once the retries are
    # spent, every run of the readiness job queues the unsent notices again.
    retry_backoff_max=240,
    max_retries=12,
)
def send_readiness_notice(flag_id: int) -> int:
    return services.readiness_notice_send(flag_id=flag_id)


def readiness_notices_dispatch() -> int:
    """Queue one notice task per open flag whose notices are not all sent.

    A broker that cannot be reached is logged, not raised: the flags are
    already saved, and the next run of the job queues the notices again.
    """
    queued = 0
    for flag_id in services.flags_awaiting_notice().values_list("pk", flat=True):
        try:
            send_readiness_notice.apply_async(args=[flag_id], retry=False)
        except Exception as exc:  # kombu raises several types for an unreachable broker
            logger.warning("Readiness notices not queued (broker unreachable: %s); the next run retries.", exc)
            break
        queued += 1
    return queued


def request_readiness_check() -> None:
    """Ask for a run of the job soon after a change that may alter a year's
    state. Call it inside the change's transaction: the request is a row in
    the outbox, committed (or rolled back) with the change, and never touches
    the broker. At most one request waits at a time: one run covers them all."""
    outbox_enqueue(topic=READINESS_CHECK, coalesce_key="all")


def readiness_check_handle(payload: dict) -> None:
    """The outbox handler of READINESS_CHECK (run by rcf.tasks.outbox_drain)."""
    flag_unready_years()


# --- The weekly digest to lead POCs (issue 11; beat: rcf/celery.py) ------------------------


@shared_task(bind=True, name="scm_reports.tasks.send_weekly_digest", max_retries=12)
def send_weekly_digest(self, today: str | None = None) -> list[dict]:
    """Send the week's digests not yet sent (``services.weekly_digest_send``).
    When the mail server failed for some, retry them later with the same day
    (so the same week), under the broker's visibility timeout (300 s)."""
    from celery.exceptions import SoftTimeLimitExceeded

    day = datetime.date.fromisoformat(today) if today else framework_today()
    try:
        report = services.weekly_digest_send(today=day)
    except SoftTimeLimitExceeded as exc:
        # Many lead POCs and a slow mail server: those sent are recorded; the retry sends the rest.
        raise self.retry(args=[day.isoformat()], countdown=30, exc=exc) from exc
    failed = [row["email"] for row in report if row.get("error")]
    if failed:
        raise self.retry(args=[day.isoformat()], countdown=min(30 * 2 ** self.request.retries, 240),
                         exc=services.DigestNotDelivered(", ".join(failed)))
    return report

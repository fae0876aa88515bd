"""The Celery application, configured from Django settings (``CELERY_*``)."""

import logging
import os
import warnings

from celery import Celery, signals
from celery.exceptions import SecurityWarning
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcf.settings")

app = Celery("rcf")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

if os.environ.get("RCF_DEV_RUN"):
    # `make run` on a developer's container often runs as root, and Celery then warns on every start
    # of the worker and beat. The production image runs them as an unprivileged user (Dockerfile),
    # where the warning stays on.
    warnings.filterwarnings("ignore", category=SecurityWarning)

# Beat drains the outbox every few seconds: three INFO lines per tick (sent, received, succeeded) would
# bury everything else in the log. A failure is logged at WARNING or above and still shows.
ROUTINE_TASKS = ("rcf.tasks.outbox_drain", "outbox-drain", "rcf.tasks.webhooks_deliver", "webhooks-deliver")


class RoutineTickFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        message = record.getMessage()
        return not any(name in message for name in ROUTINE_TASKS)


@signals.after_setup_logger.connect
def _quiet_routine_ticks(logger=None, **kwargs):
    for handler in (logger.handlers if logger else []):
        handler.addFilter(RoutineTickFilter())


def _outbox_drain_seconds() -> float:
    from django.conf import settings

    return float(settings.RCF_OUTBOX_DRAIN_SECONDS)


def _webhook_poll_seconds() -> float:
    from django.conf import settings

    return float(settings.RCF_WEBHOOK_POLL_SECONDS)


def _weekly_digest_schedule() -> crontab:
    from django.conf import settings

    return crontab(day_of_week=settings.RCF_DIGEST_WEEKDAY, hour=settings.RCF_DIGEST_HOUR,
                   minute=settings.RCF_DIGEST_MINUTE)


app.conf.beat_schedule = {
    # The framework's goal: a project ready before every SCM. Checked daily at
    # 06:00 Seoul time (CELERY_TIMEZONE), before the working day of the ROK
    # side and at the end of the U.S. side's, so a new flag and its e-mails
    # are there when either side starts work. It is also the daily catch-up:
    # whatever a change asked for and was somehow not done, this run redoes.
    "flag-unready-years-daily": {
        "task": "scm_reports.tasks.flag_unready_years",
        "schedule": crontab(hour=6, minute=0),
    },
    # Web requests never talk to the broker: they record the work in the
    # outbox table, and this drains it (rcf.outbox). Every few seconds, so a
    # change's re-check lands soon; it also takes over rows whose worker died
    # (their lease ran out). A drain not started within a few intervals (no
    # worker free) is dropped: the next one does the same work.
    "outbox-drain": {
        "task": "rcf.tasks.outbox_drain",
        "schedule": _outbox_drain_seconds(),
        "options": {"expires": 3 * _outbox_drain_seconds()},
    },
    # Webhooks (rcf.webhooks): a change wakes delivery through the outbox at once; this sends the
    # retries that come due later (exponential back-off). Each endpoint is claimed by one worker at a
    # time, so overlapping runs never send its deliveries twice or out of order.
    "webhooks-deliver": {
        "task": "rcf.tasks.webhooks_deliver",
        "schedule": _webhook_poll_seconds(),
        "options": {"expires": 3 * _webhook_poll_seconds()},
    },
    # The webhook delivery log's old messages (RCF_WEBHOOK_KEEP_DAYS), once an hour, not on every run.
    "webhooks-purge": {
        "task": "rcf.tasks.webhooks_purge",
        "schedule": 3600.0,
        "options": {"expires": 1800},
    },
    # Finished export files (rcf.export_jobs) older than RCF_EXPORT_KEEP_HOURS, once an hour: removed
    # when promised even if nobody exports anything for days.
    "exports-sweep": {
        "task": "rcf.tasks.exports_sweep",
        "schedule": 3600.0,
        "options": {"expires": 1800},
    },
    # The weekly digest to each active lead POC (scm_reports.tasks.send_weekly_digest):
    # RCF_DIGEST_WEEKDAY at RCF_DIGEST_HOUR:RCF_DIGEST_MINUTE, Seoul time (default
    # Monday 08:00, the start of the ROK side's working week and the U.S. side's
    # Sunday evening). Once per POC and week whatever runs (WeeklyDigest).
    "weekly-digest": {
        "task": "scm_reports.tasks.send_weekly_digest",
        "schedule": _weekly_digest_schedule(),
    },
    # The dashboard's summary rows (projects.counts) against a count from scratch, Sundays 04:30 Seoul
    # time: an error in the log names any drift (repair: manage.py rebuild_dashboard_counts).
    "dashboard-counts-check": {
        "task": "projects.tasks.check_dashboard_counts",
        "schedule": crontab(day_of_week=0, hour=4, minute=30),
    },
}

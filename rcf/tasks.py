"""Celery tasks of the framework app: thin wrappers around rcf services."""

from celery import shared_task
from django.conf import settings

from . import outbox


# Beat sends this every RCF_OUTBOX_DRAIN_SECONDS; nobody reads its result, so
# none is stored (nothing waits on the result backend).
@shared_task(name="rcf.tasks.outbox_drain", ignore_result=True)
def outbox_drain() -> dict:
    """Run the work recorded in the outbox (see rcf.outbox)."""
    return outbox.outbox_drain()


# Beat sends this every RCF_WEBHOOK_POLL_SECONDS for retries that have come due; a change wakes
# delivery at once through the outbox (rcf.webhooks.WEBHOOK_TOPIC). No result is stored.
@shared_task(name="rcf.tasks.webhooks_deliver", ignore_result=True)
def webhooks_deliver() -> dict:
    """Send the webhook deliveries that are due (see rcf.webhooks)."""
    from . import webhooks

    return webhooks.webhooks_deliver_due()


# Beat sends this once an hour: the delivery log's old messages go (RCF_WEBHOOK_KEEP_DAYS).
@shared_task(name="rcf.tasks.webhooks_purge", ignore_result=True)
def webhooks_purge() -> int:
    """Remove old delivered and given-up messages from the webhook log (see rcf.webhooks)."""
    from . import webhooks

    return webhooks.webhooks_purge()


# Beat sends this once an hour: export files past RCF_EXPORT_KEEP_HOURS go.
@shared_task(name="rcf.tasks.exports_sweep", ignore_result=True)
def exports_sweep() -> int:
    from . import export_jobs

    return export_jobs.sweep()


# A spreadsheet import (rcf.import_jobs) may run far longer than the other tasks (a 50,000-row file takes
# minutes): its own time limits, and acknowledged on receipt (acks_late off) so that Redis does not hand it to
# a second worker after its visibility timeout. A worker that dies mid-run does not redo it: the page shows
# the run as failed (stale heartbeat) with "Try again". The outbox starts it; nobody reads its result.
@shared_task(name="rcf.tasks.import_run", ignore_result=True, acks_late=False, reject_on_worker_lost=False,
             time_limit=settings.RCF_IMPORT_TIME_LIMIT_SECONDS,
             soft_time_limit=max(settings.RCF_IMPORT_TIME_LIMIT_SECONDS - 60,
                                 settings.RCF_IMPORT_TIME_LIMIT_SECONDS * 0.9))
def import_run(run_id: int) -> str:
    """Run the dry run or the import an import run waits for (see rcf.import_jobs)."""
    from . import import_jobs

    return import_jobs.import_run_execute(run_id)


# A large export or the SCM report's PDF (rcf.export_jobs): like an import, its own time limit, acknowledged on
# receipt; a worker that dies mid-run leaves a run the page shows as failed (stale heartbeat).
@shared_task(name="rcf.tasks.export_run", ignore_result=True, acks_late=False, reject_on_worker_lost=False,
             time_limit=getattr(settings, "RCF_EXPORT_TIME_LIMIT_SECONDS", 3600),
             soft_time_limit=max(getattr(settings, "RCF_EXPORT_TIME_LIMIT_SECONDS", 3600) - 60,
                                 getattr(settings, "RCF_EXPORT_TIME_LIMIT_SECONDS", 3600) * 0.9))
def export_run(run_id: int) -> str:
    """Make the file an export run waits for (see rcf.export_jobs)."""
    from . import export_jobs

    return export_jobs.export_run_execute(run_id)

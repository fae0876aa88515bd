"""Celery tasks of the framework app: thin wrappers around rcf services."""

from celery import shared_task

from . import outbox


# Beat sends this every RCF_OUTBOX_DRAIN_SECONDS; nobody reads its result, so
# none is stored (nothing waits on the result backend).
@shared_task(name="rcf.tasks.outbox_drain", ignore_result=True)
def outbox_drain() -> dict:
    """Run the work recorded in the outbox (see rcf.outbox)."""
    return outbox.outbox_drain()

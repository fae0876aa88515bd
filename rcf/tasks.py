"""Celery tasks of the framework app: thin wrappers around rcf services."""

from celery import shared_task

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

"""The transactional outbox: work a change asks for, kept in the database.

Why: a web request that talks to the broker hangs when Redis is down (the
client and the result backend retry) and loses the job for good when the
send fails after the change committed. Instead the request writes an
``OutboxMessage`` in the same transaction as the change (``outbox_enqueue``)
and never touches the broker; a Celery task run by beat every few seconds
(``rcf.tasks.outbox_drain``) claims the rows and runs the handler registered
for their topic. So a committed change always leaves its row, a rolled-back
one never does, and a row outlives a broker outage.

A worker killed mid-run cannot lose a row either: a claim is a lease
(``locked_until``), and a row whose lease ran out is claimed again by the
next drain. Delivery is therefore *at least once*: handlers must be
idempotent (the readiness job is).

Apps register handlers by topic (``outbox_register``), from their
``AppConfig.ready``, so this app never imports the apps to its right.
"""

import datetime
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)

_HANDLERS: dict[str, Callable[[dict], object]] = {}


def outbox_register(*, topic: str, handler: Callable[[dict], object]) -> None:
    """Run ``handler(payload)`` for every message of ``topic``. It may run
    more than once for one message (at least once), so it must be idempotent."""
    _HANDLERS[topic] = handler


def outbox_enqueue(*, topic: str, payload: dict | None = None, coalesce_key: str = "",
                   available_at: datetime.datetime | None = None) -> None:
    """Record work to do, in the caller's transaction (call it inside the
    ``transaction.atomic()`` of the change it belongs to).

    With a ``coalesce_key``, a message of the same topic and key that no
    worker has claimed yet already covers this one, and nothing is added
    (a partial unique index backs it). A message already claimed does not
    count: its handler may have read the state before this change.
    """
    message = OutboxMessage(
        topic=topic, payload=payload or {}, coalesce_key=coalesce_key,
        available_at=available_at or timezone.now(),
    )
    # ON CONFLICT DO NOTHING (PostgreSQL) / INSERT OR IGNORE (SQLite): never
    # raises, so the caller's transaction is not broken by a duplicate.
    OutboxMessage.objects.bulk_create([message], ignore_conflicts=bool(coalesce_key))


def outbox_pending(*, topic: str | None = None):
    """Messages not done yet (pending or claimed)."""
    rows = OutboxMessage.objects.filter(done_at__isnull=True)
    return rows.filter(topic=topic) if topic else rows


def _lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.RCF_OUTBOX_LEASE_SECONDS)


def outbox_claim(*, now: datetime.datetime | None = None) -> OutboxMessage | None:
    """Claim the oldest message that is due and not held by a live lease.

    ``SELECT … FOR UPDATE SKIP LOCKED`` lets concurrent drains on PostgreSQL
    pass each other's rows by; SQLite serialises writers (IMMEDIATE
    transactions). Either way the conditional UPDATE makes a claim exclusive.
    """
    now = now or timezone.now()
    due = (
        OutboxMessage.objects.filter(done_at__isnull=True, available_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .order_by("available_at", "id")
    )
    for _ in range(5):  # a row taken by another drain between the read and the claim: try the next
        with transaction.atomic():
            if connection.features.has_select_for_update_skip_locked:
                candidates = due.select_for_update(skip_locked=True)
            else:
                candidates = due
            message = candidates.first()
            if message is None:
                return None
            claimed = OutboxMessage.objects.filter(pk=message.pk, locked_until=message.locked_until,
                                                   done_at__isnull=True).update(
                locked_until=now + _lease(), attempts=F("attempts") + 1
            )
        if claimed:
            message.refresh_from_db()
            if message.attempts > 1:
                logger.warning("Outbox message %s (%s): attempt %d; the last one failed or its worker died.",
                               message.pk, message.topic, message.attempts)
            return message
    return None


def _backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def outbox_run(message: OutboxMessage, *, now: datetime.datetime | None = None) -> bool:
    """Run the handler of a claimed message; mark it done, or record the
    error and make it due again later (exponential back-off, at most an hour)."""
    handler = _HANDLERS.get(message.topic)
    try:
        if handler is None:
            raise LookupError(f"no outbox handler is registered for the topic {message.topic!r}")
        handler(message.payload)
    except Exception as exc:  # noqa: BLE001 - the dispatcher's boundary: any failure is recorded and retried
        logger.exception("Outbox message %s (%s) failed (attempt %d).", message.pk, message.topic, message.attempts)
        _release_failed(message, error=f"{type(exc).__name__}: {exc}", now=now or timezone.now())
        return False
    # Only while our lease holds: a drain that took the row over after the
    # lease ran out finishes it itself.
    OutboxMessage.objects.filter(pk=message.pk, locked_until=message.locked_until).update(
        done_at=now or timezone.now(), locked_until=None, last_error=""
    )
    return True


def _release_failed(message: OutboxMessage, *, error: str, now: datetime.datetime) -> None:
    mine = OutboxMessage.objects.filter(pk=message.pk, locked_until=message.locked_until)
    try:
        with transaction.atomic():
            mine.update(locked_until=None, last_error=error[:2000], available_at=now + _backoff(message.attempts))
    except IntegrityError:
        # A newer pending message with the same coalesce key already covers
        # this work: settle this one, keeping its error for the record.
        mine.update(locked_until=None, last_error=f"{error[:1900]} (superseded by a newer message)", done_at=now)


def outbox_drain(*, now: datetime.datetime | None = None, limit: int = 100,
                 time_budget: float | None = None) -> dict:
    """Claim and run due messages one at a time, until none is due, ``limit``
    messages or ``time_budget`` seconds; then purge old done messages.
    ``now`` (for tests) fixes the clock for the whole drain."""
    budget = settings.RCF_OUTBOX_DRAIN_BUDGET_SECONDS if time_budget is None else time_budget
    started = time.monotonic()
    done = failed = 0
    while done + failed < limit and time.monotonic() - started < budget:
        message = outbox_claim(now=now)
        if message is None:
            break
        if outbox_run(message, now=now):
            done += 1
        else:
            failed += 1
    keep = datetime.timedelta(days=settings.RCF_OUTBOX_KEEP_DAYS)
    purged, _ = OutboxMessage.objects.filter(done_at__lt=(now or timezone.now()) - keep).delete()
    return {"done": done, "failed": failed, "purged": purged}

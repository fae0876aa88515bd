"""Reads that belong to the framework layer."""

import logging

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)


def _database_ok() -> tuple[bool, str]:
    """Whether a query gets through. The answer is public (``/healthz`` needs
    no sign-in), so it names the kind of failure only; the server's log has
    the driver's message (host, port, reason)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, connection.vendor
    except DatabaseError as exc:
        logger.warning("Health check: the database is unreachable: %s", exc)
        return False, f"unreachable ({type(exc).__name__})"


def _broker_ok() -> tuple[bool, str]:
    from rcf.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return True, conn.transport_cls if isinstance(conn.transport_cls, str) else "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
        return False, f"{type(exc).__name__}: {exc}"


def health_report() -> dict:
    """``{"ok", "database": {"ok", "detail"}, "broker": {"ok", "detail"}}``;
    ``ok`` only when both are reachable. Never raises: it is what answers
    while something is down."""
    db_ok, db_detail = _database_ok()
    broker_ok, broker_detail = _broker_ok()
    return {
        "ok": db_ok and broker_ok,
        "database": {"ok": db_ok, "detail": db_detail},
        "broker": {"ok": broker_ok, "detail": broker_detail},
    }


def framework_today():
    """Today's calendar date in the framework's time zone (``RCF_TIME_ZONE``).

    The one place the clock is read for date rules; rules themselves take
    ``today`` as an argument so they can be tested at any date.
    """
    from zoneinfo import ZoneInfo

    from django.conf import settings
    from django.utils import timezone

    return timezone.now().astimezone(ZoneInfo(settings.RCF_TIME_ZONE)).date()

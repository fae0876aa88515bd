"""A time limit on every database statement of a web request (PostgreSQL).

A query that runs away (a plan gone quadratic on a large table, a wait on a
lock that a long job holds) must not hold a gunicorn worker until gunicorn
kills it at its worker timeout (30 s) and the user sees a bare 500. Web
processes therefore run with PostgreSQL's ``statement_timeout`` at
``RCF_DB_STATEMENT_TIMEOUT_MS`` (20 s by default, under the worker timeout;
0 turns it off): the server cancels the statement, the request's transaction
(``ATOMIC_REQUESTS``) rolls back, and ``RequestGuardMiddleware`` answers a
clear 503 (:func:`timed_out`) instead of a 500.

Only web processes: :func:`install` is called by ``rcf/wsgi.py`` (gunicorn,
``runserver``), never by Celery workers or management commands (migrate,
backups, restore, imports), which keep PostgreSQL's default (no limit). The
limit is set once per connection, when Django opens it (``connection_created``),
as a session setting, so a persistent connection (``CONN_MAX_AGE``) keeps it
and no request pays a round trip for it. A cancelled statement leaves the
connection usable once its transaction is rolled back, which the atomic
request does before the middleware answers; the next request reuses it.

Web connections also get ``idle_in_transaction_session_timeout`` at
``RCF_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS`` (60 s; 0: none): a session that sits
in an open transaction doing nothing for that long is ended by the server. A
request's own transaction never idles so (it ends when the view returns), but
the NDJSON export (rcf.api ``SyncFeed.stream``) keeps its snapshot open while
the client reads each batch: a client that stops reading would otherwise hold
the snapshot (VACUUM waits), the connection and the thread for ever. The stream
then ends with a line naming the cursor to continue from. Keep it well above
the time one batch takes to encode and send (about a second).

SQLite has no statement timeout and none is emulated: it serves small sites,
where no query runs for long.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db.backends.signals import connection_created

logger = logging.getLogger(__name__)

#: SQLSTATE ``query_canceled``: ``statement_timeout`` or ``pg_cancel_backend``.
QUERY_CANCELED = "57014"
DISPATCH_UID = "rcf.db_timeout"


def limit_ms() -> int:
    """The limit in milliseconds; 0 when there is none."""
    return max(0, int(getattr(settings, "RCF_DB_STATEMENT_TIMEOUT_MS", 0) or 0))


def idle_ms() -> int:
    """The longest a web session may sit idle in a transaction, in milliseconds; 0 when there is no limit."""
    return max(0, int(getattr(settings, "RCF_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 0) or 0))


def apply(sender=None, connection=None, **kwargs) -> None:
    """Set the limits on a newly opened connection (a ``connection_created`` receiver)."""
    if connection is None or connection.vendor != "postgresql":
        return
    ms, idle = limit_ms(), idle_ms()
    if ms or idle:
        with connection.cursor() as cursor:  # one round trip for both
            cursor.execute("SELECT set_config('statement_timeout', %s, false), "
                           "set_config('idle_in_transaction_session_timeout', %s, false)",
                           [f"{ms}ms" if ms else "0", f"{idle}ms" if idle else "0"])


def install() -> None:
    """Limit every connection this process opens from now on. For web servers only."""
    connection_created.connect(apply, dispatch_uid=DISPATCH_UID)


def uninstall() -> None:
    connection_created.disconnect(dispatch_uid=DISPATCH_UID)


def is_query_cancelled(exception: BaseException) -> bool:
    """True for the error Django raises when PostgreSQL cancelled the statement
    (Django wraps the driver's ``QueryCanceled`` in its ``OperationalError``)."""
    cause = getattr(exception, "__cause__", None) or exception
    return (getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)) == QUERY_CANCELED


def seconds_text(ms: int) -> str:
    return f"{ms / 1000:g}"


def timed_out(request, exception):
    """The 503 for a request whose statement was cancelled: a page, or JSON under /api/."""
    from django.utils.translation import gettext as _

    from . import views

    ms = limit_ms()
    logger.warning("Database statement cancelled (limit %s ms) for %s %s: %s", ms, request.method,
                   request.path, str(exception).strip())
    if ms:
        message = _("This request took too long and was stopped (the database limit is %(seconds)s s). Try a "
                    "narrower filter or search, or a smaller page; if it goes on, tell the administrators.") % {
            "seconds": seconds_text(ms)}
    else:
        message = _("This request was stopped by the database before it finished. Try again; if it goes on, "
                    "try a narrower filter or tell the administrators.")
    return views.plain_error(request, status=503, template="503.html", title=_("Request stopped"),
                             message=message, headers={"Retry-After": str(views.DATABASE_RETRY_AFTER)})

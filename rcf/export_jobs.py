"""Exports made in the background (``ExportRun``), issue 14.

A CSV or XLSX of 100,000 projects, or the SCM report's PDF for a year of
thousands, takes longer than a web request may (gunicorn's 30 s, the web
statement timeout). Above a threshold the export view records an
``ExportRun`` and an outbox message (``EXPORT_TOPIC``: a web request never
talks to the broker) and answers at once with the run's page; the Celery
task ``rcf.tasks.export_run`` makes the file with the function its kind
registered (``register_export_kind``, from the app's ``exports`` module,
loaded on demand: this app never imports the apps to its right). The page
polls itself (htmx) for rows done (or the stage: collecting, rendering),
then offers the download.

* Exactly once: the task starts with a conditional UPDATE (queued →
  running); a second delivery finds nothing to claim.
* Never half a file: the file is written under a temporary name and renamed
  into place only once complete; a failure removes it.
* Progress and the heartbeat are written on the run's row (an export holds
  no long transaction), at most once a second. A run whose heartbeat is older
  than ``RCF_EXPORT_STALE_SECONDS`` (its worker died) shows as failed.
* Only the user who asked downloads the file (the page and the file answer
  404 to anyone else, staff included: the file is a copy made with the
  asker's filters, like their import runs, and anyone allowed to see the data
  can export it themselves).
* The user who left the page (no poll for ``RCF_EXPORT_LEFT_SECONDS`` when
  it finishes) is e-mailed the link, in their language, through the outbox.
* Files go after ``RCF_EXPORT_KEEP_HOURS`` (swept when a run is created).
* A run is made only by a POST (CSRF-checked: the GET of a large export
  answers a page with a "Make the file" button), reuses the user's queued or
  running run of the same kind, format and parameters, and a user has at most
  ``RCF_EXPORT_MAX_ACTIVE_PER_USER`` runs queued or running at once.
* The permission its kind needs is checked again when the worker makes the
  file and when it is downloaded (a role removed meanwhile: no data).
"""

from __future__ import annotations

import datetime
import logging
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from .import_jobs import job_dir
from .models import ExportRun, ExportRunStatus
from .outbox import outbox_enqueue, outbox_register

logger = logging.getLogger(__name__)

EXPORT_TOPIC = "rcf.export_run"
EXPORT_MAIL_TOPIC = "rcf.export_mail"
WORKING = (ExportRunStatus.QUEUED, ExportRunStatus.RUNNING)
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}

_KINDS: dict[str, Callable] = {}
_PERMISSIONS: dict[str, str] = {}


class ExportFailed(Exception):
    """A kind's ``make`` refuses with a message for the user (shown on the run's page as it is)."""


class TooManyRuns(Exception):
    """The user already has ``RCF_EXPORT_MAX_ACTIVE_PER_USER`` runs queued or running."""


def register_export_kind(kind: str, make: Callable, *, permission: str) -> None:
    """``make(run, out, progress)`` writes the file of a run of ``kind`` into the binary file ``out``;
    ``permission`` is what its owner must still have when it is made and downloaded."""
    _KINDS[kind] = make
    _PERMISSIONS[kind] = permission


def _maker(kind: str) -> Callable:
    if kind not in _KINDS:
        autodiscover_modules("exports")
    return _KINDS[kind]


def may_have(run: ExportRun, user=None) -> bool:
    """May the run's owner (still) have its data: an active user with the permission its kind needs?
    An unknown kind: no."""
    user = user or run.created_by
    if run.kind not in _PERMISSIONS:
        autodiscover_modules("exports")
    permission = _PERMISSIONS.get(run.kind)
    return bool(permission and user.is_active and user.has_perm(permission))


# --- Settings and files ------------------------------------------------------------------------


def _setting(name: str, default):
    return type(default)(getattr(settings, name, default))


def inline_rows(fmt: str) -> int:
    """The most rows an export makes in the request: a CSV is streamed (cheap in memory, but each row still
    costs time), an XLSX is built whole."""
    if fmt == "csv":
        return _setting("RCF_EXPORT_INLINE_CSV_ROWS", 10_000)
    return _setting("RCF_EXPORT_INLINE_ROWS", 5_000)


def inline_pdf_projects() -> int:
    return _setting("RCF_EXPORT_INLINE_PDF_PROJECTS", 200)


def chunk_rows() -> int:
    """Records read per query (and per prefetch ``IN`` list) while exporting."""
    return max(1, _setting("RCF_EXPORT_CHUNK_ROWS", 2_000))


def stale_seconds() -> float:
    return _setting("RCF_EXPORT_STALE_SECONDS", 120.0)


def left_seconds() -> float:
    return _setting("RCF_EXPORT_LEFT_SECONDS", 20.0)


def keep_seconds() -> float:
    return _setting("RCF_EXPORT_KEEP_HOURS", 24.0) * 3600


def max_active() -> int:
    """Runs one user may have queued or running at once."""
    return max(1, _setting("RCF_EXPORT_MAX_ACTIVE_PER_USER", 3))


def time_limit() -> int:
    return _setting("RCF_EXPORT_TIME_LIMIT_SECONDS", 3600)


def export_dir() -> Path:
    return job_dir("RCF_EXPORT_DIR", "exports")


def file_path(run: ExportRun) -> Path:
    return export_dir() / f"{run.stored_name}.{run.fmt}"


def _partial_path(run: ExportRun) -> Path:
    return export_dir() / f"{run.stored_name}.{os.getpid()}.part"


def available(run: ExportRun, *, now=None) -> bool:
    """Done, within the hours the page and the e-mail promised, and still on disk."""
    if run.status != ExportRunStatus.DONE or run.finished_at is None:
        return False
    age = ((now or timezone.now()) - run.finished_at).total_seconds()
    return age < keep_seconds() and file_path(run).exists()


def sweep(*, now: float | None = None) -> int:
    """Files older than ``RCF_EXPORT_KEEP_HOURS`` go (a run's page then says so)."""
    cutoff = (now or time.time()) - keep_seconds()
    removed = 0
    for path in export_dir().iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            pass
    return removed


# --- Deciding and creating (the web request) -------------------------------------------------------


def capped_count(queryset, limit: int) -> int:
    """How many rows ``queryset`` has, counting no further than ``limit`` (bounded work at any size)."""
    return queryset.order_by().values("pk")[:limit].count()


def too_many_rows(queryset, fmt: str) -> bool:
    """Is this export too large for the request (a job instead)?"""
    limit = inline_rows(fmt)
    return capped_count(queryset, limit + 1) > limit


def export_run_create(*, kind: str, fmt: str, by, file_name: str, params: dict | None = None,
                      rows_total: int | None = None) -> ExportRun:
    """Record an export to make in the background; the worker takes it up through the outbox."""
    sweep()
    run = ExportRun(kind=kind, fmt=fmt, params=params or {}, created_by=by, file_name=file_name[:200],
                    stored_name=secrets.token_hex(16), language=translation.get_language() or "",
                    rows_total=rows_total, seen_at=timezone.now())
    with transaction.atomic():
        run.save()
        outbox_enqueue(topic=EXPORT_TOPIC, payload={"run": run.pk})
    return run


def export_run_start(*, kind: str, fmt: str, by, file_name: str, params: dict | None = None,
                     rows_total: int | None = None) -> ExportRun:
    """The run a user's POST asks for: their queued or running run of the same kind, format and parameters if
    there is one, else a new run; ``TooManyRuns`` when they already have ``max_active()`` runs at work."""
    from django.contrib.auth import get_user_model

    params = params or {}
    with transaction.atomic():
        # One user's requests one at a time (the row lock), so two clicks make one run and the cap holds.
        get_user_model().objects.select_for_update().filter(pk=by.pk).first()
        active = list(runs_of(by).filter(status__in=WORKING).order_by("created_at", "pk"))
        for run in active:
            if run.kind == kind and run.fmt == fmt and run.params == params:
                return run
        if len(active) >= max_active():
            raise TooManyRuns(_("You already have %(count)s exports being made; wait for one to finish, then "
                                "export again.") % {"count": len(active)})
        return export_run_create(kind=kind, fmt=fmt, by=by, file_name=file_name, params=params,
                                 rows_total=rows_total)


def runs_of(user):
    """A user's own export runs (nobody sees another's)."""
    return ExportRun.objects.filter(created_by=user)


def export_run_seen(run: ExportRun, *, now: datetime.datetime | None = None) -> None:
    """Its page was shown (or polled): the user is still there, no e-mail needed."""
    if run.status in WORKING:
        now = now or timezone.now()
        ExportRun.objects.filter(pk=run.pk).update(seen_at=now)
        run.seen_at = now


def export_run_refresh(run: ExportRun, *, now: datetime.datetime | None = None) -> ExportRun:
    """The run as its page shows it: a run whose worker stopped giving signs of life is marked failed."""
    if run.status != ExportRunStatus.RUNNING:
        return run
    now = now or timezone.now()
    beat = run.heartbeat_at or run.started_at or run.created_at
    if (now - beat).total_seconds() > stale_seconds():
        message = _("The background worker stopped while making this file (it was restarted or ran out of "
                    "memory). Export again.")
        ExportRun.objects.filter(pk=run.pk, status=ExportRunStatus.RUNNING).update(
            status=ExportRunStatus.FAILED, error=message, finished_at=now)
        run.refresh_from_db()
    return run


def waiting_too_long(run: ExportRun, *, now: datetime.datetime | None = None) -> bool:
    """No worker has taken the run up for longer than a run may go without a sign of life."""
    return (run.status == ExportRunStatus.QUEUED
            and ((now or timezone.now()) - run.created_at).total_seconds() > stale_seconds())


# --- The work (the Celery task) ---------------------------------------------------------------------


def _outbox_handle(payload: dict) -> None:
    """Hand a run to the worker pool (idempotent: a second task finds nothing to claim)."""
    from .tasks import export_run

    if ExportRun.objects.filter(pk=payload["run"], status=ExportRunStatus.QUEUED).exists():
        export_run.delay(payload["run"])


outbox_register(topic=EXPORT_TOPIC, handler=_outbox_handle)


class Progress:
    """What a kind's ``make`` reports: the total, the stage, each row done.
    Written on the run's row at most once a second (and the heartbeat with it)."""

    def __init__(self, run: ExportRun):
        self.run = run
        self.done = 0
        self.last = 0.0

    def _write(self, **fields) -> None:
        self.last = time.monotonic()
        ExportRun.objects.filter(pk=self.run.pk, status=ExportRunStatus.RUNNING).update(
            rows_done=self.done, heartbeat_at=timezone.now(), **fields)

    def total(self, rows: int | None) -> None:
        self._write(rows_total=rows)

    def stage(self, name: str) -> None:
        self._write(stage=name)

    def row(self) -> None:
        self.done += 1
        if time.monotonic() - self.last >= 1:
            self._write()

    def rows(self, iterable):
        """``iterable``, counting each row it gives as done."""
        for item in iterable:
            yield item
            self.row()


def _claim(run_id: int) -> bool:
    now = timezone.now()
    return bool(ExportRun.objects.filter(pk=run_id, status=ExportRunStatus.QUEUED).update(
        status=ExportRunStatus.RUNNING, started_at=now, heartbeat_at=now, rows_done=0, stage=""))


def export_run_execute(run_id: int) -> str:
    """Make the file of an export run, if this call is the one that claims it; else do nothing."""
    if not _claim(run_id):
        return "nothing to do"
    run = ExportRun.objects.select_related("created_by").get(pk=run_id)
    progress = Progress(run)
    partial = _partial_path(run)
    error = ""
    with translation.override(run.language or settings.LANGUAGE_CODE):
        try:
            if not may_have(run):
                raise ExportFailed(_("Your account no longer has access to this data (its role was changed or "
                                     "it was deactivated after you asked); no file was made."))
            with partial.open("wb") as out:
                _maker(run.kind)(run, out, progress)
            os.replace(partial, file_path(run))  # complete, or not there at all
        except Exception as failure:  # noqa: BLE001 - the job's boundary: shown on the page, logged in full
            from celery.exceptions import SoftTimeLimitExceeded

            partial.unlink(missing_ok=True)
            if isinstance(failure, ExportFailed):
                error = str(failure)
            elif isinstance(failure, SoftTimeLimitExceeded):
                error = _("Making the file took longer than the %(minutes)s minutes allowed. Narrow the filters, "
                          "or ask an administrator to raise RCF_EXPORT_TIME_LIMIT_SECONDS.") % {
                    "minutes": f"{time_limit() / 60:g}"}
            else:
                logger.exception("Export run %s failed.", run_id)
                error = _("The export failed unexpectedly (%(reason)s); no file was made. Export again, or tell "
                          "an administrator if it fails again.") % {"reason": type(failure).__name__}
    now = timezone.now()
    status = ExportRunStatus.FAILED if error else ExportRunStatus.DONE
    with transaction.atomic():
        ExportRun.objects.filter(pk=run.pk).exclude(status=ExportRunStatus.DONE).update(
            status=status, error=error, finished_at=now, heartbeat_at=now, stage="",
            rows_done=progress.done, **({} if error else {"rows_total": progress.done}))
        run.refresh_from_db()
        left = run.seen_at is None or (now - run.seen_at).total_seconds() > left_seconds()
        if left and ExportRun.objects.filter(pk=run.pk, mailed_at__isnull=True).update(mailed_at=now):
            outbox_enqueue(topic=EXPORT_MAIL_TOPIC, payload={"run": run.pk})
    return status


# --- The e-mail to a user who left the page ------------------------------------------------------


def _language_of(run: ExportRun) -> str:
    """The owner's e-mail language (their point of contact's), else the language they asked in."""
    from django.core.exceptions import ObjectDoesNotExist

    try:
        poc = run.created_by.point_of_contact
    except (ObjectDoesNotExist, AttributeError):
        poc = None
    return getattr(poc, "preferred_language", "") or run.language or settings.LANGUAGE_CODE


def _tell_owner(payload: dict) -> None:
    """The outbox handler of EXPORT_MAIL_TOPIC. A mail server that refuses raises: the outbox tries again."""
    from django.core.mail import send_mail
    from django.urls import reverse

    from .marking import marked_email_body

    run = ExportRun.objects.filter(pk=payload["run"]).select_related("created_by").first()
    if run is None or not run.created_by.email:
        return
    link = settings.SITE_URL.rstrip("/") + reverse("exports:run", args=[run.pk])
    with translation.override(_language_of(run)):
        if run.status == ExportRunStatus.DONE:
            subject = _("[RCF Tracker] Your export is ready: %(name)s") % {"name": run.file_name}
            lines = [_("The file you asked for, %(name)s, is ready (%(rows)s rows). Download it from:")
                     % {"name": run.file_name, "rows": f"{run.rows_done:,}"}, link, "",
                     _("Only you can download it; it is kept for %(hours)s hours.")
                     % {"hours": f"{keep_seconds() / 3600:g}"}]
        else:
            subject = _("[RCF Tracker] Your export failed: %(name)s") % {"name": run.file_name}
            lines = [_("The file you asked for, %(name)s, could not be made.") % {"name": run.file_name}, "",
                     run.error, "", link]
        body = marked_email_body("\n".join(lines))
    send_mail(subject, body, None, [run.created_by.email])


outbox_register(topic=EXPORT_MAIL_TOPIC, handler=_tell_owner)

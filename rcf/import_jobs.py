"""Spreadsheet imports from the pages, run in the background (``ImportRun``).

A 50,000-row file takes minutes through the services, far beyond a web
request (gunicorn's 30 s, the web statement timeout). So the page only
stores the file and records an ``ImportRun``; the work goes through the
outbox (``IMPORT_TOPIC``: a web request never talks to the broker) to the
Celery task ``rcf.tasks.import_run``, which runs the dry run, and later, on
"Import N rows", the import itself, with ``rcf.imports.run_import`` (the
same engine as the commands: one transaction, a dry run is the run rolled
back). Small files (``RCF_IMPORT_INLINE_ROWS``) run at once in the request,
through the same function, so the page stays quick.

* Exactly once: each step starts with a conditional UPDATE (queued →
  checking, checked + requested → applying); a second delivery of the task
  (the outbox is at least once) finds nothing to claim and does nothing.
* Progress: rows done so far are written to a small file beside the upload
  in ``RCF_IMPORT_DIR`` (a row of this table written inside the import's
  transaction would stay invisible until the commit). The web and the
  worker share that folder (one host in development; a volume in
  docker-compose). The file's time is also the run's heartbeat.
* A worker that died mid-run (killed, out of memory, the hard time limit)
  leaves a run whose heartbeat is older than ``RCF_IMPORT_STALE_SECONDS``:
  the page shows it as failed, with "Try again".

Apps register their importers by kind (``register_import_kind``) in their
``imports`` module, which is loaded on demand (``autodiscover_modules``), so
this app never imports the apps to its right.
"""

from __future__ import annotations

import datetime
import json
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

from .imports import (
    ImportFileError,
    ImportReport,
    RowResult,
    _blank,
    _header_row,
    header_lookup,
    max_bytes,
    max_rows,
    open_rows,
    run_import,
)
from .models import ImportRun, ImportRunStatus
from .outbox import outbox_enqueue, outbox_register

logger = logging.getLogger(__name__)

IMPORT_TOPIC = "rcf.import_run"
WORKING = (ImportRunStatus.CHECKING, ImportRunStatus.APPLYING)
FINISHED = (ImportRunStatus.DONE, ImportRunStatus.FAILED)
_KEEP_SECONDS = 24 * 3600
_INLINE_MAX_BYTES = 512 * 1024
_STORED_ERRORS = 10_000  # errors kept in a run's result (the page lists the first 500)

_KINDS: dict[str, Callable] = {}


def register_import_kind(kind: str, factory: Callable) -> None:
    """``factory(upload, name, by=user)`` gives the ``Importer`` for a file of ``kind``."""
    _KINDS[kind] = factory


def _factory(kind: str) -> Callable:
    if kind not in _KINDS:
        autodiscover_modules("imports")
    return _KINDS[kind]


# --- Settings and files ------------------------------------------------------------------------


def inline_rows() -> int:
    return int(getattr(settings, "RCF_IMPORT_INLINE_ROWS", 200))


def stale_seconds() -> float:
    return float(getattr(settings, "RCF_IMPORT_STALE_SECONDS", 120))


def job_dir(setting: str, name: str) -> Path:
    """The folder a kind of background run keeps its files in: the setting
    ``setting`` (shared by web and worker), else ``var/<name>``; made if missing."""
    folder = Path(getattr(settings, setting, None) or Path(settings.BASE_DIR) / "var" / name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def import_dir() -> Path:
    return job_dir("RCF_IMPORT_DIR", "imports")


def stored_path(run: ImportRun) -> Path:
    return import_dir() / f"{run.stored_name}.upload"


def progress_path(run: ImportRun) -> Path:
    return import_dir() / f"{run.stored_name}.progress"


def write_progress(run: ImportRun, done: int) -> None:
    """Rows done so far, and now as the heartbeat (replaced atomically)."""
    path = progress_path(run)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"done": done, "at": time.time()}))
    os.replace(temporary, path)


def read_progress(run: ImportRun) -> dict | None:
    try:
        return json.loads(progress_path(run).read_text())
    except (OSError, ValueError):
        return None


def _remove_files(run: ImportRun) -> None:
    for path in (stored_path(run), progress_path(run)):
        path.unlink(missing_ok=True)


def sweep() -> None:
    """Files of runs nobody finished (a dry run never imported) go after a day."""
    cutoff = time.time() - _KEEP_SECONDS
    for path in import_dir().iterdir():
        if path.suffix in (".upload", ".progress", ".tmp"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass


# --- The report, kept as JSON --------------------------------------------------------------------


def report_to_dict(report: ImportReport) -> dict:
    return {
        "kind": report.kind, "dry_run": report.dry_run, "rows": report.rows, "created": report.created,
        "updated": report.updated, "unchanged": report.unchanged, "error_rows": report.error_rows,
        "seconds": round(report.seconds, 2), "applied": report.applied, "error_count": len(report.errors),
        "errors": [list(e) for e in report.errors[:_STORED_ERRORS]],
        "shown": [{"row": r.row, "action": r.action, "label": r.label, "changes": [list(c) for c in r.changes],
                   "errors": [list(e) for e in r.errors]} for r in report.shown],
    }


def report_from_dict(data: dict) -> ImportReport | None:
    if not data:
        return None
    report = ImportReport(
        kind=data.get("kind", ""), dry_run=data.get("dry_run", True), rows=data.get("rows", 0),
        created=data.get("created", 0), updated=data.get("updated", 0), unchanged=data.get("unchanged", 0),
        error_rows=data.get("error_rows", 0), seconds=data.get("seconds", 0.0), applied=data.get("applied", False),
        errors=[tuple(e) for e in data.get("errors", [])],
        shown=[RowResult(row=r["row"], action=r["action"], label=r["label"],
                         changes=[tuple(c) for c in r["changes"]], errors=[tuple(e) for e in r["errors"]])
               for r in data.get("shown", [])],
    )
    report.error_count = data.get("error_count", len(report.errors))
    return report


# --- Creating and requesting (the web request) ------------------------------------------------------


def count_rows(importer, upload, name: str, *, limit: int,
               heartbeat: Callable[[], None] | None = None) -> int:
    """The data rows of a file (blank rows and the header not counted), at most ``limit``."""
    source = open_rows(upload, name)
    rows = enumerate(source, start=1)
    try:
        _header_row(rows, header_lookup(importer.columns))
        count = 0
        for _number, values in rows:
            if all(_blank(v) for v in values):
                continue
            count += 1
            if heartbeat and count % 5000 == 0:
                heartbeat()
            if count >= limit:
                break
        return count
    finally:
        source.close()  # the workbook, for an XLSX
        upload.seek(0)


def import_run_create(*, kind: str, by, upload, name: str) -> ImportRun:
    """Store an uploaded file and start its dry run: at once for a small file,
    else in the background. ``ImportFileError`` for a file refused as a whole."""
    name = (name or "")[-200:]
    if upload.size > max_bytes():
        raise ImportFileError(_("The file is %(size)s MB; the import takes at most %(limit)s MB.")
                              % {"size": f"{upload.size / 1048576:.1f}", "limit": f"{max_bytes() / 1048576:g}"})
    if not name.lower().endswith((".csv", ".xlsx")):
        raise ImportFileError(_("Upload an .xlsx or a .csv file (the shape of the export)."))
    sweep()
    run = ImportRun(kind=kind, created_by=by, file_name=name, stored_name=secrets.token_hex(16),
                    language=translation.get_language() or "")
    path = stored_path(run)
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    # Only a file small in bytes is even opened here (reading a large workbook alone takes seconds).
    small = upload.size <= _INLINE_MAX_BYTES and inline_rows() > 0
    if small:
        try:
            with path.open("rb") as stored:
                importer = _factory(kind)(stored, name, by=by)
                small = count_rows(importer, stored, name, limit=inline_rows() + 1) <= inline_rows()
        except ImportFileError:
            path.unlink(missing_ok=True)
            raise
    with transaction.atomic():
        run.save()
        if not small:
            outbox_enqueue(topic=IMPORT_TOPIC, payload={"run": run.pk})
    if small:
        import_run_execute(run.pk)
        run.refresh_from_db()
    return run


def import_run_request_apply(run: ImportRun) -> bool:
    """"Import N rows": only for a checked run without errors; at once for a
    small file, else in the background. False when the run is not waiting for it."""
    report = report_from_dict(run.result)
    if run.status != ImportRunStatus.CHECKED or report is None or not report.ok or not report.to_write:
        return False
    with transaction.atomic():
        requested = ImportRun.objects.filter(pk=run.pk, status=ImportRunStatus.CHECKED,
                                             apply_requested_at__isnull=True).update(apply_requested_at=timezone.now())
        if requested and report.rows > inline_rows():
            outbox_enqueue(topic=IMPORT_TOPIC, payload={"run": run.pk})
    if requested and report.rows <= inline_rows():
        import_run_execute(run.pk)
    run.refresh_from_db()
    return bool(requested)


def import_run_retry(run: ImportRun) -> bool:
    """"Try again" after a failure (a worker that died, the time limit): the dry
    run again from the kept file."""
    if run.status != ImportRunStatus.FAILED or not stored_path(run).exists():
        return False
    with transaction.atomic():
        retried = ImportRun.objects.filter(pk=run.pk, status=ImportRunStatus.FAILED).update(
            status=ImportRunStatus.QUEUED, apply_requested_at=None, result={}, rows_total=None, rows_done=0,
            started_at=None, finished_at=None, heartbeat_at=None, error="")
        if retried:
            outbox_enqueue(topic=IMPORT_TOPIC, payload={"run": run.pk})
    run.refresh_from_db()
    return bool(retried)


def import_run_refresh(run: ImportRun, *, now: datetime.datetime | None = None) -> ImportRun:
    """The run as the page shows it: its rows done from the progress file; a
    run whose worker stopped giving signs of life is marked failed."""
    if run.status not in WORKING:
        return run
    progress = read_progress(run) or {}
    run.rows_done = max(run.rows_done, int(progress.get("done") or 0))
    now = now or timezone.now()
    beats = [run.heartbeat_at or run.started_at or run.created_at]
    if progress.get("at"):
        beats.append(datetime.datetime.fromtimestamp(progress["at"], tz=datetime.UTC))
    if (now - max(beats)).total_seconds() > stale_seconds():
        message = _("The background worker stopped during this run (it was restarted or ran out of memory); "
                    "nothing was imported. Try again.")
        ImportRun.objects.filter(pk=run.pk, status=run.status).update(
            status=ImportRunStatus.FAILED, error=message, finished_at=now)
        run.refresh_from_db()
    return run


def waiting_too_long(run: ImportRun, *, now: datetime.datetime | None = None) -> bool:
    """No worker has taken the run up for longer than a run may go without a sign of life."""
    since = run.apply_requested_at or run.created_at
    return ((now or timezone.now()) - since).total_seconds() > stale_seconds()


# --- The work (the Celery task, or the request for a small file) ------------------------------------


def _outbox_handle(payload: dict) -> None:
    """Hand a run to the worker pool (idempotent: a second task finds nothing to claim)."""
    from .tasks import import_run

    if ImportRun.objects.filter(pk=payload["run"], status__in=[ImportRunStatus.QUEUED,
                                                               ImportRunStatus.CHECKED]).exists():
        import_run.delay(payload["run"])


outbox_register(topic=IMPORT_TOPIC, handler=_outbox_handle)


def _claim(run_id: int) -> tuple[bool, str] | None:
    now = timezone.now()
    fresh = {"started_at": now, "heartbeat_at": now, "rows_done": 0, "finished_at": None}
    if ImportRun.objects.filter(pk=run_id, status=ImportRunStatus.QUEUED).update(
            status=ImportRunStatus.CHECKING, **fresh):
        return True, ImportRunStatus.CHECKING
    if ImportRun.objects.filter(pk=run_id, status=ImportRunStatus.CHECKED, apply_requested_at__isnull=False).update(
            status=ImportRunStatus.APPLYING, **fresh):
        return False, ImportRunStatus.APPLYING
    return None


class _Ticker:
    """Writes the rows done to the progress file every 50 rows or every second."""

    def __init__(self, run: ImportRun):
        self.run = run
        self.done = 0
        self.last = 0.0

    def __call__(self, _result=None) -> None:
        if _result is not None:
            self.done += 1
        now = time.monotonic()
        if self.done % 50 == 0 or now - self.last >= 1:
            write_progress(self.run, self.done)
            self.last = now


def import_run_execute(run_id: int) -> str:
    """Run the step an import run waits for (its dry run, or its import), if
    this call is the one that claims it; else do nothing."""
    claim = _claim(run_id)
    if claim is None:
        return "nothing to do"
    dry_run, working = claim
    run = ImportRun.objects.select_related("created_by").get(pk=run_id)
    ticker = _Ticker(run)
    error = ""
    report = None
    file_refused = False
    with translation.override(run.language or settings.LANGUAGE_CODE):
        try:
            ticker()
            with stored_path(run).open("rb") as upload:
                importer = _factory(run.kind)(upload, run.file_name, by=run.created_by)
                total = count_rows(importer, upload, run.file_name, limit=max_rows() + 1, heartbeat=ticker)
                ImportRun.objects.filter(pk=run.pk, status=working).update(rows_total=total,
                                                                           heartbeat_at=timezone.now())
                report = run_import(importer, upload=upload, name=run.file_name, dry_run=dry_run, on_row=ticker)
        except FileNotFoundError:
            error, file_refused = _("The uploaded file is no longer kept (files wait a day): upload it again."), True
        except ImportFileError as refusal:
            error, file_refused = str(refusal), True
        except Exception as failure:  # noqa: BLE001 - the job's boundary: shown on the page, logged in full
            from celery.exceptions import SoftTimeLimitExceeded

            if isinstance(failure, SoftTimeLimitExceeded):
                error = _("The run took longer than the %(minutes)s minutes allowed; nothing was imported. Split "
                          "the file, or ask an administrator to raise RCF_IMPORT_TIME_LIMIT_SECONDS.") % {
                    "minutes": f"{time_limit() / 60:g}"}
            else:
                logger.exception("Import run %s failed.", run_id)
                error = _("The import failed unexpectedly (%(reason)s); nothing was imported.") % {
                    "reason": type(failure).__name__}
        if report is not None and not dry_run and not report.applied:
            error = _("Nothing was imported: %(count)s rows are no longer valid (the records changed since the "
                      "check). Check the file again.") % {"count": report.error_rows or len(report.errors)}
    now = timezone.now()
    if report is None:
        status = ImportRunStatus.FAILED
    elif dry_run:
        status = ImportRunStatus.CHECKED
    else:
        status = ImportRunStatus.DONE if report.applied else ImportRunStatus.FAILED
    fields = {"status": status, "error": error, "finished_at": now, "heartbeat_at": now}
    if report is not None:
        fields.update(result=report_to_dict(report), rows_done=report.rows, rows_total=report.rows)
    ImportRun.objects.filter(pk=run.pk, status=working).update(**fields)
    # The file waits for "Import N rows", or for "Try again" after a failure.
    if status == ImportRunStatus.CHECKED:
        keep_file = report.ok and bool(report.to_write)
    else:
        keep_file = status == ImportRunStatus.FAILED and not file_refused
    if keep_file:
        progress_path(run).unlink(missing_ok=True)
    else:
        _remove_files(run)
    return status


def time_limit() -> int:
    return int(getattr(settings, "RCF_IMPORT_TIME_LIMIT_SECONDS", 7200))


def runs_of(user, kind: str):
    """A user's own runs of one kind (nobody sees another's)."""
    return ImportRun.objects.filter(created_by=user, kind=kind)

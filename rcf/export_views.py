"""An export run's page (/exports/ID/) and its file (/exports/ID/download):
the progress while the worker makes the file (the section polls itself every
2 s, htmx), then the download link, or why it failed. Only the user who asked
sees either (404 for anyone else); see rcf.export_jobs.

``start_export`` is what the export views call for an export too large for
the request: a GET answers a page with a "Make the file" button (a run is
made only by that CSRF-checked POST, so a link or an image on another site
starts nothing); the POST records the run (or finds the user's same run
still at work) and sends the browser to its page."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _

from . import export_jobs
from .models import ExportRun, ExportRunStatus
from .views import StaffView


def start_export(request, *, kind: str, fmt: str, file_name: str, params: dict | None = None,
                 rows_total: int | None = None, count: int | None = None, more_than: int | None = None):
    """GET: the page offering to make the file in the background (``count`` rows or, for the PDF, projects;
    or "more than ``more_than``": the count is capped, so deciding costs the same at any size).
    POST: record an export run for ``request.user`` (or reuse theirs at work) and redirect to its page;
    429 with the page and a message when they have too many at work."""
    context = {"file_name": file_name, "fmt": fmt, "count": count, "more_than": more_than,
               "action": request.get_full_path()}
    if request.method != "POST":
        return render(request, "rcf/export_start.html", context)
    try:
        run = export_jobs.export_run_start(kind=kind, fmt=fmt, by=request.user, file_name=file_name,
                                           params=params, rows_total=rows_total)
    except export_jobs.TooManyRuns as refusal:
        return render(request, "rcf/export_start.html", context | {"refusal": str(refusal)}, status=429)
    return redirect("exports:run", run.pk)


def _own_run(request, pk) -> ExportRun:
    try:
        return export_jobs.runs_of(request.user).get(pk=int(pk))
    except (ValueError, TypeError, ExportRun.DoesNotExist):
        raise Http404(_("No such export of yours.")) from None


# Not one transaction per request: on SQLite it would take the write lock at BEGIN while the worker writes progress.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class ExportRunView(StaffView):
    permission_required = ()  # a signed-in user's own runs; the export itself checked their permission

    def get(self, request, pk):
        run = export_jobs.export_run_refresh(_own_run(request, pk))
        export_jobs.export_run_seen(run)
        context = {"run": run, "working": run.status in export_jobs.WORKING,
                   "available": export_jobs.available(run),
                   "expired": run.status == ExportRunStatus.DONE and not export_jobs.available(run),
                   "waiting_long": export_jobs.waiting_too_long(run),
                   "keep_hours": f"{export_jobs.keep_seconds() / 3600:g}",
                   "download_url": reverse("exports:download", args=[run.pk])}
        if request.htmx:
            return render(request, "includes/export_run.html", context)
        return render(request, "rcf/export_run.html", context)


class ExportDownloadView(StaffView):
    permission_required = ()

    def get(self, request, pk):
        run = _own_run(request, pk)
        if not export_jobs.may_have(run, request.user):
            raise PermissionDenied(_("Your role no longer allows this export."))
        if not export_jobs.available(run):
            raise Http404(_("This file is not there: it is still being made, it failed, or it was removed after "
                            "%(hours)s hours.") % {"hours": f"{export_jobs.keep_seconds() / 3600:g}"})
        return FileResponse(export_jobs.file_path(run).open("rb"), as_attachment=True, filename=run.file_name,
                            content_type=export_jobs.CONTENT_TYPES.get(run.fmt, "application/octet-stream"))

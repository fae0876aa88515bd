"""The import pages (/projects/import/, /contacts/import/): upload a file,
see the dry run (per row: create / update with each change old → new /
unchanged, and every error with its row and column), then "Import N rows"
applies it, in one transaction or not at all.

A file is checked and imported in the background (rcf.import_jobs: an
``ImportRun`` per upload, run by a Celery task); the page shows the run at
``?run=ID`` and, while it works, polls itself every 2 seconds (htmx) for the
rows done. A small file runs at once. Each user sees only their own runs; the
uploaded file waits in ``RCF_IMPORT_DIR`` under a random name."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from . import import_jobs
from .imports import ImportFileError, max_bytes, max_rows, summary
from .models import ImportRunStatus
from .views import StaffView

_RECENT = 5


# Not one transaction per request (ATOMIC_REQUESTS): on SQLite every such transaction takes the write lock
# at BEGIN (IMMEDIATE), so the page could not even show the progress of a run whose transaction holds the
# lock in the worker. The writes here are each atomic on their own (rcf.import_jobs).
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class ImportView(StaffView):
    """Subclasses set ``kind`` (``register_import_kind``), ``template_name`` and ``done_url``."""

    kind = ""
    template_name = ""
    done_url = ""

    def context(self, request, run=None, **extra):
        recent = import_jobs.runs_of(request.user, self.kind)
        if run is not None:
            recent = recent.exclude(pk=run.pk)
        return {"max_mb": f"{max_bytes() / 1048576:g}", "max_rows": f"{max_rows():,}",
                "recent_runs": recent[:_RECENT], **self.run_context(run), **extra}

    def run_context(self, run) -> dict:
        if run is None:
            return {}
        run = import_jobs.import_run_refresh(run)
        report = import_jobs.report_from_dict(run.result)
        working = run.status in import_jobs.WORKING or run.status == ImportRunStatus.QUEUED or (
            run.status == ImportRunStatus.CHECKED and run.apply_requested_at is not None)
        return {
            "run": run, "report": report, "file_name": run.file_name, "summary": summary(report) if report else "",
            "working": working, "can_apply": (run.status == ImportRunStatus.CHECKED and not run.apply_requested_at
                                              and report is not None and report.ok and report.to_write > 0),
            "can_retry": run.status == ImportRunStatus.FAILED and import_jobs.stored_path(run).exists(),
            "waiting_long": working and run.status not in import_jobs.WORKING and import_jobs.waiting_too_long(run),
        }

    def _run(self, request, pk):
        try:
            return import_jobs.runs_of(request.user, self.kind).get(pk=int(pk))
        except (ValueError, TypeError, import_jobs.ImportRun.DoesNotExist):
            raise Http404(_("No such import of yours.")) from None

    def _run_url(self, request, run):
        return f"{request.path}?{urlencode({'run': run.pk})}"

    def get(self, request):
        run = self._run(request, request.GET["run"]) if request.GET.get("run") else None
        if run is not None and request.htmx:
            return render(request, "includes/import_run.html", self.context(request, run, action=request.path))
        return render(request, self.template_name, self.context(request, run))

    def post(self, request):
        if request.POST.get("apply"):
            return self._apply(request, self._run(request, request.POST["apply"]))
        if request.POST.get("retry"):
            run = self._run(request, request.POST["retry"])
            if not import_jobs.import_run_retry(run):
                return self._refuse(request, _("This import cannot be tried again: upload the file again."), run)
            return redirect(self._run_url(request, run))
        upload = request.FILES.get("file")
        if upload is None:
            return self._refuse(request, _("Choose a file to import."))
        try:
            run = import_jobs.import_run_create(kind=self.kind, by=request.user, upload=upload, name=upload.name)
        except ImportFileError as error:
            return self._refuse(request, str(error))
        return redirect(self._run_url(request, run))

    def _apply(self, request, run):
        if not import_jobs.import_run_request_apply(run):
            return self._refuse(request, _("This import is no longer waiting (already done, or it has errors): "
                                           "upload the file again."), run)
        if run.status == ImportRunStatus.DONE:  # a small file, imported at once
            messages.success(request, summary(import_jobs.report_from_dict(run.result)))
            return redirect(self.done_url)
        return redirect(self._run_url(request, run))

    def _refuse(self, request, message, run=None):
        return render(request, self.template_name, self.context(request, run, problem=message), status=400)

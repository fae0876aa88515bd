"""The import pages (/projects/import/, /contacts/import/): upload a file,
see the dry run (per row: create / update with each change old → new /
unchanged, and every error with its row and column), then "Import N rows"
applies it, in one transaction or not at all.

Between the two steps the file waits in ``RCF_IMPORT_DIR`` under a random
name that only the uploader's session knows (the form carries the token;
the server takes the file's name from the session, never from the form), and
it is deleted once applied. Files left behind (a dry run nobody applied) are
removed after a day, at the next upload."""

import hmac
import re
import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .imports import ImportFileError, max_bytes, max_rows, run_import, summary
from .views import StaffView

_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_KEEP_SECONDS = 24 * 3600


def import_dir() -> Path:
    folder = Path(getattr(settings, "RCF_IMPORT_DIR", None) or Path(settings.BASE_DIR) / "var" / "imports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sweep(folder: Path) -> None:
    cutoff = time.time() - _KEEP_SECONDS
    for path in folder.glob("*.upload"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass


class ImportView(StaffView):
    """Subclasses set ``scope`` (the session key), ``template_name``,
    ``done_url`` and ``importer(upload, name, by)``."""

    scope = ""
    template_name = ""
    done_url = ""

    def importer(self, upload, name, *, by):
        raise NotImplementedError

    def context(self, **extra):
        return {"max_mb": f"{max_bytes() / 1048576:g}", "max_rows": f"{max_rows():,}", **extra}

    def get(self, request):
        return render(request, self.template_name, self.context())

    def post(self, request):
        if request.POST.get("token"):
            return self._apply(request)
        upload = request.FILES.get("file")
        if upload is None:
            return self._refuse(request, _("Choose a file to import."))
        if upload.size > max_bytes():
            return self._refuse(request, _("The file is %(size)s MB; the import takes at most %(limit)s MB.")
                                % {"size": f"{upload.size / 1048576:.1f}", "limit": f"{max_bytes() / 1048576:g}"})
        name = upload.name or ""
        if not name.lower().endswith((".csv", ".xlsx")):
            return self._refuse(request, _("Upload an .xlsx or a .csv file (the shape of the export)."))
        folder = import_dir()
        _sweep(folder)
        token = secrets.token_hex(16)
        path = folder / f"{token}.upload"
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        self._forget(request)
        request.session[self.scope] = {"token": token, "name": name[-200:]}
        with path.open("rb") as stored:
            try:
                report = run_import(self.importer(stored, name, by=request.user), upload=stored, name=name,
                                    dry_run=True)
            except ImportFileError as error:
                self._forget(request)
                return self._refuse(request, str(error))
        if report.errors:
            self._forget(request)
        return render(request, self.template_name, self.context(report=report, token=token, file_name=name,
                                                                summary=summary(report)))

    def _apply(self, request):
        stored = request.session.get(self.scope) or {}
        token = request.POST.get("token", "")
        if not (_TOKEN.match(token) and stored.get("token") and hmac.compare_digest(token, stored["token"])):
            return self._refuse(request, _("This import is no longer waiting (already done, or another file was "
                                           "uploaded since): upload the file again."))
        path = import_dir() / f"{stored['token']}.upload"
        name = stored.get("name", "")
        if not path.exists():
            self._forget(request)
            return self._refuse(request, _("This import is no longer waiting (already done, or another file was "
                                           "uploaded since): upload the file again."))
        with path.open("rb") as upload:
            try:
                report = run_import(self.importer(upload, name, by=request.user), upload=upload, name=name,
                                    dry_run=False)
            except ImportFileError as error:
                report, problem = None, str(error)
        self._forget(request)
        if report is None:
            return self._refuse(request, problem)
        if report.applied:
            messages.success(request, summary(report))
            return redirect(self.done_url)
        return render(request, self.template_name, self.context(report=report, file_name=name,
                                                                summary=summary(report)), status=400)

    def _forget(self, request) -> None:
        stored = request.session.pop(self.scope, None) or {}
        token = stored.get("token", "")
        if _TOKEN.match(token):
            (import_dir() / f"{token}.upload").unlink(missing_ok=True)

    def _refuse(self, request, message):
        return render(request, self.template_name, self.context(problem=message), status=400)

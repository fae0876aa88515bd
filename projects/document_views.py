"""Staff pages for documents (issue 11): upload to a project or an
engagement, edit the title or marking, delete, and the permission-checked
download. Thin: writes through projects.services, reads through
projects.selectors. Files are never served from a public media URL, only by
``DocumentDownloadView`` (and the API's download action), which stream them
through Django's storage API."""

from __future__ import annotations

from urllib.parse import quote

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from rcf.services import VersionConflict
from rcf.views import StaffView, apply_service_errors

from . import selectors, services
from .document_files import KINDS, allowed_types_text, inspect_upload
from .models import CooperativeProject, Document, Engagement

# Multipart framing and the other fields on top of the largest file
# (rcf.middleware lets an upload body this much over RCF_MAX_UPLOAD_MB).
UPLOAD_OVERHEAD_BYTES = 256 * 1024


def upload_body_limit() -> int:
    """The largest request body a document upload may send (rcf.middleware)."""
    return int(settings.RCF_MAX_UPLOAD_MB) * 1024 * 1024 + UPLOAD_OVERHEAD_BYTES


def marking_choices():
    return [(m, m) for m in settings.RCF_MARKINGS]


class DocumentForm(forms.Form):
    """Title and handling marking; with ``upload=True`` the file too."""

    title = forms.CharField(label=_lazy("Title"), max_length=300)
    marking = forms.ChoiceField(label=_lazy("Handling marking"))
    file = forms.FileField(label=_lazy("File"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, upload: bool = True, **kwargs):
        kwargs.setdefault("prefix", "document")
        super().__init__(*args, **kwargs)
        self.fields["marking"].choices = [("", "—"), *marking_choices()]
        if upload:
            del self.fields["version"]
            self.fields["file"].required = True
            self.fields["file"].help_text = _("%(types)s; at most %(limit)d MB.") % {
                "types": allowed_types_text(), "limit": settings.RCF_MAX_UPLOAD_MB}
            extensions = sorted({ext for _ct, exts, _label in KINDS.values() for ext in exts})
            self.fields["file"].widget.attrs["accept"] = ",".join(extensions)
        else:
            del self.fields["file"]


def parent_url(*, project_id=None, engagement_id=None) -> str:
    """The page a document is listed on."""
    if project_id:
        return reverse("projects:detail", args=[project_id]) + "#documents"
    for name in ("engagements:detail", "projects:engagement_detail"):
        try:
            return reverse(name, args=[engagement_id]) + "#documents"
        except NoReverseMatch:
            continue
    return reverse("projects:list")


def _parent(target: str, pk: int):
    model = CooperativeProject if target == "project" else Engagement
    try:
        return model.objects.get(pk=pk)
    except model.DoesNotExist:
        raise Http404(_("No such project.") if target == "project" else _("No such engagement.")) from None


def _document(pk: int) -> Document:
    """A live document of a live project or engagement (like the download): a
    deleted parent's documents are not edited either."""
    try:
        return selectors.document_for_download(pk=pk)
    except Document.DoesNotExist:
        raise Http404(_("No such document.")) from None


def content_disposition(name: str) -> str:
    """``attachment`` with the original name: an ASCII fallback and the
    exact name as RFC 5987 UTF-8 (``filename*=UTF-8''…``)."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name) or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def document_file_response(document: Document) -> FileResponse:
    """The stored file, streamed through the storage API, as a download
    that no browser renders or caches."""
    try:
        handle = document.file.storage.open(document.file.name, "rb")
    except FileNotFoundError:
        raise Http404(_("The file of this document is missing from storage.")) from None
    response = FileResponse(handle, content_type=document.content_type or "application/octet-stream")
    response["Content-Disposition"] = content_disposition(document.original_name or document.title)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    if document.size:
        response["Content-Length"] = str(document.size)
    return response


class DocumentUploadView(StaffView):
    """GET: the upload form on a page of its own; POST: the upload (also
    sent by the form on the project and engagement pages)."""

    permission_required = "projects.add_document"
    upload_body_limit = staticmethod(upload_body_limit)

    def get(self, request, target, pk):
        parent = _parent(target, pk)
        return render(request, "projects/document_form.html", self.context(target, parent, DocumentForm()))

    def post(self, request, target, pk):
        parent = _parent(target, pk)
        form = DocumentForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                document = services.document_upload(
                    by=request.user, file=data["file"], title=data["title"], marking=data["marking"],
                    **{target: parent})
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Document “%(title)s” uploaded (%(marking)s).") % {
                    "title": document.title, "marking": document.marking})
                return redirect(parent_url(project_id=document.project_id, engagement_id=document.engagement_id))
        elif form.cleaned_data.get("file") is not None:
            # Say what is wrong with the file too, not only the other fields.
            try:
                inspect_upload(form.cleaned_data["file"])
            except ValidationError as error:
                apply_service_errors(form, error)
        return render(request, "projects/document_form.html", self.context(target, parent, form), status=400)

    @staticmethod
    def context(target, parent, form):
        project_id = parent.pk if target == "project" else None
        engagement_id = parent.pk if target == "engagement" else None
        return {"form": form, "parent": parent, "target": target, "upload": True,
                "action": reverse("projects:document_upload", args=[target, parent.pk]),
                "cancel_url": parent_url(project_id=project_id, engagement_id=engagement_id)}


class DocumentEditView(StaffView):
    """Change the title or marking (version-checked); delete from here too."""

    permission_required = "projects.change_document"

    def get(self, request, pk):
        document = _document(pk)
        form = DocumentForm(upload=False, initial={"title": document.title, "marking": document.marking,
                                                   "version": document.version})
        return render(request, "projects/document_form.html", self.context(request, document, form))

    def post(self, request, pk):
        document = _document(pk)
        form = DocumentForm(request.POST, upload=False)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.document_update(document=document, by=request.user,
                                         expected_version=data.get("version") or document.version,
                                         title=data["title"], marking=data["marking"])
            except VersionConflict:
                form.add_error(None, _("Someone else changed this document after you opened it. Nothing was "
                                       "saved; reload the page to see their changes."))
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Document saved."))
                return redirect(parent_url(project_id=document.project_id, engagement_id=document.engagement_id))
        return render(request, "projects/document_form.html", self.context(request, document, form), status=400)

    @staticmethod
    def context(request, document, form):
        return {"form": form, "document": document, "upload": False,
                "parent": document.project or document.engagement,
                "action": reverse("projects:document_edit", args=[document.pk]),
                "can_delete": request.user.has_perm("projects.delete_document"),
                "cancel_url": parent_url(project_id=document.project_id, engagement_id=document.engagement_id)}


class DocumentDeleteView(StaffView):
    permission_required = "projects.delete_document"

    def post(self, request, pk):
        document = _document(pk)
        try:
            services.document_delete(document=document, by=request.user,
                                     expected_version=_int_or_none(request.POST.get("version")))
        except VersionConflict:
            messages.error(request, _("The document changed while you were looking at it; nothing was deleted."))
            return redirect("projects:document_edit", pk=pk)
        messages.success(request, _("Document “%(title)s” deleted. An administrator can restore it.") % {
            "title": document.title})
        return redirect(parent_url(project_id=document.project_id, engagement_id=document.engagement_id))


def _int_or_none(value):
    return int(value) if value and str(value).isascii() and str(value).isdigit() and len(str(value)) < 10 else None


class DocumentDownloadView(StaffView):
    """The file, for users who may view documents (viewers included);
    anonymous visitors go to the sign-in page; a deleted document, or one of
    a deleted project or engagement, is not found."""

    permission_required = "projects.view_document"

    def get(self, request, pk):
        try:
            document = selectors.document_for_download(pk=pk)
        except Document.DoesNotExist:
            raise Http404(_("No such document.")) from None
        return document_file_response(document)

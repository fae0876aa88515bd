import logging
import sys

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.db import InterfaceError, OperationalError, transaction
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View
from django.views import defaults as django_defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import selectors
from .services import VersionConflict

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait before trying again while the database is away.
DATABASE_RETRY_AFTER = 30


@transaction.non_atomic_requests  # ATOMIC_REQUESTS would need the database before the check could report it
@never_cache
@require_GET
def healthz(request):
    """Database and broker reachability, for load balancers and CI: 200 when
    both answer, 503 naming the one that does not."""
    report = selectors.health_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)


# --- Error answers that need nothing but the request ------------------------------------------
# They render without the request (no context processor, so no session, user or database) from
# standalone templates, and answer JSON under /api/ as the API's own errors do.


def is_api_request(request) -> bool:
    return request.path_info.startswith("/api/")


def plain_error(request, *, status: int, message: str, title: str = "", template: str = "400.html",
                headers: dict | None = None) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse({"detail": message}, status=status, headers=headers)
    html = render_to_string(template, {"title": title, "message": message, "status": status})
    return HttpResponse(html, status=status, headers=headers)


def bad_request_page(request, message: str) -> HttpResponse:
    return plain_error(request, status=400, title=_("Bad request"), message=message)


def payload_too_large(request) -> HttpResponse:
    if is_api_request(request):
        limit = settings.RCF_API_MAX_BODY_BYTES
    else:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = _("The request is too large: the server accepts at most %(limit)s bytes (%(size)s) here.") % {
        "limit": limit, "size": f"{limit / 1024 / 1024:.1f} MiB"}
    return plain_error(request, status=413, title=_("Request too large"), message=message, template="413.html")


def length_required(request) -> HttpResponse:
    return plain_error(request, status=411, title=_("Length required"), message=_(
        "The request body was sent in chunks without a Content-Length, and this server cannot read it that "
        "way. Send the body with a Content-Length header."))


def database_unavailable(request, exception) -> HttpResponse:
    logger.warning("Database unavailable for %s %s: %s", request.method, request.path, exception)
    return plain_error(
        request, status=503, template="503.html", title=_("Temporarily unavailable"),
        message=_("The tracker cannot reach its database just now, so nothing was read or saved. Try again in a "
                  "minute; if this goes on, tell the administrators."),
        headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
    )


def bad_request(request, exception=None):
    """``handler400``: Django's ``SuspiciousOperation`` family, named where the
    client can fix it (a body too large is a 413)."""
    if isinstance(exception, RequestDataTooBig):
        return payload_too_large(request)
    if isinstance(exception, TooManyFieldsSent):
        message = _("The request has more than %(limit)d fields.") % {
            "limit": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}
    elif isinstance(exception, TooManyFilesSent):
        message = _("The request has more than %(limit)d files.") % {"limit": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
    else:
        message = _("The server could not understand this request.")
    return bad_request_page(request, message)


def server_error(request):
    """``handler500``: a database that cannot be reached is a 503 (it fails
    outside any view too, e.g. in a middleware that loads the user); anything
    else Django's plain 500 page."""
    exception = sys.exc_info()[1]
    if isinstance(exception, OperationalError):
        from . import db_timeout

        if db_timeout.is_query_cancelled(exception):  # outside a view, e.g. loading the session
            return db_timeout.timed_out(request, exception)
    if isinstance(exception, (OperationalError, InterfaceError)):
        return database_unavailable(request, exception)
    if is_api_request(request):
        return JsonResponse({"detail": _("Something went wrong on the server. It has been logged.")}, status=500)
    return django_defaults.server_error(request)


def permission_denied(request, exception=None):
    from django.shortcuts import render

    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def page_not_found(request, exception=None):
    from django.shortcuts import render

    return render(request, "404.html", status=404)


class StaffView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """A staff page: anonymous visitors go to the login page; a signed-in user
    without the permission gets 403. The server checks; hiding a button is
    only a courtesy."""

    def handle_no_permission(self):
        if self.request.user.is_authenticated:
            raise PermissionDenied(_("Your role does not allow this."))
        return super().handle_no_permission()


def apply_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError beside the fields it names (the rest
    above the form)."""
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def save_with_version_check(form, save, *, conflict_message, rebase: bool = True):
    """Run ``save()`` (a version-checked service call) for a valid ``form``.

    Returns ``(saved, conflict)``: ``saved`` True when it went through. A
    ``VersionConflict`` is returned as ``conflict`` with ``conflict_message``
    above the form (a callable is given the conflict) and, with ``rebase``, the
    form's hidden version moved to the current one, so saving again applies the
    user's input on top of the other change. A ``ValidationError`` goes beside
    the fields it names (the form's own ``apply_service_errors`` if it has one)."""
    try:
        save()
    except VersionConflict as conflict:
        form.add_error(None, conflict_message(conflict) if callable(conflict_message) else conflict_message)
        if rebase:
            data = form.data.copy()
            data["version"] = conflict.current.version
            form.data = data
        return False, conflict
    except ValidationError as error:
        if hasattr(form, "apply_service_errors"):
            form.apply_service_errors(error)
        else:
            apply_service_errors(form, error)
        return False, None
    return True, None


class TrackedFormView(StaffView):
    """Create or edit a record through its service, with the version check."""

    model = None
    form_class = None
    template_name = "contacts/record_form.html"
    title = ""
    saved_message = _lazy("Saved.")
    create_service = None
    update_service = None
    instance_kwarg = None

    def get_object(self, pk):
        try:
            return self.model.objects.get(pk=pk)
        except self.model.DoesNotExist:
            raise Http404 from None

    def get(self, request, pk=None):
        instance = self.get_object(pk) if pk else None
        return render(request, self.template_name, self.context(self.form_class(instance=instance), instance))

    def post(self, request, pk=None):
        instance = self.get_object(pk) if pk else None
        form = self.form_class(request.POST, instance=instance)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
            try:
                if instance is None:
                    saved = type(self).create_service(by=request.user, **data)
                else:
                    saved = type(self).update_service(
                        by=request.user, expected_version=form.cleaned_data.get("version") or instance.version,
                        **{self.instance_kwarg: self.model.objects.get(pk=pk)}, **data)
            except VersionConflict:
                form.add_error(None, _("Someone else changed this record after you opened it. Nothing was saved; "
                                       "reload the page to see their changes."))
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, self.saved_message)
                return redirect(self.success_url(saved))
        return render(request, self.template_name, self.context(form, instance), status=400)

    def context(self, form, instance):
        return {"form": form, "object": instance, "title": self.title, "cancel_url": self.cancel_url(instance)}

    def cancel_url(self, instance):
        raise NotImplementedError

    def success_url(self, saved):
        raise NotImplementedError


def render_filtered_list(request, *, filterset, queryset, page_template: str, results_template: str,
                         name: str, per_page: int = 25, query=None, page=None, **extra):
    """A list page: ``queryset`` (already filtered by ``filterset``) a page at
    a time, the query string without ``page`` for the paging links, and only
    the results fragment when htmx asks for the ``results`` target (the filter
    form updates the list in place)."""
    from django.core.paginator import Paginator
    from django.utils.cache import patch_vary_headers

    if page is None:  # else a page the caller made (rcf.keyset: seek pagination, a capped count)
        page = Paginator(queryset, per_page).get_page(request.GET.get("page"))
    query = (query if query is not None else request.GET).copy()
    query.pop("page", None)
    query.pop("cursor", None)
    context = {"filter": filterset, "page": page, name: page.object_list, "count": page.paginator.count,
               "query": query.urlencode(), **extra}
    template = results_template if request.htmx and request.htmx.target == "results" else page_template
    response = render(request, template, context)
    # The same URL answers a fragment to htmx and the page otherwise: caches (and the back button) must
    # not hand one for the other.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response



def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; the file itself is a static one."""
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("favicon.ico"))

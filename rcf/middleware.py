"""Checks on the request itself, before any view, session or database sees it.

``RequestGuardMiddleware`` answers, with a plain page (JSON under /api/):

* **400** for a NUL character in the path, a query or form value or a cookie.
  PostgreSQL cannot store or compare text holding NUL ("A string literal
  cannot contain NUL"), so any lookup with one would be a 500, even for an
  anonymous caller (the session cookie is a lookup too).
* **413** for a body over the limit: ``RCF_API_MAX_BODY_BYTES`` under /api/
  (before authentication and throttling read anything), Django's
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` for forms. A multipart POST to a view
  that takes files declares its own ``upload_body_limit`` (documents:
  ``RCF_MAX_UPLOAD_MB`` plus the form's framing), page or API alike.
* **411** for a chunked body the server cannot measure. gunicorn de-chunks a
  ``Transfer-Encoding: chunked`` body but passes no ``CONTENT_LENGTH``, and
  Django then reads an empty body; when the server promises the stream ends
  (``wsgi.input_terminated``, as gunicorn does) the body is read here, up to
  the limit, and handed on with its length.
* **503** when the database cannot be reached (``process_exception``): no
  stack trace, nothing that needs the database to render, a ``Retry-After``;
  the next request connects afresh, so the site recovers by itself.
* **503** "took too long and was stopped" when PostgreSQL cancelled a
  statement at ``RCF_DB_STATEMENT_TIMEOUT_MS`` (``rcf/db_timeout.py``).
"""

from __future__ import annotations

import io
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.wsgi import LimitedStream
from django.db import InterfaceError, OperationalError
from django.http.multipartparser import MultiPartParserError
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from . import db_timeout, views

logger = logging.getLogger(__name__)

NUL = "\x00"


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self.refuse(request)
        if refusal is not None:
            return refusal
        return self.get_response(request)

    def process_exception(self, request, exception):
        # A statement cancelled at RCF_DB_STATEMENT_TIMEOUT_MS (rcf/db_timeout.py): the request's
        # transaction is already rolled back, the connection stays for the next request.
        if isinstance(exception, OperationalError) and db_timeout.is_query_cancelled(exception):
            return db_timeout.timed_out(request, exception)
        # OperationalError: the server is down, refuses connections or dropped one;
        # InterfaceError: the connection was already closed under us.
        if isinstance(exception, (OperationalError, InterfaceError)):
            return views.database_unavailable(request, exception)
        return None

    def refuse(self, request):
        is_api = views.is_api_request(request)
        body_limit = settings.RCF_API_MAX_BODY_BYTES if is_api else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        declared = request.META.get("CONTENT_LENGTH") or ""
        upload_limit = self.upload_body_limit(request)
        if upload_limit is not None:
            # A file upload (documents, page or API): its own, larger limit.
            body_limit = upload_limit
            if declared.isascii() and declared.isdigit() and int(declared) > body_limit:
                return self.upload_too_large(request, int(declared))
        elif is_api and declared.isascii() and declared.isdigit() and int(declared) > body_limit:
            return views.payload_too_large(request)
        if not declared and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            refusal = self.read_chunked_body(request, body_limit)
            if refusal is not None:
                if upload_limit is not None and refusal.status_code == 413:
                    return self.upload_too_large(request, None)
                return refusal
        if NUL in request.path_info:
            return self.nul_refused(request, _("the address (path)"))
        for where, values in (("query", request.GET), ("cookie", request.COOKIES)):
            name = self.name_holding_nul(values)
            if name is not None:
                return self.nul_refused(request, self.describe(where, name))
        try:
            # Reads a form body (urlencoded or multipart); any other type is left to the view.
            form = request.POST
        except RequestDataTooBig:
            return views.payload_too_large(request)
        except MultiPartParserError as exc:
            return views.bad_request_page(request, _("The form data could not be read: %(reason)s") % {
                "reason": exc})
        name = self.name_holding_nul(form)
        if name is not None:
            return self.nul_refused(request, self.describe("form", name))
        return None

    @staticmethod
    def upload_body_limit(request) -> int | None:
        """For a multipart POST to a view that takes file uploads (it declares
        ``upload_body_limit``, bytes or a function giving them; a viewset's
        ``create`` only), that limit; else None (the usual limits apply)."""
        if request.method != "POST" or not request.META.get("CONTENT_TYPE", "").lower().startswith(
                "multipart/form-data"):
            return None
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
        view = getattr(match.func, "view_class", None) or getattr(match.func, "cls", None)
        limit = getattr(view, "upload_body_limit", None)
        actions = getattr(match.func, "actions", None)
        if limit is None or (actions is not None and actions.get("post") != "create"):
            return None
        return int(limit() if callable(limit) else limit)

    @staticmethod
    def upload_too_large(request, size):
        mb = 1024 * 1024
        message = _("The upload is too large: a document can be at most %(limit)d MB.") % {
            "limit": settings.RCF_MAX_UPLOAD_MB}
        if size is not None:
            message += " " + _("This request is %(size).1f MB.") % {"size": size / mb}
        return views.plain_error(request, status=413, title=_("Request too large"), message=message,
                                 template="413.html")

    @staticmethod
    def read_chunked_body(request, limit):
        if not request.environ.get("wsgi.input_terminated"):
            return views.length_required(request)
        stream = request.environ["wsgi.input"]
        body = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(body) > limit:
            return views.payload_too_large(request)
        # Hand Django the body as if it had come with a Content-Length: the
        # stream it made from the (absent) header would read nothing.
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        request.META["CONTENT_LENGTH"] = str(len(body))
        return None

    @staticmethod
    def name_holding_nul(values) -> str | None:
        for name, items in values.lists() if hasattr(values, "lists") else ((k, [v]) for k, v in values.items()):
            if NUL in name or any(NUL in item for item in items if isinstance(item, str)):
                return name
        return None

    @staticmethod
    def describe(where, name) -> str:
        shown = name.replace(NUL, "\\0")
        if where == "query":
            return _('the query parameter "%(name)s"') % {"name": shown}
        if where == "cookie":
            return _('the cookie "%(name)s"') % {"name": shown}
        return _('the form field "%(name)s"') % {"name": shown}

    @staticmethod
    def nul_refused(request, where):
        return views.bad_request_page(request, _(
            "The request holds a NUL character (%%00) in %(where)s. No address, search or field of the tracker "
            "can contain one; remove it and try again.") % {"where": where})


class HtmxMessagesMiddleware:
    """After an htmx request, the messages a view queued (``messages.success``…) travel
    to the page as an ``HX-Trigger: {"rcfToast": …}`` event, which rcf.js shows as a
    toast (issue 12): every htmx save says what happened, and the message does not
    wait for the next full page. A redirect is left alone: the page it leads to shows
    them. An event the view triggered itself is kept."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or 300 <= response.status_code < 400 or "HX-Redirect" in response:
            return response
        from django.contrib import messages

        queued = [{"message": str(m), "level": m.level_tag or "info"} for m in messages.get_messages(request)]
        if queued:
            from django_htmx.http import trigger_client_event

            trigger_client_event(response, "rcfToast", {"value": queued})
        return response

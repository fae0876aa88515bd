"""The API policies ``REST_FRAMEWORK`` names: authentication, permission,
throttles, parser, pagination.

They live apart from ``rcf.api`` because DRF imports its default classes
while ``rest_framework.views`` is still loading (``APIView``'s class body
reads them): a module that imports DRF's views, as ``rcf.api`` must, would
import itself half-initialised. So nothing here may import
``rest_framework.views``, ``viewsets``, ``generics`` or ``decorators``,
directly or through ``rcf.api``.
"""

from __future__ import annotations

import io
import ipaddress
import logging
import math
import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from redis.exceptions import RedisError
from rest_framework import exceptions, pagination, parsers, permissions, status, throttling
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.settings import api_settings

from . import ratelimit
from .models import ApiToken

logger = logging.getLogger(__name__)

# --- Parsing -----------------------------------------------------------------------------


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


# Only where a string can start, end or escape: the nesting scan skips string contents whole.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")
# Text PostgreSQL cannot store (NUL) or UTF-8 cannot encode (a surrogate without its pair); in
# JSON both arrive only as \u escapes, so the body's bytes look harmless.
_UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")


class LimitedJSONParser(parsers.JSONParser):
    """JSON bodies up to ``RCF_API_MAX_BODY_BYTES`` (413 beyond). Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` does not apply here: DRF reads the stream
    itself. The limit holds also when no Content-Length is sent.

    Also refused, with 400: arrays and objects nested deeper than
    ``max_depth`` (Python's json module recurses once per level and fails
    with a RecursionError near 1,000 levels, a 500 from a 2 KB body; no
    record of the tracker is more than a few levels deep), and a NUL or an
    unpaired surrogate in any key or string, which no text column can hold."""

    max_depth = 32

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.RCF_API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(_("The request body is larger than %(limit)d bytes.") % {"limit": limit})
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge(_("The request body is larger than %(limit)d bytes.") % {"limit": limit})
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = body.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            message = _("The JSON body is not valid %(encoding)s text.") % {"encoding": encoding}
            raise exceptions.ParseError(message) from exc
        if self._too_deep(text):
            raise exceptions.ParseError(
                _("The JSON body is nested more than %(depth)d levels deep.") % {"depth": self.max_depth}
            )
        data = super().parse(io.BytesIO(body), media_type, parser_context)
        self._refuse_unstorable_text(data)
        return data

    def _too_deep(self, text: str) -> bool:
        depth = 0
        for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
            if bracket.group() in "[{":
                depth += 1
                if depth > self.max_depth:
                    return True
            else:
                depth -= 1
        return False

    @staticmethod
    def _refuse_unstorable_text(data) -> None:
        pending = [("", data)]
        while pending:
            where, value = pending.pop()
            if isinstance(value, dict):
                for key, item in value.items():
                    pending.append((f"{where}.{key}" if where else str(key), key))
                    pending.append((f"{where}.{key}" if where else str(key), item))
            elif isinstance(value, list):
                pending.extend((f"{where}[{index}]", item) for index, item in enumerate(value))
            elif isinstance(value, str) and _UNSTORABLE_CHARACTER.search(value):
                # The place is named with the character escaped: the answer must not carry it either.
                where = _UNSTORABLE_CHARACTER.sub(lambda match: f"\\u{ord(match.group()):04x}", where)
                raise exceptions.ParseError(
                    _("The JSON body holds a NUL character or an unpaired surrogate (\\u0000, \\ud800-\\udfff) "
                      "in %(where)s; no text field can store that character.") % {"where": where or _("the body")}
                )


# --- Authentication, permissions, throttles --------------------------------------------------


def client_address(request) -> str:
    """The client's address, for the API's throttles and the sign-in lockout alike:
    ``REMOTE_ADDR``, or with ``NUM_PROXIES`` (``TRUSTED_PROXY_COUNT``) trusted proxies in front,
    the address the outermost of them saw (from the right of ``X-Forwarded-For``). DRF's default
    (no ``NUM_PROXIES``) takes the whole header, which any client can write: it could pick a fresh
    address per request and never be throttled. A forwarded value that is not an address is
    ignored (the lockout stores it in an address column)."""
    remote = request.META.get("REMOTE_ADDR") or ""
    proxies = api_settings.NUM_PROXIES or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
    if proxies and addresses:
        try:
            return str(ipaddress.ip_address(addresses[-min(proxies, len(addresses))]))
        except ValueError:
            pass
    return remote


class BadTokenGuard:
    """Counts failed token attempts per client address; after
    ``RCF_API_BAD_TOKEN_RATE`` (e.g. ``30/hour``) every further token attempt
    from that address answers 429 until the window ends, whether its key is
    right or not - else a guesser would still learn which key works."""

    def __init__(self, request):
        self.key = f"throttle_bad_token_{client_address(request)}"
        # DRF's rate parser ("30/hour" -> 30, 3600) uses no state of its throttle.
        self.limit, self.duration = throttling.SimpleRateThrottle.parse_rate(None, settings.RCF_API_BAD_TOKEN_RATE)

    def refuse_if_blocked(self):
        try:
            failures, seconds_left = ratelimit.peek(self.key)
        except (RedisError, OSError) as exc:
            logger.warning("API bad-token throttle skipped: the cache is unreachable (%s).", exc)
            return
        if failures >= self.limit:
            raise exceptions.Throttled(
                wait=max(seconds_left, 1), detail=str(_("Too many invalid API tokens from this address."))
            )

    def count_failure(self):
        try:
            ratelimit.hit(self.key, duration=self.duration)
        except (RedisError, OSError) as exc:
            logger.warning("API bad-token throttle skipped: the cache is unreachable (%s).", exc)


class ApiTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>`` with an ``rcf.ApiToken``; ``request.auth``
    is the token, so permissions can see whether it is read-only. Wrong keys
    are throttled per client address (``BadTokenGuard``)."""

    model = ApiToken

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # not a token request: the next authentication class decides
        guard = BadTokenGuard(request)
        guard.refuse_if_blocked()
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            guard.count_failure()
            raise

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(key_digest=ApiToken.digest(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token


class RolePermission(permissions.BasePermission):
    """Signed in, allowed by the token, and holding the model permissions the
    view asks for (``view.get_required_permissions``)."""

    message = _("Your role does not allow this.")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method not in permissions.SAFE_METHODS and getattr(request.auth, "read_only", False):
            raise exceptions.PermissionDenied(_("This API token is read-only."))
        required = view.get_required_permissions(request) if hasattr(view, "get_required_permissions") else ()
        return user.has_perms(required)


class _AtomicRateThrottle:
    """DRF's rate throttles, counted atomically (``rcf.ratelimit``): a fixed
    window from the client's first request, so concurrent requests are
    limited exactly like sequential ones. The key is DRF's
    (``throttle_<scope>_<ident>``); anonymous clients are told apart by
    ``client_address``.

    The rate is read when the throttle is made, not when DRF was imported, so
    a change of ``REST_FRAMEWORK`` (an override in a test) applies.

    The counts live in the cache (Redis). If Redis is down the request is let
    through and the failure logged: rate limiting is a protection, and losing
    it for a while must not take the API down with it."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        try:
            hits, self.seconds_left = ratelimit.hit(key, duration=self.duration)
        except (RedisError, OSError) as exc:
            logger.warning("API throttle skipped: the cache is unreachable (%s).", exc)
            return True
        return hits <= self.num_requests

    def wait(self):
        return max(math.ceil(self.seconds_left), 1)

    def get_ident(self, request):
        return client_address(request)

    def get_rate(self):
        rates = api_settings.DEFAULT_THROTTLE_RATES or {}
        if self.scope not in rates:
            raise ImproperlyConfigured(f"No throttle rate set for scope {self.scope!r}")
        return rates[self.scope]


class UserRateThrottle(_AtomicRateThrottle, throttling.UserRateThrottle):
    pass


class AnonRateThrottle(_AtomicRateThrottle, throttling.AnonRateThrottle):
    pass


def link_header(**links) -> str:
    """An RFC 8288 ``Link`` header from ``rel=url`` pairs (the ones that are not None)."""
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if url)


class PageNumberPagination(pagination.PageNumberPagination):
    """Pages by number (``?page=N``, as ever) and by cursor: every ``next``
    and ``previous`` link carries ``cursor``, the sort keys of the row the
    page ends (or starts) at (rcf.keyset), so following ``next`` to page
    2,000 costs what page 1 does; ``?page=N`` is answered with OFFSET.
    ``count`` stays the exact number of records: the view's
    ``page_count(queryset)`` when it has one (a resource that can read it
    from summary rows, or count without the joins its representation
    adds), else ``COUNT(*)`` of the page's queryset."""

    page_size_query_param = "page_size"
    cursor_query_param = "cursor"

    @property
    def max_page_size(self):
        return settings.RCF_API_MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        from . import keyset

        self.keyset_page = None
        ordering = list(queryset.query.order_by or queryset.model._meta.ordering or [])
        if not ordering or not hasattr(queryset, "annotate"):
            return super().paginate_queryset(queryset, request, view)
        if not any(str(item).lstrip("-") in ("id", "pk") for item in ordering if isinstance(item, str)):
            ordering.append("pk")
        try:
            self.keys = keyset.keys_of(queryset, ordering)
        except TypeError:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        deferred = getattr(view, "deferred_pages", False)
        self.view = view
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor is not None:
            try:
                rows = self._deferred_by_cursor(queryset, cursor, page_size) if deferred else queryset
                self.keyset_page = keyset.paginate(rows, ordering, per_page=page_size, cursor=cursor,
                                                   count=self.count_of(queryset, view), strict=True)
            except keyset.BadCursor:
                raise exceptions.NotFound(_("Invalid cursor: follow the next and previous links as given.")) \
                    from None
            return list(self.keyset_page.object_list)
        page_number = request.query_params.get(self.page_query_param) or 1
        try:
            count = self.count_of(queryset, view)
            if deferred:
                self.keyset_page = self._deferred_by_number(queryset, ordering, page_number, page_size, count)
            else:
                self.keyset_page = keyset.paginate(queryset, ordering, per_page=page_size, page=page_number,
                                                   count=count, strict=True)
        except keyset.PageOutOfRange:
            raise exceptions.NotFound(self.invalid_page_message.format(
                page_number=page_number, message=_("That page contains no results"))) from None
        return list(self.keyset_page.object_list)

    # --- Deferred join (a view's ``deferred_pages = True``) ---
    # The page's ids come first, from a subquery that selects only the sort keys and the id (an
    # index-only scan where an index holds them); the records' columns are then read for those ids
    # alone. An OFFSET of 95,000 then skips index entries, not 95,000 rows read from the table and
    # formatted; a sort no index holds sorts narrow rows. One query still: the subquery is inside it.

    def _sorted(self, queryset, reverse=False):
        """The page's records in the sort, keys annotated, without the representation's columns (and the
        joins they add, which would keep the subquery off an index-only scan): the view's
        ``listed`` records when it keeps them."""
        from . import keyset

        records = getattr(self.view, "listed", None)
        records = queryset if records is None else records
        annotated = records.annotate(**{key.alias: key.expression for key in self.keys})
        return annotated, keyset.ordering(self.keys, reverse=reverse)

    def _deferred_by_cursor(self, queryset, cursor, page_size):
        from . import keyset

        annotated, _ordering = self._sorted(queryset)
        values, _number, direction = keyset.decode(annotated, self.keys, cursor)  # BadCursor: a 404
        reverse = direction == "before"
        annotated, ordering = self._sorted(queryset, reverse=reverse)
        ids = keyset.seek(annotated, self.keys, values, reverse=reverse).order_by(*ordering).values("pk")
        return queryset.filter(pk__in=ids[: page_size + 1])

    def _deferred_by_number(self, queryset, ordering, page_number, page_size, count):
        """``keyset.paginate``'s numbered page (the same rows, number and links), its rows read by id."""
        from . import keyset

        try:
            number = int(page_number)
            if number < 1:
                raise ValueError(number)
        except (TypeError, ValueError):
            raise keyset.PageOutOfRange(page_number) from None
        if number > max(1, math.ceil(count / page_size)):
            raise keyset.PageOutOfRange(page_number)
        start = (number - 1) * page_size
        annotated, sort = self._sorted(queryset)
        ids = annotated.order_by(*sort).values("pk")[start: start + page_size + 1]
        page = keyset.paginate(queryset.filter(pk__in=ids), ordering, per_page=page_size, count=count, strict=True)
        # Read as the first page of those rows (a next cursor: there are more); numbered here as
        # paginate numbers page N, so the links are the ones it gives.
        more = bool(page.next_cursor)
        page.number, page.next_cursor, page.previous_cursor, page.first_page_previous = number, "", "", False
        rows = page.object_list
        if not rows:
            page.first_page_previous = number > 1
            page.error = "past_end" if number > 1 else ""
            return page
        model = queryset.model
        if more:
            page.next_cursor = keyset.encode(self.keys, self._key_values(rows[-1]), number + 1, "after", model=model)
        if number > 2:
            page.previous_cursor = keyset.encode(self.keys, self._key_values(rows[0]), number - 1, "before",
                                                 model=model)
        elif number == 2:
            page.first_page_previous = True
        return page

    def _key_values(self, row) -> list:
        if isinstance(row, tuple):
            return list(row[-len(self.keys):])
        if isinstance(row, dict):
            return [row[key.alias] for key in self.keys]
        return [getattr(row, key.alias) for key in self.keys]

    @staticmethod
    def count_of(queryset, view) -> int:
        """The number of records in the list: ``view.page_count`` (the view knows cheaper ways: projects
        read it from the dashboard's summary rows), else a plain count. ``rcf`` cannot know another app's
        summaries; the hook keeps the dependency one way."""
        page_count = getattr(view, "page_count", None)
        return page_count(queryset) if page_count is not None else queryset.count()

    def _link(self, cursor):
        from rest_framework.utils.urls import remove_query_param, replace_query_param

        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        if not cursor:
            return remove_query_param(url, self.cursor_query_param)
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_next_link(self):
        if self.keyset_page is None:
            return super().get_next_link()
        return self._link(self.keyset_page.next_cursor) if self.keyset_page.has_next else None

    def get_previous_link(self):
        if self.keyset_page is None:
            return super().get_previous_link()
        return self._link(self.keyset_page.previous_cursor) if self.keyset_page.has_previous else None

    def get_paginated_response(self, data):
        if self.keyset_page is not None:
            from collections import OrderedDict

            from rest_framework.response import Response

            response = Response(OrderedDict([
                ("count", self.keyset_page.counted), ("next", self.get_next_link()),
                ("previous", self.get_previous_link()), ("results", data)]))
            header = link_header(next=self.get_next_link(), prev=self.get_previous_link())
            if header:
                response["Link"] = header
            return response
        return self._page_number_response(data)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        parameters.append({
            "name": self.cursor_query_param, "required": False, "in": "query",
            "description": str(_("Where the page starts: the opaque value of a next or previous link. Follow the "
                                 "links as given; a page number (page) still works, by offset.")),
            "schema": {"type": "string"},
        })
        return parameters

    def _page_number_response(self, data):
        # The pages are in the body (`next`, `previous`) and, for generic clients, in a Link header too.
        response = super().get_paginated_response(data)
        header = link_header(next=self.get_next_link(), prev=self.get_previous_link())
        if header:
            response["Link"] = header
        return response

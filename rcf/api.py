"""What every resource of the sync API (/api/v1/) shares.

* **Authentication**: ``ApiToken`` keys (``Authorization: Token …``) and the
  staff session (browsable API). Read-only tokens never write.
* **Permissions** mirror the staff roles: each action needs the model
  permission a page would (``user.has_perm``); the services refuse what is
  beyond a role (a lifecycle step, a priority) with ``PermissionDenied``.
* **Conflict detection**: every record carries a strong ETag, ``"<version>"``.
  PUT, PATCH and DELETE need ``If-Match``; the version it names goes to the
  service as ``expected_version``, where ``rcf.services.claim_version`` checks
  and claims it in one conditional UPDATE, so concurrent writers never lose
  an update (412 with the current record to the losers).
* **Incremental sync**: ``GET …/?since=<cursor>`` pages through every change
  and deletion in ``(sync_txid, id)`` order; see ``SyncFeed``.
* **Errors** are JSON: per-field messages (400), 409 for a duplicate
  ``external_id``, 410 for a cursor older than the tombstone retention or
  of an earlier sync epoch (a restore), 412,
  413, 428, 429 with ``Retry-After``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import time

import orjson
from django.conf import settings
from django.core import signing
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.decorators import classonlymethod
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from . import renderers as fast_json

# The suffix rcf.api_http appends to a strong ETag when it sends the body gzip-compressed: a strong
# validator names one byte sequence (RFC 9110 8.8.3), so the compressed body has a tag of its own;
# as an If-Match it names the same version as the plain tag.
from .api_http import GZIP_ETAG_SUFFIX
from .api_policies import PayloadTooLarge, link_header
from .models import PartnerCountry, PriorityArea
from .renderers import FastJSONRenderer, canonical
from .serializers import (
    BulkRepresentation,
    ConflictSerializer,
    ErrorSerializer,
    PartnerCountrySerializer,
    PriorityAreaSerializer,
    TombstoneSerializer,
    UTCDateTimeField,
)
from .services import VersionConflict
from .sync import sync_state
from .sync_json import sql_records

# --- Errors ----------------------------------------------------------------------------


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = _(
        'This request must carry an If-Match header with the record\'s ETag (e.g. If-Match: "3"), '
        "so that it cannot overwrite a change it has not seen."
    )
    default_code = "precondition_required"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("The record has changed since you read it.")
    default_code = "precondition_failed"


class CursorExpired(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = _(
        "This sync cursor is older than the tombstone retention: deletions since then may no longer be "
        "reported. Sync in full again (since= with an empty value) and replace the local copy."
    )
    default_code = "cursor_expired"


class CursorOfAnotherEpoch(CursorExpired):
    default_detail = _(
        "This sync cursor was issued before the database was restored or moved to another server: changes "
        "since then may be missing or undone. Sync in full again (since= with an empty value) and replace the "
        "local copy."
    )
    default_code = "cursor_epoch_changed"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the data; reload and retry.")
    default_code = "conflict"

    def __init__(self, detail=None, code=None, **extra):
        super().__init__(detail, code)
        self.extra = extra


def _is_unique_violation(exc: IntegrityError) -> bool:
    """By the driver's error code, not its message: PostgreSQL's SQLSTATE
    23505; SQLite's extended codes for UNIQUE and PRIMARY KEY."""
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) == "23505":
        return True
    return getattr(cause, "sqlite_errorcode", None) in (2067, 1555)


def exception_handler(exc, context):
    """DRF's handler, plus the services' exceptions: a Django
    ``ValidationError`` is a 400 with per-field messages, ``VersionConflict``
    a 412 with the record as it is now, an ``IntegrityError`` (a database
    constraint that a concurrent request won) a 409, Django's
    ``RequestDataTooBig`` (a body read as a form) the API's 413."""
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(_("The request body is larger than %(limit)d bytes.")
                              % {"limit": settings.RCF_API_MAX_BODY_BYTES})
    elif isinstance(exc, DjangoValidationError):
        detail = as_serializer_error(exc)
        if "__all__" in detail:
            detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop("__all__")
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, VersionConflict):
        view = context.get("view")
        if hasattr(view, "precondition_failed"):
            response = view.precondition_failed(exc.current)  # read before the rollback mark
            set_rollback()
            return response
        exc = PreconditionFailed(str(exc))
    elif isinstance(exc, IntegrityError):
        if _is_unique_violation(exc):
            exc = Conflict()  # a concurrent request took the same unique value first
        else:
            set_rollback()
            exc = exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [
                _("The change breaks a data rule of the tracker: %(reason)s") % {"reason": exc}]})
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, Conflict) and exc.extra:
        response.data = {**response.data, **exc.extra}
        if exc.extra.get("location"):
            response["Location"] = exc.extra["location"]
    return response


# --- ETags and If-Match --------------------------------------------------------------------

_ENTITY_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')
# What a record's tag holds: its version, then (as GET and the writes send it) a hash of its representation.
_RECORD_TAG = re.compile(r"(0|[1-9][0-9]{0,17})(?:\.[0-9a-f]{16})?")


def etag(version: int) -> str:
    """The bare version tag, ``"3"``: what If-Match has always taken (still accepted)."""
    return f'"{version}"'


def record_etag(data: dict, version: int | None = None) -> str:
    """A record's ETag, ``"<version>.<hash of its representation>"``.

    The version alone is not enough for a cache: the representation also
    holds related data that changes without the record's version moving (a
    user's name in ``recorded_by``, a priority area's code, an SCM cycle's
    year), and a tag that stayed the same would answer 304 with stale
    content. If-Match compares only the version part (``if_match_versions``):
    a write conflicts with another write, not with a renamed user."""
    version = data["version"] if version is None else version
    return f'"{version}.{hashlib.blake2b(canonical(data), digest_size=8).hexdigest()}"'


def _entity_tags(header: str, name: str = "If-Match") -> list[tuple[bool, str]]:
    """``(weak, opaque text without -gzip)`` for each tag of an If-Match / If-None-Match list;
    400 for a header that is not one."""
    tags, position = [], 0
    header = header.strip()
    while position < len(header):
        match = _ENTITY_TAG.match(header, position)
        if match is None or match.end() == position:
            raise exceptions.ValidationError(
                {name: [_('Give one or more entity tags from the ETag header, e.g. If-Match: "3".')]}
            )
        tags.append((bool(match.group(1)), match.group(2).removesuffix(GZIP_ETAG_SUFFIX)))
        position = match.end()
    return tags


def _tag_version(value: str) -> int | None:
    match = _RECORD_TAG.fullmatch(value) if value.isascii() else None
    return int(match.group(1)) if match else None


def if_match_versions(header: str) -> set[int]:
    """The versions a strong If-Match list names (weak tags never match).
    Raises 400 for a header that is not a list of entity tags.

    A tag names a version when it is the bare version (``"3"``) or a full
    record tag (``"3.<16 hex digits>"``), either with the ``-gzip`` suffix a
    compressed answer carries; only the version part is compared, and
    ``"03"`` or ``"+3"`` is not version 3."""
    return {version for weak, value in _entity_tags(header)
            if not weak and (version := _tag_version(value)) is not None}


class IfNoneMatchFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("If-None-Match names the record as it is now (or is *): nothing was changed.")
    default_code = "if_none_match"


def refuse_if_none_match(request, version: int | None) -> None:
    """RFC 9110 13.1.2: on a write, If-None-Match that matches the target's current tag (``*``:
    whatever it is, as long as it exists) answers 412 and nothing is done. ``version`` is the record's
    (a tag matches when its version part does, weakly), None for a collection (only ``*`` matches)."""
    header = request.headers.get("If-None-Match", "").strip()
    if not header:
        return
    if header == "*" or (version is not None and version in {
        _tag_version(value) for _weak, value in _entity_tags(header, "If-None-Match")
    }):
        raise IfNoneMatchFailed()


def content_etag(value, *, prefix: str = "") -> str:
    """A strong ETag from the JSON of ``value`` (lists and feed pages, which have no version)."""
    return f'"{prefix}{hashlib.blake2b(canonical(value), digest_size=16).hexdigest()}"'


# --- The sync feed -------------------------------------------------------------------------


class SyncFeed:
    """Every change and deletion of one model after a cursor, in
    ``(sync_txid, id)`` order, a page at a time.

    ``sync_txid`` is stamped by a trigger (``rcf.sync``): on PostgreSQL the
    id of the transaction that last wrote the row. Transactions commit in
    any order, so a row written by a slow transaction can become visible
    after rows with higher ids were handed out; a cursor that had moved past
    it would lose that change. So a page only holds rows below the *safe
    horizon*, the oldest transaction still running
    (``pg_snapshot_xmin(pg_current_snapshot())``): every transaction below
    it has finished, and no new one can get an id below it, so nothing can
    ever appear behind a cursor handed out. Rows above the horizon come in a
    later request. SQLite serialises writers and stamps a write counter in
    commit order, so there every committed row is already safe.

    The stamps are only comparable within one *sync epoch* (``rcf.sync``):
    a restore into another cluster or database starts a new one, and the
    horizon is the oldest running transaction plus the epoch's offset.

    The cursor is ``[epoch, sync_txid, id]`` signed with the issuing time
    (``django.core.signing``): clients cannot forge one; one older than
    ``RCF_SYNC_TOMBSTONE_RETENTION_DAYS`` or of another epoch answers 410
    Gone. A cursor of two values (issued before epochs existed) is of epoch 1.

    ``stream`` gives the same feed in one streamed NDJSON answer (a first sync).
    """

    ALLOWED_PARAMETERS = {"since", "page_size", "format"}

    def __init__(self, model, representation: BulkRepresentation):
        self.model = model
        self.representation = representation
        self.salt = f"rcf.sync-cursor.{model._meta.label_lower}"
        self.has_external_id = any(f.name == "external_id" for f in model._meta.concrete_fields)
        # On PostgreSQL the records' JSON is written by the page's own query (rcf.sync_json); rows
        # are then (JSON or None, id, sync_txid, deleted_at[, external_id]).
        self.sql = sql_records(representation)

    def encode(self, epoch: int, position: tuple[int, int]) -> str:
        return signing.dumps([int(epoch), int(position[0]), int(position[1])], salt=self.salt)

    def decode(self, token: str, epoch: int) -> tuple[int, int]:
        """The position a cursor names, in the current ``epoch``."""
        if token == "":
            return (0, 0)  # the beginning: a full sync (every stamped row has sync_txid > 0)
        max_age = settings.RCF_SYNC_TOMBSTONE_RETENTION_DAYS * 24 * 3600
        try:
            value = signing.loads(token, salt=self.salt, max_age=max_age)
        except signing.SignatureExpired:
            raise CursorExpired() from None
        except signing.BadSignature:
            value = None
        if isinstance(value, list) and len(value) == 2:
            value = [1, *value]  # issued before sync epochs existed: the first epoch
        if not (isinstance(value, list) and len(value) == 3 and all(type(v) is int for v in value)):
            raise exceptions.ValidationError(
                {"since": [_("Not a cursor of this resource. Send the cursor of a previous answer, or an empty "
                             "value to sync in full.")]}
            )
        if value[0] != epoch:
            raise CursorOfAnotherEpoch()
        return value[1], value[2]

    def _page(self, after: tuple[int, int], limit: int, horizon_offset: int | None) -> list[tuple]:
        # A row-value comparison, so the database walks the (sync_txid, id)
        # index from the cursor on; the equivalent OR of two conditions
        # rescans every row sharing the cursor's sync_txid (a bulk write
        # stamps thousands with one). The table name is our own, quoted; the
        # cursor values are bound parameters.
        table = connection.ops.quote_name(self.model._meta.db_table)
        after_cursor = RawSQL(  # noqa: S611
            f"({table}.sync_txid, {table}.id) > (%s, %s)", after, output_field=BooleanField()
        )
        queryset = self.model.all_objects.filter(after_cursor)  # deleted rows too: they are the tombstones
        if horizon_offset is not None:
            queryset = queryset.filter(
                sync_txid__lt=RawSQL("pg_snapshot_xmin(pg_current_snapshot())::text::bigint + %s", [horizon_offset])
            )
        extra = ["sync_txid", "deleted_at"] + (["external_id"] if self.has_external_id else [])
        if self.sql is not None:
            return self.sql.rows(queryset.order_by("sync_txid", "id"), tuple(extra), limit + 1)
        rows = self.representation.values(queryset.order_by("sync_txid", "id"), *extra)
        return list(rows[: limit + 1])

    def _refuse_filters(self, request, allowed) -> None:
        unexpected = sorted(set(request.query_params) - allowed)
        if unexpected:
            raise exceptions.ValidationError(
                {name: [_("Not allowed with since=: the sync feed is never filtered (a filtered feed could not "
                          "report records leaving the filter).")] for name in unexpected}
            )

    def _results(self, rows: list[tuple]) -> list[dict]:
        """The representations of a page's rows: live records in full, deleted ones as tombstones."""
        width = self.representation.width
        deleted_at = width + 1
        id_at = self.representation.columns.index("id")
        live = iter(self.representation.represent([row for row in rows if row[deleted_at] is None]))
        stamp = UTCDateTimeField().to_representation
        results = []
        for row in rows:
            if row[deleted_at] is None:
                results.append(next(live))
            else:
                results.append({
                    "id": row[id_at],
                    # Null when absent, on every resource (the column stores a missing one as "").
                    "external_id": (row[width + 2] or None) if self.has_external_id else None,
                    "deleted": True,
                    "deleted_at": stamp(row[deleted_at]),
                })
        return results

    def _encoded(self, rows: list[tuple]) -> list[bytes]:
        """The JSON of each row's record when PostgreSQL wrote it (``self.sql``): its text for a live
        record, the tombstone for a deleted one. Line separators are left to the caller to escape."""
        stamp = UTCDateTimeField().to_representation
        return [record.encode() if record is not None else fast_json.dumps({
            "id": pk,
            "external_id": (extra[2] or None) if self.has_external_id else None,
            "deleted": True,
            "deleted_at": stamp(extra[1]),
        }) for record, pk, *extra in rows]

    def _position(self, rows: list[tuple], after: tuple[int, int]) -> tuple[int, int]:
        """Where a page that holds ``rows`` ends: the cursor's position after it."""
        if not rows:
            return after
        if self.sql is not None:
            return rows[-1][2], rows[-1][1]
        return rows[-1][self.representation.width], rows[-1][self.representation.columns.index("id")]

    def response(self, request) -> HttpResponse | Response:
        """A page of the feed. In JSON the body is written here (the records encoded once, for the
        body and the ETag alike: what ``FastJSONRenderer`` would write); the browsable API renders it."""
        self._refuse_filters(request, self.ALLOWED_PARAMETERS)
        state = sync_state(connection)  # in this request's snapshot, like the page
        after = self.decode(request.query_params["since"], state.epoch)
        limit = settings.RCF_SYNC_PAGE_SIZE
        size = request.query_params.get("page_size", "")
        if size.isascii() and size.isdigit():  # "²" is a digit to str.isdigit(), not to int()
            limit = max(1, min(int(size), settings.RCF_API_MAX_PAGE_SIZE))
        rows = self._page(after, limit, state.horizon_offset)
        more = len(rows) > limit
        rows = rows[:limit]
        position = self._position(rows, after)
        cursor = self.encode(state.epoch, position)
        next_url = replace_query_param(request.build_absolute_uri(), "since", cursor) if more else None
        # The records are encoded once, for the body and for the ETag alike.
        if self.sql is not None:  # the same bytes as dumps() of the records (rcf.sync_json)
            records = fast_json.escape_line_separators(b"[" + b",".join(self._encoded(rows)) + b"]")
            results = None
        else:
            results = self._results(rows)
            records = fast_json.dumps(results)
        if isinstance(getattr(request, "accepted_renderer", None), JSONRenderer):
            body = b"".join((b'{"results":', records, b',"next":', fast_json.dumps(next_url),
                             b',"cursor":', fast_json.dumps(cursor), b"}"))
            response = HttpResponse(body, content_type=JSONRenderer.media_type)  # what the renderer would write
        else:  # the browsable API
            results = orjson.loads(records) if results is None else results
            response = Response({"results": results, "next": next_url, "cursor": cursor})
        # The cursor carries the time it was signed, so a hash of the body would change every
        # second; the page's ETag names what it holds instead: the epoch, where it starts and ends,
        # its size and its records. The same page asked again answers 304 (rcf.api_http)...
        # ...but not for ever: a 304 leaves the client with the cursor it sent, and a cursor expires
        # (410) once older than the retention, counted from its signing. So the tag also names the
        # half-retention period the page's own cursor is issued in: within half the retention of the
        # last 200 the tag changes, the client gets a 200 and with it a cursor signed now.
        renewal = int(time.time() // (settings.RCF_SYNC_TOMBSTONE_RETENTION_DAYS * 24 * 3600 / 2))
        page = canonical([state.epoch, list(after), list(position), limit, more, renewal])
        response["ETag"] = f'"feed-{hashlib.blake2b(page + records, digest_size=16).hexdigest()}"'
        if next_url:
            response["Link"] = link_header(next=next_url)  # RFC 8288, as the numbered pages
        return response

    # The export: the whole feed after a cursor in one streamed answer (NDJSON).

    EXPORT_PARAMETERS = {"since", "format"}

    def stream(self, request) -> StreamingHttpResponse:
        """Every change after ``since`` (empty: every record, a first sync), one JSON record a line
        (tombstones as in the feed), then a last line ``{"cursor": "…"}`` to continue the incremental
        feed from: the same records, in the same order, as following the pages would give, and the
        cursor the last page would hand out, so nothing is missed or repeated in between.

        Memory stays bounded: the rows are read in keyset batches of ``RCF_SYNC_EXPORT_BATCH`` along the
        ``(sync_txid, id)`` index and each batch is sent before the next is read. On PostgreSQL every
        batch reads the one REPEATABLE READ snapshot the stream opens (the request's own ends when the
        view returns, before the first byte is sent), so the export is a consistent picture below one
        safe horizon, however long the client takes to read it...

        ...but not for ever: the snapshot holds back VACUUM and the stream a web thread and a connection. A
        stream still going after ``RCF_SYNC_EXPORT_MAX_SECONDS`` (checked between batches) ends with a last
        line ``{"detail": "…", "cursor": "…"}``: the cursor of the last record sent, to continue from (the
        feed, or another export). A connection PostgreSQL ended meanwhile (``idle_in_transaction_session_timeout``,
        a client that stopped reading, rcf.db_timeout) ends the same way."""
        self._refuse_filters(request, self.EXPORT_PARAMETERS)
        epoch = sync_state(connection).epoch
        after = self.decode(request.query_params["since"], epoch)  # 400 / 410 before anything streams
        response = StreamingHttpResponse(self._lines(after, epoch), content_type=NDJSON)
        response["X-Accel-Buffering"] = "no"  # a proxy passes the lines on as they come
        return response

    def _lines(self, after: tuple[int, int], epoch: int):
        from django.db import DatabaseError

        batch = max(1, settings.RCF_SYNC_EXPORT_BATCH)
        deadline = time.monotonic() + settings.RCF_SYNC_EXPORT_MAX_SECONDS
        position = after
        stopped = None
        try:
            with repeatable_read_only(), transaction.atomic():
                state = sync_state(connection)
                if state.epoch != epoch:  # restored between the request's check and now: nothing is safe
                    yield fast_json.dumps({"detail": str(CursorOfAnotherEpoch.default_detail),
                                           "cursor": None}) + b"\n"
                    return
                while True:
                    rows = self._page(position, batch, state.horizon_offset)
                    more = len(rows) > batch
                    rows = rows[:batch]
                    if rows and self.sql is not None:
                        yield fast_json.escape_line_separators(b"".join(line + b"\n" for line in self._encoded(rows)))
                    elif rows:
                        yield b"".join(fast_json.dumps(record) + b"\n" for record in self._results(rows))
                    position = self._position(rows, position)
                    if not more:
                        break
                    if time.monotonic() > deadline:
                        stopped = _("The export took longer than the %(seconds)s s allowed and was ended. Continue "
                                    "from this cursor (the feed, or another export).") % {
                            "seconds": settings.RCF_SYNC_EXPORT_MAX_SECONDS}
                        break
        except DatabaseError:
            if position == after:
                raise  # nothing sent: the request's error handling answers
            connection.close()  # the server ended it (a client that stopped reading): Django opens another
            stopped = _("The database ended this export (it waited too long for the client to read). Continue "
                        "from this cursor (the feed, or another export).")
        line = {"cursor": self.encode(epoch, position)}
        if stopped:
            line = {"detail": str(stopped), **line}
        yield fast_json.dumps(line) + b"\n"


NDJSON = "application/x-ndjson"


class NDJSONRenderer(BaseRenderer):
    """``?format=ndjson`` or ``Accept: application/x-ndjson`` on a resource's list with ``since``: the
    sync feed's streamed export (``SyncFeed.stream``). The view streams the records itself; an error
    answers in JSON (``TrackedRecordViewSet.finalize_response``), so this only renders what else comes."""

    media_type = NDJSON
    format = "ndjson"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return b"" if data is None else fast_json.dumps(data) + b"\n"


# --- Views ---------------------------------------------------------------------------------


class ConsistentReadsMixin:
    """Each API request runs in one transaction the view opens itself (not
    ATOMIC_REQUESTS'), so that on PostgreSQL a read can be REPEATABLE READ:
    a page's rows and its many-to-many values then come from one snapshot,
    never half of a concurrent change. Writes stay READ COMMITTED, where
    ``claim_version``'s conditional UPDATE waits for a concurrent writer and
    then sees its version (a lost update is refused, not retried)."""

    @classonlymethod
    def as_view(cls, *args, **kwargs):
        return transaction.non_atomic_requests(super().as_view(*args, **kwargs))

    def dispatch(self, request, *args, **kwargs):
        if request.method in permissions.SAFE_METHODS:
            with repeatable_read_only(), transaction.atomic():
                return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            return super().dispatch(request, *args, **kwargs)


@contextlib.contextmanager
def repeatable_read_only():
    """On PostgreSQL, outside any transaction: the transaction opened inside this block is
    REPEATABLE READ, READ ONLY. The driver's own ``BEGIN`` says so (psycopg's ``isolation_level`` and
    ``read_only``), so it costs no round trip of its own (a ``SET TRANSACTION`` would: one more wait
    for a busy database on every GET). Restored afterwards. Inside a transaction (a test's, or an
    outer atomic block) it changes nothing: that transaction's snapshot is the one read."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    import psycopg

    connection.ensure_connection()
    raw = connection.connection
    before = (raw.isolation_level, raw.read_only)
    raw.isolation_level, raw.read_only = psycopg.IsolationLevel.REPEATABLE_READ, True
    try:
        yield
    finally:
        if not raw.closed:
            with contextlib.suppress(psycopg.Error):  # a broken connection is Django's to replace
                raw.isolation_level, raw.read_only = before


class ModelPermissionsMixin:
    """``get_required_permissions`` from the action: view, add, change or
    delete on ``permission_model`` (default: the serializer's model)."""

    permission_model = None
    action_permissions = {
        "list": "view",
        "retrieve": "view",
        "create": "add",
        "update": "change",
        "partial_update": "change",
        "destroy": "delete",
    }

    def get_required_permissions(self, request):
        model = self.permission_model or self.serializer_class.Meta.model
        default = "view" if request.method in permissions.SAFE_METHODS else "change"
        verb = self.action_permissions.get(getattr(self, "action", None), default)
        return [f"{model._meta.app_label}.{verb}_{model._meta.model_name}"]


class ListFiltersMixin:
    """Query filters narrow lists only. DRF would apply them to a record's
    own URL too (``get_object``), where ``?status=ready`` would turn a
    record into a 404 and a list-only filter (the SCM year) into an error."""

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset) if getattr(self, "action", None) == "list" else queryset


class TrackedRecordViewSet(ConsistentReadsMixin, ModelPermissionsMixin, ListFiltersMixin, viewsets.GenericViewSet):
    """CRUD, soft delete, restore and the sync feed for a ``TrackedModel``,
    every write through the app's services (the ``*_record`` hooks).

    Subclasses set ``serializer_class``, ``filterset_class`` and the hooks.
    """

    filter_backends = [filters.DjangoFilterBackend]
    _representations: dict = {}

    # --- hooks: call the app's services ---
    def create_record(self, data):
        raise NotImplementedError

    def update_record(self, instance, expected_version, data):
        raise NotImplementedError

    def delete_record(self, instance, expected_version):
        raise NotImplementedError

    def restore_record(self, instance):
        raise NotImplementedError

    def check_restore_permission(self, user):
        """Records without a restore permission of their own: as in the admin
        (``rcf.admin.TrackedModelAdmin``), a staff user who may change them."""
        model = self.model
        if not (user.is_staff and user.has_perm(f"{model._meta.app_label}.change_{model._meta.model_name}")):
            raise exceptions.PermissionDenied(_("Only administrators can restore deleted records."))

    # --- plumbing ---
    @property
    def model(self):
        return self.serializer_class.Meta.model

    @property
    def representation(self) -> BulkRepresentation:
        key = self.serializer_class
        if key not in self._representations:
            self._representations[key] = BulkRepresentation(self.serializer_class)
        return self._representations[key]

    def get_queryset(self):
        if getattr(self, "action", None) == "restore":
            return self.model.all_objects.filter(deleted_at__isnull=False)
        return self.model.objects.all()

    def detail_url(self, pk) -> str:
        return self.request.build_absolute_uri(reverse(f"api:{self.basename}-detail", args=[pk]))

    def record_response(self, pk, *, status_code=status.HTTP_200_OK, headers=None) -> Response:
        data = self.representation.one(pk)
        # No Last-Modified: the record's updated_at does not cover its representation (a renamed user in
        # recorded_by, a priority area's new code change the answer, not updated_at), and an HTTP date
        # has whole seconds, so two writes in one second would share it and If-Modified-Since would
        # answer 304 for the newer one. The ETag alone validates (RFC 9110 8.8.1 does not ask for both).
        return Response(data, status=status_code, headers={"ETag": record_etag(data), **(headers or {})})

    def precondition_failed(self, current) -> Response:
        if current.deleted_at is not None:
            return Response(
                {"detail": _("The record has been deleted since you read it.")},
                status=status.HTTP_412_PRECONDITION_FAILED,
            )
        data = self.representation.one(current.pk)
        return Response(
            {"detail": _("The record has changed since you read it: here it is as it is now. Apply your change "
                         "to this version and send it with its ETag."), "current": data},
            status=status.HTTP_412_PRECONDITION_FAILED,
            headers={"ETag": record_etag(data)},
        )

    def expected_version(self, request, instance, *, required: bool = True) -> int | None:
        """The version If-Match names, if it is the current one; else 412
        (the atomic check is the service's, with this version). An
        If-None-Match that names the current version (or ``*``) is a 412 too."""
        refuse_if_none_match(request, instance.version)
        header = request.headers.get("If-Match")
        if header is None or header.strip() == "":
            if required:
                raise PreconditionRequired()
            return None
        if header.strip() == "*":
            if not required:
                return None  # "whatever version there is": no condition, as with no header
            raise PreconditionRequired(
                _('If-Match: * is not enough here: name the version you are replacing, e.g. If-Match: "3".')
            )
        if instance.version not in if_match_versions(header):
            raise VersionConflict(instance)
        return instance.version

    # Kept by a PUT that leaves it out: the client's own key for the record.
    # Clearing it by omission would make the client's next idempotent create
    # a duplicate.
    kept_on_replace = ("external_id",)

    def replacement_data(self, serializer) -> dict:
        """PUT replaces the record: a writable field left out takes the value
        it would have on create (its default, empty, or no items), except
        those in ``kept_on_replace``."""
        data = dict(serializer.validated_data)
        for name, field in serializer.fields.items():
            if field.read_only or name in data or name in self.kept_on_replace:
                continue
            if isinstance(field, serializers.ManyRelatedField):
                data[field.source] = []
            else:
                data[field.source] = self.model._meta.get_field(field.source).get_default()
        return data

    # --- actions ---
    def get_renderers(self):
        renderers = super().get_renderers()
        if getattr(self, "swagger_fake_view", False):
            # The schema documents the export on the list alone (``tracked_schema``), not on every answer.
            return [renderer for renderer in renderers if not isinstance(renderer, NDJSONRenderer)]
        return [*renderers, NDJSONRenderer()]

    def finalize_response(self, request, response, *args, **kwargs):
        # Only the export streams NDJSON; anything else asked for it (an error, a record) answers JSON.
        if not getattr(response, "streaming", False) and isinstance(
            getattr(request, "accepted_renderer", None), NDJSONRenderer
        ):
            request.accepted_renderer, request.accepted_media_type = FastJSONRenderer(), FastJSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        exporting = isinstance(getattr(request, "accepted_renderer", None), NDJSONRenderer)
        if exporting and "since" not in request.query_params:
            raise exceptions.ValidationError({"format": [_(
                "NDJSON is the sync feed's export: add since= (empty for every record, or a cursor).")]})
        if exporting:
            return SyncFeed(self.model, self.representation).stream(request)
        if "since" in request.query_params:
            return SyncFeed(self.model, self.representation).response(request)
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(self.representation.values(queryset))
        return self.get_paginated_response(self.representation.represent(page))

    def retrieve(self, request, *args, **kwargs):
        return self.record_response(self.get_object().pk)

    def create(self, request, *args, **kwargs):
        refuse_if_none_match(request, None)  # If-None-Match: * - the collection exists
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        external_id = data.get("external_id") or ""
        if external_id:
            self._refuse_duplicate(external_id)
        try:
            with transaction.atomic():
                instance = self.create_record(data)
        except (IntegrityError, DjangoValidationError) as exc:
            # A concurrent create of the same external_id won the race (the
            # unique constraint, or the service's own check): same answer.
            if external_id and (isinstance(exc, IntegrityError) or "external_id" in getattr(exc, "error_dict", {})):
                self._refuse_duplicate(external_id)
            raise
        return self.record_response(
            instance.pk, status_code=status.HTTP_201_CREATED, headers={"Location": self.detail_url(instance.pk)}
        )

    def _refuse_duplicate(self, external_id: str) -> None:
        existing = self.model.all_objects.filter(external_id=external_id).values_list("pk", "deleted_at").first()
        if existing is not None:
            pk, deleted_at = existing
            message = (
                _("A deleted record has this external_id: ask an administrator to restore it.")
                if deleted_at else _("A record with this external_id already exists.")
            )
            raise Conflict(message, id=pk, location=self.detail_url(pk), deleted=deleted_at is not None)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        expected = self.expected_version(request, instance)
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        if partial and not serializer.validated_data:
            raise exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [_("Give at least one field.")]})
        data = dict(serializer.validated_data) if partial else self.replacement_data(serializer)
        instance = self.update_record(instance, expected, data)
        return self.record_response(instance.pk)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        self.delete_record(instance, self.expected_version(request, instance))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def restore(self, request, *args, **kwargs):
        """Bring back a soft-deleted record (administrators)."""
        self.check_restore_permission(request.user)
        instance = self.get_object()
        self.expected_version(request, instance, required=False)
        # The service claims the version just read, atomically: a concurrent
        # change in between is a 412, not a silent overwrite.
        instance = self.restore_record(instance)
        return self.record_response(instance.pk)


# --- The schema: every status code an operation can answer ------------------------------------

_ERRORS = {
    400: (OpenApiTypes.OBJECT, _("Invalid input: an object naming each field in error with its messages "
                                  "(`non_field_errors` for the record as a whole), or `detail`.")),
    401: (ErrorSerializer, _("No credentials, or an invalid token.")),
    403: (ErrorSerializer, _("The role or a read-only token does not allow this.")),
    404: (ErrorSerializer, _("No such record (deleted records are only in the sync feed).")),
    409: (ConflictSerializer, _("A record with this external_id already exists: `id` and `location` name it.")),
    410: (ErrorSerializer, _("The cursor is older than the tombstone retention, or of an earlier sync epoch (the "
                             "database was restored since): sync in full again.")),
    413: (ErrorSerializer, _("The request body is too large.")),
    415: (ErrorSerializer, _("The body is not JSON.")),
    428: (ErrorSerializer, _("If-Match is missing.")),
    429: (ErrorSerializer, _("Too many requests: wait the number of seconds in Retry-After.")),
}


def error_responses(*codes: int) -> dict:
    return {code: OpenApiResponse(_ERRORS[code][0], description=_ERRORS[code][1]) for code in codes}


IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, required=True,
    description=_('The ETag of the record as you read it, e.g. "3". A stale one answers 412.'),
    examples=[OpenApiExample("Version 1", value='"1"')],
)
IF_MATCH_OPTIONAL = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, required=False,
    description=_("Optional: the ETag of the record as you read it; a stale one answers 412."),
)
ETAG_HEADER = OpenApiParameter(
    "ETag", str, OpenApiParameter.HEADER, response=[200, 201],
    description=_("The record's version and a hash of its content, quoted; If-Match takes it (or the version).")
)
LOCATION_HEADER = OpenApiParameter(
    "Location", str, OpenApiParameter.HEADER, response=[201, 409], description=_("The record's URL.")
)
SINCE = OpenApiParameter(
    "since", str, OpenApiParameter.QUERY, required=False,
    description=_(
        "Incremental sync. Present (even empty) switches the list to the sync feed: every record created, "
        "changed or deleted after the cursor, in change order, deleted ones as tombstones. Empty: from the "
        "beginning (a full sync). Follow `next` to the last page, keep its `cursor` and send it next time. "
        "No other filter applies; page_size does. With format=ndjson (or Accept: application/x-ndjson) the "
        "whole feed after the cursor streams in one answer, a record a line, the cursor on the last line."
    ),
)


@functools.cache
def precondition_failed_response(serializer_class):
    name = serializer_class.__name__.removesuffix("Serializer")
    return OpenApiResponse(
        inline_serializer(f"{name}PreconditionFailed", {"detail": serializers.CharField(),
                                                        "current": serializer_class(required=False)}),
        description=_("The record changed since the If-Match version: `current` is the record as it is now."),
    )


@functools.cache
def list_or_feed_response(serializer_class):
    """A list page, or (with ``since``) a page of the sync feed."""
    name = serializer_class.__name__.removesuffix("Serializer")
    url = serializers.URLField(allow_null=True)
    paginated = inline_serializer(
        f"Paginated{name}List",
        {"count": serializers.IntegerField(), "next": url, "previous": serializers.URLField(allow_null=True),
         "results": serializer_class(many=True)},
    )
    feed = inline_serializer(
        f"{name}SyncPage",
        {
            "results": PolymorphicProxySerializer(
                f"{name}Change", serializers=[serializer_class, TombstoneSerializer], resource_type_field_name=None,
                many=True,
            ),
            "next": serializers.URLField(allow_null=True, help_text=_("The next page, or null on the last.")),
            "cursor": serializers.CharField(help_text=_("Send it as since= next time (from the last page).")),
        },
    )
    return PolymorphicProxySerializer(
        f"{name}ListOrSyncPage", serializers=[paginated, feed], resource_type_field_name=None, many=False
    )


RECORD_ID = OpenApiParameter(
    "id", int, OpenApiParameter.PATH, description=_("The record's id."),
    examples=[OpenApiExample("A record", value=1)],
)


def _body_examples(example: dict | None) -> list:
    return [OpenApiExample("Example", value=example, request_only=True)] if example else []


def tracked_schema(serializer_class, *, idempotent_create: bool = False, create_example: dict | None = None,
                   update_example: dict | None = None) -> dict:
    """``extend_schema_view`` arguments for a ``TrackedRecordViewSet``. The
    examples show in the docs, and schemathesis sends them too (valid
    requests, beside the generated ones)."""
    read = error_responses(401, 403, 429)
    write = error_responses(400, 401, 403, 413, 415, 429)
    stale = {412: precondition_failed_response(serializer_class), **error_responses(428)}
    creates = error_responses(409) if idempotent_create else {}
    return {
        "list": extend_schema(
            parameters=[SINCE],
            responses={200: list_or_feed_response(serializer_class), **error_responses(400, 404, 410), **read},
        ),
        "retrieve": extend_schema(parameters=[RECORD_ID, ETAG_HEADER],
                                  responses={200: serializer_class, **read, **error_responses(404)}),
        "create": extend_schema(
            parameters=[ETAG_HEADER, LOCATION_HEADER],
            responses={201: serializer_class, **write, **creates},
            examples=_body_examples(create_example),
            description=_("Create a record. With an external_id that exists already: 409 naming the record, "
                          "never a duplicate, so a client can retry safely.") if idempotent_create else None,
        ),
        "update": extend_schema(
            parameters=[RECORD_ID, IF_MATCH, ETAG_HEADER],
            responses={200: serializer_class, **write, **error_responses(404), **stale},
            examples=_body_examples(create_example),
            description=_("Replace the record: writable fields left out take the value they would have on "
                          "create (external_id, if left out, is kept)."),
        ),
        "partial_update": extend_schema(
            parameters=[RECORD_ID, IF_MATCH, ETAG_HEADER],
            responses={200: serializer_class, **write, **error_responses(404), **stale},
            examples=_body_examples(update_example),
        ),
        "destroy": extend_schema(
            parameters=[RECORD_ID, IF_MATCH],
            responses={204: None, **error_responses(400, 401, 403, 404, 429), **stale},
            description=_("Soft delete: the record leaves lists and appears as a tombstone in the sync feed."),
        ),
        "restore": extend_schema(
            request=None,
            parameters=[RECORD_ID, IF_MATCH_OPTIONAL, ETAG_HEADER],
            responses={200: serializer_class, **error_responses(400, 401, 403, 404, 413, 415, 429),
                       412: precondition_failed_response(serializer_class)},
        ),
    }


def refuse_unknown_properties(result, generator, request, public):
    """Postprocessing hook: request bodies say ``additionalProperties: false``,
    which is what the API enforces (an unknown key is a 400)."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and schema.get("type") == "object" and "properties" in schema:
            schema["additionalProperties"] = False
    return result


def _plain_blank_strings(node) -> None:
    """A string that may be empty is one plain ``string``: drf-spectacular writes an URL or e-mail
    field that allows blank as ``oneOf: [{format: uri}, {maxLength: 0}]``, which strict validators
    reject when both branches match (a validator that does not check the format sees "" match
    twice), and which generators turn into a union type. The format's rule stays in the
    description."""
    if isinstance(node, list):
        for item in node:
            _plain_blank_strings(item)
        return
    if not isinstance(node, dict):
        return
    choices = node.get("oneOf")
    if (isinstance(choices, list) and len(choices) == 2 and choices[1] == {"type": "string", "maxLength": 0}
            and choices[0].get("type") == "string"):
        inner = node.pop("oneOf")[0]
        kind = {"uri": _("A URL, or empty."), "email": _("An e-mail address, or empty.")}.get(inner.get("format"))
        node["type"] = "string"
        for key in ("maxLength", "pattern"):
            if key in inner and not (key == "pattern" and inner.get("format")):
                node[key] = inner[key]
        if kind and "description" not in node:
            node["description"] = str(kind)
        if "pattern" in node:  # the pattern must admit the empty string too
            node["pattern"] = f"^$|{node['pattern']}"
    for value in node.values():
        _plain_blank_strings(value)


_RETRY_AFTER = {"schema": {"type": "integer", "minimum": 1}, "required": True,
                "description": _("Seconds to wait before the next request.")}
_GET_HEADERS = {
    "ETag": {"schema": {"type": "string"}, "required": True,
             "description": _('A record\'s version and a hash of its content, "3.5f0c9a1e2b7d4c6a"; else a tag '
                              "of this answer's content. Send it in If-None-Match to hear 304 when nothing "
                              "changed, and a record's in If-Match (only its version part is compared). A "
                              "gzip-compressed answer's tag ends in -gzip; both forms name the same content.")},
    "Link": {"schema": {"type": "string"},
             "description": _('RFC 8288 links to the next and previous pages (rel="next", rel="prev").')},
}
_CONDITIONAL_PARAMETERS = [
    {"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
     "description": _("An ETag from an earlier answer: 304 with no body if the answer would be the same.")},
]
_IF_NONE_MATCH_ON_WRITE = {
    "in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
    "description": _("Optional: 412 and no change if it names the record as it is now, or is * (RFC 9110)."),
}


def http_contract(result, generator, request, public):
    """Postprocessing hook: what the schema says, as strict validators and generated clients read it
    (issue 13).

    * A string that may be empty is a plain ``string`` (``_plain_blank_strings``).
    * A numeric query filter is an ``integer``: every one of them is an id or a year
      (django-filter's ``NumberFilter`` alone is documented as ``number``).
    * 429 answers carry ``Retry-After``; answers to a GET carry an ``ETag`` (and a page its ``Link``),
      honour ``If-None-Match`` and may be a 304 (``rcf.api_http``); no API answer carries
      ``Last-Modified`` (``TrackedRecordViewSet.record_response`` says why).
    * A write honours ``If-None-Match`` (``refuse_if_none_match``): it may answer 412.
    """
    _plain_blank_strings([result.get("components", {}), result.get("paths", {})])
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query":
                    for typed in (schema, schema.get("items", {})):
                        if typed.get("type") == "number":
                            typed["type"] = "integer"
            responses = operation["responses"]
            if "429" in responses:
                responses["429"].setdefault("headers", {})["Retry-After"] = dict(_RETRY_AFTER)
            if method in ("post", "put", "patch", "delete") and ("401" in responses or "403" in responses):
                responses.setdefault("412", {
                    "description": _("If-None-Match names the record as it is now (or is *): nothing was changed."),
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                })
                if not any(p.get("name") == "If-None-Match" for p in operation.get("parameters", [])):
                    operation.setdefault("parameters", []).append(dict(_IF_NONE_MATCH_ON_WRITE))
            if method != "get" or "application/json" not in responses.get("200", {}).get("content", {}):
                continue  # a file download is the file, without these headers (rcf.api_http: JSON only)
            if "200" in responses:
                headers = responses["200"].setdefault("headers", {})
                for name, header in _GET_HEADERS.items():
                    headers[name] = {**header, **headers.get(name, {}), "required": header.get("required", False)}
            responses.setdefault("304", {"description": _("Not modified: the ETag you sent is current.")})
            responses["304"].setdefault("headers", {})["ETag"] = dict(_GET_HEADERS["ETag"])
            named = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
            operation.setdefault("parameters", []).extend(
                dict(p) for p in _CONDITIONAL_PARAMETERS if (p["in"], p["name"]) not in named
            )
            if ("query", "since") in named and "200" in responses:
                _document_export(operation, responses["200"])
    return result


_EXPORT_FORMAT = {
    "in": "query", "name": "format", "required": False, "schema": {"type": "string", "enum": ["json", "ndjson"]},
    "description": _("ndjson (or Accept: application/x-ndjson), with since=: the sync feed's streamed export. "
                     "Without since= it is a 400."),
}


def _document_export(operation: dict, ok: dict) -> None:
    """A list with the sync feed also streams it as NDJSON (``SyncFeed.stream``): one record or tombstone
    a line, in change order, then ``{"cursor": "…"}``. That answer is new each time: no ETag."""
    ok["content"][NDJSON] = {"schema": {
        "type": "string", "format": "binary",
        "description": str(_('One JSON object a line (the records and tombstones of the feed, in change order), '
                             'then a last line {"cursor": "…"}: send it as since= to continue with the feed.')),
    }}
    ok["headers"]["ETag"] = {**ok["headers"]["ETag"], "required": False}
    ok["headers"]["ETag"]["description"] = str(ok["headers"]["ETag"]["description"]) + " " + str(
        _("The NDJSON export has none."))
    if not any(p.get("name") == "format" and p.get("in") == "query" for p in operation["parameters"]):
        operation["parameters"].append(dict(_EXPORT_FORMAT))


# --- The framework's reference data (read-only) -------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: PriorityAreaSerializer(many=True), **error_responses(401, 403, 429)}),
    retrieve=extend_schema(responses={200: PriorityAreaSerializer, **error_responses(401, 403, 404, 429)}),
)
class PriorityAreaViewSet(ConsistentReadsMixin, ModelPermissionsMixin, ListFiltersMixin,
                          viewsets.ReadOnlyModelViewSet):
    """The six priority areas of the framework (reference data: codes are
    what the other resources use)."""

    queryset = PriorityArea.objects.all()
    serializer_class = PriorityAreaSerializer
    lookup_field = "code"
    pagination_class = None


class CountryFilter(filters.FilterSet):
    class Meta:
        model = PartnerCountry
        fields = ["group"]


@extend_schema_view(
    list=extend_schema(responses={200: PartnerCountrySerializer(many=True), **error_responses(400, 401, 403, 429)}),
    retrieve=extend_schema(responses={200: PartnerCountrySerializer, **error_responses(401, 403, 404, 429)}),
)
class PartnerCountryViewSet(ConsistentReadsMixin, ModelPermissionsMixin, ListFiltersMixin,
                            viewsets.ReadOnlyModelViewSet):
    """Partner countries by ISO 3166-1 alpha-2 code, with their group."""

    queryset = PartnerCountry.objects.all()
    serializer_class = PartnerCountrySerializer
    lookup_field = "iso2"
    pagination_class = None
    filterset_class = CountryFilter

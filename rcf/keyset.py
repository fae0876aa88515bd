"""Keyset (seek) pagination: a page starts where the previous one ended
("the rows after this one, in this order"), so page 2,000 costs what page 1
does. OFFSET makes the database produce and throw away every earlier row.

A cursor is the sort keys of a page's last (or first) row and the page's
number, signed so a damaged or hand-made one is refused with a message, not
a 500. ``?page=N`` links (bookmarks, API clients) keep working: they are
answered with OFFSET.

Counts are capped (``COUNT_CAP``): ``SELECT COUNT(*)`` of a million rows
is a scan on every page view; counting at most ``COUNT_CAP + 1`` rows costs
what reading them does, and the page says "more than 10,000".
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import json
import math
import uuid
from dataclasses import dataclass, field

from django.core import signing
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection
from django.db.models import F, OrderBy, Q

COUNT_CAP = 10_000
_SALT = "rcf.keyset"


class BadCursor(ValueError):
    """A cursor that is damaged, made by hand, or for another sort."""


class PageOutOfRange(ValueError):
    """(``strict``) a page number that is not one, or past the last page."""


@dataclass
class Key:
    expression: object
    descending: bool
    nulls_last: bool  # where NULLs sort in this key's direction
    nullable: bool
    alias: str = ""


def _nullable(model, path: str) -> bool:
    try:
        for name in path.split("__")[:-1]:
            relation = model._meta.get_field(name)
            if relation.null:
                return True
            model = relation.related_model
        return model._meta.get_field(path.split("__")[-1]).null
    except (FieldDoesNotExist, AttributeError):
        return True


def _default_nulls_last(descending: bool) -> bool:
    """Where the database puts NULLs when not told: PostgreSQL last ascending (NULL is the largest),
    SQLite first (the smallest)."""
    return not descending if connection.vendor == "postgresql" else descending


def keys_of(queryset, ordering) -> list[Key]:
    """The sort keys of ``ordering`` (``"field"``, ``"-field"``, ``F(…).asc()``,
    an expression's ``.desc()``), each with where its NULLs go: as given, or
    where the database puts them unasked (so the order is the one the list
    had before). The primary key must be the last key (it makes the order
    total)."""
    keys = []
    for item in ordering:
        if isinstance(item, str):
            descending = item.startswith("-")
            name = item.lstrip("-")
            name = "pk" if name == "id" else name
            path = queryset.model._meta.pk.name if name == "pk" else name
            nullable = name in queryset.query.annotations or _nullable(queryset.model, path)
            keys.append(Key(F(name), descending, _default_nulls_last(descending), nullable))
        elif isinstance(item, OrderBy):
            expression = item.expression
            nullable = True
            if isinstance(expression, F) and expression.name not in queryset.query.annotations:
                nullable = _nullable(queryset.model, expression.name)
            nulls_last = (bool(item.nulls_last) if (item.nulls_last or item.nulls_first)
                          else _default_nulls_last(item.descending))
            keys.append(Key(expression, item.descending, nulls_last, nullable))
        else:
            raise TypeError(f"Not a sort key: {item!r}")
    for index, key in enumerate(keys):
        key.alias = f"_seek{index}"
    return keys


def ordering(keys, *, reverse=False):
    result = []
    for key in keys:
        descending = key.descending != reverse
        nulls_last = key.nulls_last != reverse
        expression = F(key.alias)
        if key.nullable:
            result.append(expression.desc(nulls_last=True) if descending and nulls_last else
                          expression.desc(nulls_first=True) if descending else
                          expression.asc(nulls_last=True) if nulls_last else expression.asc(nulls_first=True))
        else:
            result.append(expression.desc() if descending else expression.asc())
    return result


def _after(key: Key, value, *, reverse: bool) -> Q | None:
    """Rows strictly after ``value`` in ``key``'s order (before it if
    ``reverse``); None when there are none."""
    descending = key.descending != reverse
    nulls_last = key.nulls_last != reverse
    name = key.alias
    if value is None:
        return None if nulls_last else Q(**{f"{name}__isnull": False})
    condition = Q(**{f"{name}__lt" if descending else f"{name}__gt": value})
    if key.nullable and nulls_last:
        condition |= Q(**{f"{name}__isnull": True})
    return condition


def _equal(key: Key, value) -> Q:
    return Q(**{f"{key.alias}__isnull": True}) if value is None else Q(**{key.alias: value})


def seek(queryset, keys, values, *, reverse=False):
    """``queryset`` (annotated with the keys) from the row whose keys are
    ``values`` on, that row excluded: the OR of "equal on the first i keys,
    after on the next". The first key also gets its plain bound
    (``updated_at <= v``), which lets the database start an index scan there."""
    condition = Q(pk__in=[])
    prefix = Q()
    for key, value in zip(keys, values, strict=True):
        after = _after(key, value, reverse=reverse)
        if after is not None:
            condition |= prefix & after
        prefix &= _equal(key, value)
    queryset = queryset.filter(condition)
    first, value = keys[0], values[0]
    if value is not None and not first.nullable:
        descending = first.descending != reverse
        queryset = queryset.filter(**{f"{first.alias}__lte" if descending else f"{first.alias}__gte": value})
    return queryset


def _json_value(value):
    # Full precision: DjangoJSONEncoder cuts datetimes to milliseconds, and a cursor must name the row exactly.
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    raise TypeError(f"Not a sort key value: {value!r}")


def _signer(keys, model) -> signing.Signer:
    """A cursor is signed for one list (the model) and one sort (its keys, directions and NULL places):
    given to another, its signature does not match, and it is refused (BadCursor) rather than read as a
    position it does not name."""
    sort = ";".join(f"{key.expression!r}|{key.descending:d}|{key.nulls_last:d}" for key in keys)
    label = model._meta.label_lower if model is not None else ""
    return signing.Signer(salt=f"{_SALT}:{label}:{sort}")


def encode(keys, values, number: int, direction: str, *, model) -> str:
    payload = json.dumps([number, direction, values], default=_json_value, separators=(",", ":"))
    return _signer(keys, model).sign(base64.urlsafe_b64encode(payload.encode()).decode().rstrip("="))


def decode(queryset, keys, cursor: str) -> tuple[list, int, str]:
    try:
        raw = _signer(keys, queryset.model).unsign(cursor)
        payload = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        number, direction, values = payload
        if not (isinstance(number, int) and number >= 1 and direction in ("after", "before")
                and isinstance(values, list) and len(values) == len(keys)):
            raise BadCursor
        typed = []
        for key, value in zip(keys, values, strict=True):
            output = queryset.query.annotations[key.alias].output_field
            typed.append(None if value is None else output.to_python(value))
        return typed, number, direction
    except (signing.BadSignature, binascii.Error, ValueError, TypeError, ValidationError, UnicodeDecodeError) as exc:
        raise BadCursor from exc


@dataclass
class KeysetPage:
    """What the list templates need of a page (Django's ``Page`` names where
    they match): the rows, the page's number, the links' cursors."""

    object_list: list
    number: int
    per_page: int
    counted: int  # at most cap + 1 (capped_count)
    next_cursor: str = ""
    previous_cursor: str = ""
    first_page_previous: bool = False  # "Previous" leads to page 1 (no cursor)
    error: str = ""
    extra: dict = field(default_factory=dict)
    cap: int = COUNT_CAP  # the count stops here (a search's is lower: projects.search.SEARCH_COUNT_CAP)

    keyset = True

    @property
    def count_capped(self) -> bool:
        """More than ``cap`` rows: ``count`` is the cap ("more than 10,000")."""
        return self.counted > self.cap

    @property
    def count(self) -> int:
        return min(self.counted, self.cap)

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.per_page))

    @property
    def has_next(self) -> bool:
        return bool(self.next_cursor)

    @property
    def has_previous(self) -> bool:
        return bool(self.previous_cursor) or self.first_page_previous

    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    @property
    def paginator(self):
        return self  # templates read page.paginator.num_pages / .count


def capped_count(queryset, cap: int | None = None) -> int:
    """The number of rows, counting at most ``cap + 1`` (``COUNT_CAP + 1``)."""
    cap = COUNT_CAP if cap is None else cap
    return queryset.order_by().values("pk")[: cap + 1].count()


def paginate(queryset, sort, *, per_page: int, cursor: str | None = None, page: str | None = None,
             count: int | None = None, strict: bool = False, cap: int | None = None) -> KeysetPage:
    """One page of ``queryset`` in ``sort`` (sort keys ending with the primary
    key): by ``cursor`` (keyset) when given, else ``page`` (a number;
    OFFSET, for old links), else the first page.

    Pages: a bad cursor is the first page with ``error`` set, a page number
    past the end the last page (as Django's ``Paginator.get_page``). With
    ``strict`` (the API, given the exact ``count``), both raise (BadCursor,
    PageOutOfRange), as DRF answers 404 to a page that is not there. Rows may
    be instances, dicts (``values()``) or tuples (``values_list()``, the
    keys appended last)."""
    cap = COUNT_CAP if cap is None else cap
    keys = keys_of(queryset, sort)
    annotated = queryset.annotate(**{key.alias: key.expression for key in keys})
    if count is None:
        count = capped_count(queryset, cap)
    number, reverse, error = 1, False, ""
    rows_query = annotated.order_by(*ordering(keys))
    if cursor:
        try:
            values, number, direction = decode(annotated, keys, cursor)
        except BadCursor:
            if strict:
                raise
            error = "cursor"
            values, number, direction = None, 1, "after"
        if values is not None:
            reverse = direction == "before"
            rows_query = seek(annotated, keys, values, reverse=reverse).order_by(*ordering(keys, reverse=reverse))
        rows = list(rows_query[: per_page + 1])
        if not rows and values is not None:
            error = "past_end"  # the rows after the cursor's were deleted since (or it was the last page's)
    else:
        try:
            number = int(page or 1)
            if number < 1:
                raise ValueError(number)
        except (TypeError, ValueError):
            if strict:
                raise PageOutOfRange(page) from None
            number = 1
        last = max(1, math.ceil((count if strict else min(count, cap)) / per_page))
        if number > last and strict:
            raise PageOutOfRange(page)
        if number > last and count <= cap:
            number = last  # as Django's Paginator.get_page: past the end is the last page
        start = (number - 1) * per_page
        # A page number beyond any table (?page=10**30) would overflow the database's OFFSET: nothing there.
        rows = list(rows_query[start: start + per_page + 1]) if start < 2**62 else []
        if not rows and number > 1:
            error = "past_end"
    more = len(rows) > per_page
    rows = rows[:per_page]
    if reverse:
        rows.reverse()
    result = KeysetPage(object_list=rows, number=number, per_page=per_page, counted=count, error=error, cap=cap)
    if not rows:
        result.first_page_previous = number > 1
        return result

    def values_of(row):
        if isinstance(row, tuple):
            return list(row[-len(keys):])
        if isinstance(row, dict):
            return [row[key.alias] for key in keys]
        return [getattr(row, key.alias) for key in keys]

    if reverse and not more:
        number = result.number = 1  # read back to the start: this is the first page
    # Read backwards, the page is before the one the cursor came from: there is a next one.
    if more or reverse:
        result.next_cursor = encode(keys, values_of(rows[-1]), number + 1, "after", model=queryset.model)
    if number > 2:
        result.previous_cursor = encode(keys, values_of(rows[0]), number - 1, "before", model=queryset.model)
    elif number == 2:
        result.first_page_previous = True
    return result

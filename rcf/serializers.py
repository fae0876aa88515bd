"""Serializers shared by every app's API, and the framework's reference data.

A serializer here declares a resource's representation once: its fields are
what DRF validates on input, what drf-spectacular documents, and what
``BulkRepresentation`` reads, many records at a time, for lists and the sync
feed. Nothing about a record's shape is written a second time.
"""

from __future__ import annotations

import datetime
import functools
from itertools import groupby
from operator import itemgetter

import orjson
from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist
from django.db import connection, models
from django.db.models import BooleanField, Func
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _
from rest_framework import ISO_8601, serializers
from rest_framework.relations import ManyRelatedField, PrimaryKeyRelatedField, SlugRelatedField
from rest_framework.settings import api_settings
from rest_framework.validators import UniqueValidator

from .models import PartnerCountry, PriorityArea

# --- Base classes ------------------------------------------------------------------


class UTCDateTimeField(serializers.DateTimeField):
    """Timestamps in UTC (``…Z``) whatever the server's time zone, so two
    servers, or a server and its sync clients, never disagree on a value."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default_timezone", datetime.UTC)
        super().__init__(*args, **kwargs)

    def to_representation(self, value):
        # What DRF gives for an aware datetime in ISO 8601, without its
        # general time-zone handling: a full sync formats 200,000 of these.
        if isinstance(value, datetime.datetime) and value.tzinfo is not None and self._iso:
            text = value.astimezone(datetime.UTC).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return super().to_representation(value)

    @functools.cached_property
    def _iso(self) -> bool:
        return str(getattr(self, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601


class CodeField(SlugRelatedField):
    """Reference data by code (priority area ``code``, country ``iso2``),
    case-insensitively, as the services accept them."""

    default_error_messages = {
        "does_not_exist": _("Unknown code: {value}."),
        "invalid": _("Give a code as a string."),
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            return self.get_queryset().get(**{f"{self.slug_field}__iexact": data})
        except ObjectDoesNotExist:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)


class StrictFieldsMixin:
    """Refuse input keys the serializer does not accept, naming each one.

    DRF ignores unknown keys; for a sync client that hides a typo (the
    client believes it set ``sumary``). A read-only key (``status``,
    ``version``) is refused too: silently ignoring it would hide a client
    that believes it changed the status with a PATCH.

    A list field (``participants``, ``partner_countries``…) takes a JSON
    array and nothing else: DRF iterates whatever it is given, so ``{}`` was
    taken for ``[]`` (clearing the list) and ``{"3": …}`` for ``["3"]``.
    """

    read_only_hints: dict[str, str] = {}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            errors = {}
            for key in data:
                if key in writable:
                    if _is_list_field(self.fields[key]) and not isinstance(data[key], list) and data[key] is not None:
                        errors[key] = [_("Expected a list of items but got type “%(type)s”.")
                                       % {"type": type(data[key]).__name__}]
                    continue
                if key in self.fields:
                    errors[key] = [self.read_only_hints.get(key, _("This field is read-only."))]
                else:
                    errors[key] = [_("Unknown field.")]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def _is_list_field(field) -> bool:
    return isinstance(field, ManyRelatedField | serializers.ListField | serializers.MultipleChoiceField)


class ApiModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """The base of every resource serializer: strict input, UTC timestamps,
    no validators derived from model constraints (the services and
    ``full_clean()`` check them, with their own messages)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UTCDateTimeField,
    }

    def get_validators(self):
        return []

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        # DRF derives a UniqueValidator from a one-field UniqueConstraint
        # (external_id); a duplicate is the view's 409 and the service's check.
        validators = [v for v in kwargs.get("validators", []) if not isinstance(v, UniqueValidator)]
        if "validators" in kwargs:
            kwargs["validators"] = validators
        return field_class, kwargs


class ApiSerializer(StrictFieldsMixin, serializers.Serializer):
    """Input of an action (no model behind it), with strict keys."""


# --- Reading many records at once ---------------------------------------------------

# Field classes whose database value is already what JSON carries.
_NATIVE = (
    serializers.CharField,
    serializers.IntegerField,
    serializers.BooleanField,
    serializers.FloatField,
    serializers.ChoiceField,
)


class BulkRepresentation:
    """The representation of many records of one serializer, read with
    ``values_list`` and one query per many-to-many field (on PostgreSQL, all
    of them in one round trip: ``related``).

    The sync feed hands out 100,000 records in a full sync; DRF's
    field-by-field ``to_representation`` on model instances costs several
    times the query itself. This reads the serializer's own fields (so the
    shape cannot drift from the schema) and converts only what needs it
    (dates, decimals), a column at a time, with the field's own
    ``to_representation``. tests/api/test_representation.py proves the output
    equals DRF's.

    A many-to-many field's values come sorted by record, then in DRF's order,
    and are split into runs in Python (``array_agg(… ORDER BY …)`` sorts once
    per record, several times slower); on PostgreSQL the records are chosen by
    one array parameter, not an ``IN`` list. On PostgreSQL a UTC timestamp
    arrives as the text DRF would write (``UTCISOText``), so no datetime is
    built in Python only to be formatted again.

    Supported fields: model columns, ``SlugRelatedField`` and
    ``PrimaryKeyRelatedField`` on a foreign key or a many-to-many field.
    """

    def __init__(self, serializer_class):
        serializer = serializer_class()
        self.serializer_class = serializer_class  # rcf.sync_json reads the fields' types
        self.model = serializer.Meta.model
        self.table = self.model._meta.db_table
        self.columns: list[str] = []
        self.plan: list[tuple[str, int, object]] = []  # (name, column index, column converter or None)
        self.many: list[tuple[str, object]] = []  # (name, function(ids) -> {id: [values]})
        self.names: list[str] = []
        self.utc_texts: dict[int, str] = {}  # column index -> column, for timestamps PostgreSQL formats
        self._batched_sql: str | bool | None = None  # related(): the fields' queries in one, once compiled
        for name, field in serializer.fields.items():
            if field.write_only:
                continue
            self.names.append(name)
            if isinstance(field, ManyRelatedField):
                self.many.append((name, self._many_reader(field)))
                # A placeholder (the id) keeps the key in the serializer's order; represent() fills it.
                self.plan.append((name, self._column("id"), None))
                continue
            if isinstance(field, SlugRelatedField):
                column, convert = f"{field.source}__{field.slug_field}", None
            elif isinstance(field, PrimaryKeyRelatedField):
                column, convert = field.source, None
            elif isinstance(field, serializers.RelatedField | serializers.SerializerMethodField) or field.source == "*":
                raise ImproperlyConfigured(f"{serializer_class.__name__}.{name}: not supported by BulkRepresentation")
            else:
                model_field = self.model._meta.get_field(field.source)  # FieldDoesNotExist says which is not a column
                column = field.source
                convert = None if isinstance(field, _NATIVE) else _column_converter(field)
                if (isinstance(field, UTCDateTimeField) and field._iso and isinstance(model_field, models.DateTimeField)
                        and column not in self.columns):
                    self.utc_texts[self._column(column)] = column
            self.plan.append((name, self._column(column), convert))

    def _column(self, path: str) -> int:
        if path not in self.columns:
            self.columns.append(path)
        return self.columns.index(path)

    def _many_reader(self, field: ManyRelatedField):
        relation = self.model._meta.get_field(field.source)
        if not isinstance(relation, models.ManyToManyField):
            raise ImproperlyConfigured(f"{self.model.__name__}.{field.source} is not a many-to-many field")
        through = relation.remote_field.through
        source = relation.m2m_field_name()
        target = relation.m2m_reverse_field_name()
        child = field.child_relation
        value = f"{target}__{child.slug_field}" if isinstance(child, SlugRelatedField) else target
        # The order DRF gives (the related model's default ordering), then the key.
        target_model = relation.remote_field.model
        ordering = [
            f"-{target}__{o[1:]}" if o.startswith("-") else f"{target}__{o}"
            for o in target_model._meta.ordering
            if isinstance(o, str)
        ] + [f"{target}__pk"]

        quote = connection.ops.quote_name
        owner_column = f"{quote(through._meta.db_table)}.{quote(source + '_id')}"

        def read(pks: list) -> dict:
            """``{pk: [values]}`` for the records ``pks``: rows sorted by record, then in DRF's order,
            split into runs here (``array_agg(… ORDER BY …)`` would sort once per record in the
            database, slower than the Python)."""
            if connection.vendor == "postgresql":
                # One array parameter, not an IN list of 1,000 placeholders; integer keys as one array
                # literal (the driver would quote a list of 1,000 ints in Python).
                if all(type(pk) is int for pk in pks):
                    owners = RawSQL(f"{owner_column} = ANY(%s::bigint[])",  # noqa: S611
                                    ["{" + ",".join(map(str, pks)) + "}"], output_field=BooleanField())
                else:
                    owners = RawSQL(f"{owner_column} = ANY(%s)", [pks], output_field=BooleanField())  # noqa: S611
                rows = through.objects.filter(owners)
            else:
                rows = through.objects.filter(**{f"{source}__in": pks})
            rows = rows.order_by(f"{source}_id", *ordering).values_list(f"{source}_id", value)
            return {owner: [item for _owner, item in run] for owner, run in groupby(rows, key=itemgetter(0))}

        def postgresql_sql() -> str:
            """PostgreSQL: the same query as SQL with one placeholder, the owners as an array literal."""
            owners = RawSQL(f"{owner_column} = ANY(%s::bigint[])", ["{}"], output_field=BooleanField())  # noqa: S611
            rows = through.objects.filter(owners).order_by(f"{source}_id", *ordering).values_list(
                f"{source}_id", value)
            sql, _params = rows.query.sql_with_params()
            return sql

        read.postgresql_sql = postgresql_sql
        return read

    def related(self, pks: list) -> list[dict]:
        """``{pk: [values]}`` for each many-to-many field (in ``self.many``'s order): one query per
        field for the whole page; on PostgreSQL all of them in one round trip (the driver binds
        the parameters client-side, so several statements go in one ``execute``: a busy
        database's wait is paid once a page, not once a field)."""
        if not self.many or not pks:
            return [{} for _many in self.many]
        if not (self._database_formats() and self._batched_sql is not False
                and all(type(pk) is int for pk in pks)):
            return [read(pks) for _name, read in self.many]
        if self._batched_sql is None:
            import psycopg

            connection.ensure_connection()
            factory = getattr(connection.connection, "cursor_factory", None)
            client_side = isinstance(factory, type) and issubclass(factory, psycopg.ClientCursor)
            self._batched_sql = "; ".join(read.postgresql_sql() for _name, read in self.many) if client_side \
                else False
            if self._batched_sql is False:
                return [read(pks) for _name, read in self.many]
        array = "{" + ",".join(map(str, pks)) + "}"
        found = []
        with connection.cursor() as cursor:
            cursor.execute(self._batched_sql, [array] * len(self.many))
            for at in range(len(self.many)):
                if at:
                    cursor.nextset()
                found.append({owner: [item for _owner, item in run]
                              for owner, run in groupby(cursor.fetchall(), key=itemgetter(0))})
        return found

    @staticmethod
    def _database_formats() -> bool:
        return connection.vendor == "postgresql"

    @property
    def width(self) -> int:
        """How many columns :meth:`values` selects before the caller's extra ones."""
        return len(self.columns)

    # The columns a caller must select, in this order, before any extra ones.
    def values(self, queryset, *extra: str):
        if self.utc_texts and self._database_formats():
            texts = {f"_utc_text_{column}": UTCISOText(column) for column in self.utc_texts.values()}
            queryset = queryset.annotate(**texts)
            columns = [f"_utc_text_{c}" if i in self.utc_texts else c for i, c in enumerate(self.columns)]
            return queryset.values_list(*columns, *extra)
        return queryset.values_list(*self.columns, *extra)

    def represent(self, rows) -> list[dict]:
        """Representations of ``rows`` (tuples from :meth:`values`, in order)."""
        rows = rows if isinstance(rows, list) else list(rows)
        if not rows:
            return []
        columns = list(zip(*rows, strict=True))  # a column at a time: each converter runs over a list
        pks = list(columns[self.columns.index("id")])
        formatted = self.utc_texts if self._database_formats() else {}
        related = {name: [found.get(pk) or [] for pk in pks] for (name, _read), found in zip(
            self.many, self.related(pks), strict=True)}
        out = []
        for name, i, convert in self.plan:
            if name in related:
                out.append(related[name])
            elif convert is None or i in formatted:
                out.append(columns[i])
            else:
                out.append(convert(columns[i]))
        names = [name for name, _i, _convert in self.plan]
        return [dict(zip(names, record, strict=True)) for record in zip(*out, strict=True)]

    def one(self, pk) -> dict:
        rows = self.values(self.model.all_objects.filter(pk=pk))
        return self.represent(rows)[0]


class UTCISOText(Func):
    """PostgreSQL: a timestamp as ``UTCDateTimeField`` writes it, ``2026-01-02T03:04:05Z`` or, when it
    has microseconds, ``2026-01-02T03:04:05.000007Z`` (``datetime.isoformat``'s two forms)."""

    output_field = models.TextField()
    template = (
        "(to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        "CASE WHEN to_char(%(expressions)s AT TIME ZONE 'UTC', 'US') = '000000' THEN 'Z' "
        "ELSE to_char(%(expressions)s AT TIME ZONE 'UTC', '.US\"Z\"') END)"
    )


def _is_iso_date(field) -> bool:
    return (isinstance(field, serializers.DateField) and not isinstance(field, serializers.DateTimeField)
            and str(getattr(field, "format", api_settings.DATE_FORMAT)).lower() == ISO_8601)


def _column_converter(field):
    """``field.to_representation`` over a column (None stays None), in one orjson call for
    timestamps and ISO dates: orjson writes a UTC datetime as DRF's ``UTCDateTimeField`` does
    (``2026-01-02T03:04:05.000007Z``) and a date as ``date.isoformat()``; a value it writes
    otherwise (another offset, a naive datetime) goes through the field itself."""
    convert = field.to_representation
    iso = isinstance(field, UTCDateTimeField) and field._iso
    iso_date = _is_iso_date(field)

    def one_by_one(values):
        return [None if value is None else convert(value) for value in values]

    if not (iso or iso_date):
        return one_by_one

    def column(values):
        try:
            texts = orjson.loads(orjson.dumps(values, option=orjson.OPT_UTC_Z))
        except (orjson.JSONEncodeError, TypeError):
            return one_by_one(values)
        if iso:
            return [text if text is None or (text[-1] == "Z" and type(value) is datetime.datetime) else convert(value)
                    for text, value in zip(texts, values, strict=True)]
        return [text if text is None or type(value) is datetime.date else convert(value)
                for text, value in zip(texts, values, strict=True)]

    return column


# --- Shapes the API answers with beside the records -----------------------------------


class TombstoneSerializer(serializers.Serializer):
    """A deleted record, as the sync feed reports it."""

    id = serializers.IntegerField()
    external_id = serializers.CharField(
        allow_null=True, help_text=_("The record's external id; null when it has none, and on resources without "
                                     "external ids."))
    deleted = serializers.ChoiceField(choices=[(True, "true")], help_text=_("Always true."))
    deleted_at = UTCDateTimeField()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ConflictSerializer(serializers.Serializer):
    """409: the record already exists (idempotent create)."""

    detail = serializers.CharField()
    id = serializers.IntegerField(required=False)
    location = serializers.URLField(required=False)
    deleted = serializers.BooleanField(required=False)


# --- The framework's reference data -------------------------------------------------


class PriorityAreaSerializer(ApiModelSerializer):
    class Meta:
        model = PriorityArea
        fields = ("code", "name", "name_ko", "description", "sort_order")
        read_only_fields = fields


class PartnerCountrySerializer(ApiModelSerializer):
    class Meta:
        model = PartnerCountry
        fields = ("iso2", "iso3", "name", "name_ko", "group", "member_since")
        read_only_fields = fields

"""The sync feed's records as JSON written by PostgreSQL, one query a page (issue 14).

A full sync hands out every record. Read as Python values (``BulkRepresentation``), a page of
1,000 projects cost about 12 ms of Python to parse, assemble into dicts and encode, and a second
round trip for the many-to-many values. Here one statement does it all: the page's rows (the
serializer's own columns, as ``BulkRepresentation.values`` selects them), each many-to-many field
aggregated once for the page (``array_agg(… ORDER BY …)`` over the page's ids, in DRF's order), and
``row_to_json`` of each live record with the serializer's keys in the serializer's order. Python
only joins the texts. Measured on a full sync of 20,000 projects in pages of 1,000 (bench/api.py's
data): the web process's CPU 762 → 491 ms, PostgreSQL's 280 → 480 ms (its ``row_to_json`` escapes
text a character at a time), one round trip a page instead of two; the sync's time 1.14x → 1.03x the
hand-written query + ``json.dumps`` in the same run. Web workers are what a deployment runs many of.

The bytes are those of ``rcf.renderers.dumps`` on the records ``BulkRepresentation`` builds (the
ETags, hashes of those bytes, stay what they were): ``row_to_json`` writes compact JSON, non-ASCII
as UTF-8, and escapes exactly what orjson and the stdlib escape (``"``, ``\\``, the control
characters, ``\\b \\f \\n \\r \\t`` short); U+2028 / U+2029 are escaped afterwards as DRF does. So
only values whose JSON is the same either way take this path: text, integers, booleans and nulls,
ISO dates, UTC timestamps as the text ``UTCISOText`` formats, and arrays of those for the
many-to-many fields. A serializer with any other field (a decimal, a float, a custom field that
converts its value) is read the Python way, as is everything on SQLite.
``tests/api/test_sync_speed.py`` compares both paths on every synced resource.
"""

from __future__ import annotations

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection, models
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from rest_framework import serializers
from rest_framework.relations import ManyRelatedField, PrimaryKeyRelatedField, SlugRelatedField

from .serializers import BulkRepresentation, UTCDateTimeField, _is_iso_date

# Model fields whose value PostgreSQL writes in JSON as orjson writes the Python value.
_SAME_JSON = {
    "AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField",
    "PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField", "BooleanField",
    "CharField", "TextField", "SlugField", "EmailField", "URLField",
}
# Serializer fields whose representation is the database value (as BulkRepresentation reads them).
_AS_STORED = (serializers.CharField, serializers.IntegerField, serializers.BooleanField, serializers.ChoiceField)
_OWNERS = "__rcf_page_owners__"  # where each many-to-many aggregate names the page's ids


def _same_json(field) -> bool:
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    return field.get_internal_type() in _SAME_JSON and not hasattr(field, "from_db_value")


def _path_field(model, path: str):
    """The model field at the end of ``path`` (``priority_area__code``)."""
    *relations, last = path.split("__")
    for name in relations:
        model = model._meta.get_field(name).related_model
    return model._meta.pk if last == "pk" else model._meta.get_field(last)


class SQLRecords:
    """``rows(queryset, extra, limit)``: ``(record JSON or None, id, *extra values)`` a row, in the
    queryset's order; the JSON is None where ``deleted_at`` is set (the feed writes the tombstone)."""

    def __init__(self, representation: BulkRepresentation, sql_many: list[tuple[str, str]]):
        self.representation = representation
        self.sql_many = sql_many  # (name, aggregate SQL with _OWNERS), in representation.many's order

    @classmethod
    def build(cls, representation: BulkRepresentation) -> SQLRecords | None:
        """The SQL path for ``representation``, or None where a field's JSON could differ."""
        serializer_class = getattr(representation, "serializer_class", None)
        if serializer_class is None:
            return None
        model = representation.model
        many = {}
        for name, field in serializer_class().fields.items():
            if field.write_only:
                continue
            if isinstance(field, ManyRelatedField):
                sql = cls._many_sql(model, field)
                if sql is None:
                    return None
                many[name] = sql
            elif not cls._supported(model, field, representation):
                return None
        if [name for name, _read in representation.many] != list(many):
            return None
        return cls(representation, list(many.items()))

    @staticmethod
    def _supported(model, field, representation) -> bool:
        if isinstance(field, SlugRelatedField):
            return _same_json(_path_field(model, f"{field.source}__{field.slug_field}"))
        if isinstance(field, PrimaryKeyRelatedField):
            return field.pk_field is None and _same_json(model._meta.get_field(field.source))
        if isinstance(field, serializers.RelatedField | serializers.SerializerMethodField) or field.source == "*":
            return False
        model_field = model._meta.get_field(field.source)
        if isinstance(field, UTCDateTimeField):
            # Written by PostgreSQL as DRF would (UTCISOText), when BulkRepresentation reads it so.
            index = representation.columns.index(field.source)
            return representation.utc_texts.get(index) == field.source
        if _is_iso_date(field):
            return type(model_field) is models.DateField
        if (isinstance(field, serializers.FloatField | serializers.MultipleChoiceField)
                or not isinstance(field, _AS_STORED)):
            return False
        return _same_json(model_field)

    @staticmethod
    def _many_sql(model, field: ManyRelatedField) -> str | None:
        relation = model._meta.get_field(field.source)
        if not isinstance(relation, models.ManyToManyField):
            return None
        through = relation.remote_field.through
        source, target = relation.m2m_field_name(), relation.m2m_reverse_field_name()
        target_model = relation.remote_field.model
        child = field.child_relation
        if isinstance(child, SlugRelatedField):
            value, value_field = f"{target}__{child.slug_field}", _path_field(target_model, child.slug_field)
        elif isinstance(child, PrimaryKeyRelatedField) and child.pk_field is None:
            value, value_field = target, target_model._meta.pk
        else:
            return None
        if not _same_json(value_field):
            return None
        # DRF's order (the related model's default ordering, then the key), as BulkRepresentation's.
        ordering = [
            f"-{target}__{o[1:]}" if o.startswith("-") else f"{target}__{o}"
            for o in target_model._meta.ordering
            if isinstance(o, str)
        ] + [f"{target}__pk"]
        owner = f"{connection.ops.quote_name(through._meta.db_table)}.{connection.ops.quote_name(source + '_id')}"
        rows = (through.objects.filter(RawSQL(f"{owner} = ANY({_OWNERS})", [], output_field=BooleanField()))  # noqa: S611
                .order_by().values(f"{source}_id").annotate(values=ArrayAgg(value, order_by=ordering))
                .values_list(f"{source}_id", "values"))
        sql, params = rows.query.sql_with_params()
        return None if params else sql

    def rows(self, queryset, extra: tuple[str, ...], limit: int) -> list[tuple]:
        """The first ``limit`` rows of ``queryset`` (ordered by names among ``id`` and ``extra``)."""
        representation = self.representation
        names = [*representation.columns, *extra]
        aliases = [f"c{at}" for at in range(len(names))]
        id_alias = aliases[representation.columns.index("id")]
        deleted = aliases[len(representation.columns) + extra.index("deleted_at")]
        page_sql, params = representation.values(queryset, *extra)[:limit].query.sql_with_params()
        order = []
        for name in queryset.query.order_by:
            descending = name.startswith("-")
            column = name.lstrip("-")
            alias = id_alias if column in ("pk", "id") else aliases[len(representation.columns) + extra.index(column)]
            order.append(f"page.{alias}" + (" DESC" if descending else ""))
        ctes = [f"page({', '.join(aliases)}) AS MATERIALIZED ({page_sql})"]
        joins = []
        many_at = {}
        for at, (name, sql) in enumerate(self.sql_many):
            owners = f"ARRAY(SELECT {id_alias} FROM page)"  # noqa: S608 - our own alias
            ctes.append(f"m{at}(owner, v) AS ({sql.replace(_OWNERS, owners)})")
            joins.append(f"LEFT JOIN m{at} ON m{at}.owner = page.{id_alias}")
            many_at[name] = at
        quote = connection.ops.quote_name
        fields = []
        for name, column, _convert in representation.plan:
            value = f"COALESCE(m{many_at[name]}.v, '{{}}')" if name in many_at else f"page.{aliases[column]}"
            fields.append(f"{value} AS {quote(name)}")
        returned = ", ".join(f"page.{alias}" for alias in (id_alias, *aliases[len(representation.columns):]))
        # Every piece is SQL Django compiled, an alias made here or a quoted field name; the values
        # are bound parameters.
        sql = (f"WITH {', '.join(ctes)} "  # noqa: S608
               f"SELECT CASE WHEN page.{deleted} IS NULL THEN row_to_json(record)::text END, {returned} "
               f"FROM page {' '.join(joins)} CROSS JOIN LATERAL (SELECT {', '.join(fields)}) record "
               f"ORDER BY {', '.join(order)}")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


_BUILT: dict[type, SQLRecords | None] = {}


def sql_records(representation: BulkRepresentation) -> SQLRecords | None:
    """The SQL path for ``representation`` on PostgreSQL (built once per serializer), else None."""
    if connection.vendor != "postgresql":
        return None
    key = getattr(representation, "serializer_class", None)
    if key not in _BUILT:
        _BUILT[key] = SQLRecords.build(representation)
    found = _BUILT[key]
    return None if found is None else SQLRecords(representation, found.sql_many)

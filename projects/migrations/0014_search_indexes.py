"""Issue 14: the project list's search and deep pages on indexes.

* ``UPPER(external_id::text)``: the search's "the whole query is the
  external id" (``external_id__iexact``, which Django writes as
  ``UPPER("external_id"::text) = UPPER(…)``). Without it that one branch of
  the search's OR has no index, and the planner scans the whole table
  evaluating pg_trgm's word similarity on every summary (17 s at 100,000);
  with it every branch has one and the OR is a BitmapOr of the trigram GIN
  indexes (0011) and this one.
* ``(title, id)`` of the live projects: the list's "Title A-Z/Z-A" sorts
  read it in order, and a deep page (keyset, rcf.keyset) starts where the
  previous one ended. "Most/least recently changed" use the ``updated_at``
  index every tracked model has; the other sorts are computed values
  (lifecycle rank, SCM year, a joined area) that no index orders, and
  their pages, the first as the deepest, sort the matching rows alike.

* On PostgreSQL, statistics target 10 for the two summaries (then
  ANALYZE): pg_trgm estimates ``%>`` and ``ILIKE`` by running them on the
  column's sampled values, and on long texts with the default 100 the
  planner spent 24-42 ms on the search's plan (its execution took 0.4 ms);
  with 10, 3 ms. Their estimates fall back to pg_trgm's defaults (about 1%
  a clause), which still picks the indexes; the titles keep the default
  target, whose estimates the plan needs (short texts, cheap to sample).
  Nothing else filters or sorts by the summaries.

Both indexes are plain B-tree ones: created on SQLite too (its ``UPPER`` index
is not used by SQLite's own ``icontains``, but it costs nothing and keeps
the schema alike).
"""

from django.db import migrations

TABLE = "projects_cooperativeproject"

INDEXES = (
    ("project_external_id_upper", f'CREATE INDEX IF NOT EXISTS "project_external_id_upper" '
                                  f'ON "{TABLE}" ((UPPER("external_id"::text)))'),
    ("project_live_title_id", f'CREATE INDEX IF NOT EXISTS "project_live_title_id" '
                              f'ON "{TABLE}" ("title", "id") WHERE "deleted_at" IS NULL'),
)


SAMPLED_LESS = ("summary", "summary_ko")


def _statistics(schema_editor, target: int) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SAMPLED_LESS:
        schema_editor.execute(f'ALTER TABLE "{TABLE}" ALTER COLUMN "{column}" SET STATISTICS {target}')
    schema_editor.execute(f'ANALYZE "{TABLE}"')


def create_indexes(apps, schema_editor):
    for _name, sql in INDEXES:
        if schema_editor.connection.vendor == "sqlite":
            sql = sql.replace('"external_id"::text', '"external_id"')
        schema_editor.execute(sql)
    _statistics(schema_editor, 10)


def drop_indexes(apps, schema_editor):
    for name, _sql in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
    _statistics(schema_editor, -1)  # -1: the server's default_statistics_target


class Migration(migrations.Migration):
    dependencies = [("projects", "0013_current_health")]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]

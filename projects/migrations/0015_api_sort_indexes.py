"""Issue 14: the project list's sorts (projects.filters.SORTS: the API's and
the list page's) on indexes of the live projects, each key in the direction
and NULL place the ORDER BY writes, the id last, so a page is an index scan
that stops after its rows (the API list at 100,000 projects read and sorted
every row for "priority" and the lifecycle sorts).

* ``(updated_at, id)``: most and least recently changed (read backwards for
  the first).
* The lifecycle rank (SORTS' ``CASE``), ``updated_at DESC, id DESC``: status
  in lifecycle order; ``(rank, updated_at, id)`` read backwards: the
  reverse. Both end with the status (after the id: the order is the same)
  so a page's ids come from the index alone (rcf.api_policies' deferred
  join), which an expression index cannot give without its column.
* ``(priority_area_id, title, id)``: the priority area sort orders by the
  joined area's (sort_order, code), which no index of this table holds; it
  reads this index whole (no table rows) and sorts that.
* ``(priority, id)`` and ``(ready_on, id)``: ascending, NULLs last (which
  PostgreSQL's ascending index puts last).
* ``(priority DESC NULLS LAST, id DESC)`` and ``(ready_on DESC NULLS LAST, id
  DESC)``: the descending sorts keep NULLs last, which needs the index to
  say so; SQLite's CREATE INDEX refuses NULLS FIRST/LAST, so these two are
  made on PostgreSQL only (RunPython, as 0014's).

Titles already have theirs (``project_live_title_id``, 0014). The SCM year
(the readiness rule, an annotation over the SCM windows) has none: no index
can hold it.
"""

from django.db import migrations, models

TABLE = "projects_cooperativeproject"
LIVE = models.Q(("deleted_at__isnull", True))
LIFECYCLE = models.Case(
    *[models.When(status=value, then=models.Value(rank)) for rank, value in enumerate(
        ["concept", "under_review", "prioritized", "ready", "presented", "in_implementation", "completed",
         "on_hold", "withdrawn"])],
    output_field=models.IntegerField(),
)

POSTGRESQL_ONLY = (
    ("project_live_priority_desc", f'CREATE INDEX IF NOT EXISTS "project_live_priority_desc" ON "{TABLE}" '
                                   '("priority" DESC NULLS LAST, "id" DESC) WHERE "deleted_at" IS NULL'),
    ("project_live_ready_desc", f'CREATE INDEX IF NOT EXISTS "project_live_ready_desc" ON "{TABLE}" '
                                '("ready_on" DESC NULLS LAST, "id" DESC) WHERE "deleted_at" IS NULL'),
)


def create_descending_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _name, sql in POSTGRESQL_ONLY:
        schema_editor.execute(sql)


def drop_descending_indexes(apps, schema_editor):
    for name, _sql in POSTGRESQL_ONLY:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("projects", "0014_search_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="cooperativeproject",
            index=models.Index(condition=LIVE, fields=["updated_at", "id"], name="project_live_updated"),
        ),
        migrations.AddIndex(
            model_name="cooperativeproject",
            index=models.Index(LIFECYCLE, models.OrderBy(models.F("updated_at"), descending=True),
                               models.OrderBy(models.F("id"), descending=True), models.F("status"), condition=LIVE,
                               name="project_live_lifecycle"),
        ),
        migrations.AddIndex(
            model_name="cooperativeproject",
            index=models.Index(LIFECYCLE, models.F("updated_at"), models.F("id"), models.F("status"), condition=LIVE,
                               name="project_live_lifecycle_asc"),
        ),
        migrations.AddIndex(
            model_name="cooperativeproject",
            index=models.Index(condition=LIVE, fields=["priority_area", "title", "id"], name="project_live_area_title"),
        ),
        migrations.AddIndex(
            model_name="cooperativeproject",
            index=models.Index(condition=LIVE, fields=["priority", "id"], name="project_live_priority"),
        ),
        migrations.AddIndex(
            model_name="cooperativeproject",
            index=models.Index(condition=LIVE, fields=["ready_on", "id"], name="project_live_ready_id"),
        ),
        migrations.RunPython(create_descending_indexes, drop_descending_indexes, elidable=False),
    ]

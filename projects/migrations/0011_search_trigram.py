"""Issue 12: the header search box (projects.search) on PostgreSQL.

pg_trgm and one GIN trigram index per searched column: they serve both the
substring match (``ILIKE '%…%'``) and the fuzzy one (``word_similarity``,
the ``%>`` operator). Nothing on SQLite: CreateExtension skips other
databases, and the indexes are made by a function that checks the vendor
(a GIN index is PostgreSQL's own, so they are not in the models' Meta).
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# (app label, model, column): every column projects.search matches.
SEARCHED_COLUMNS = (
    ("projects", "CooperativeProject", "title"),
    ("projects", "CooperativeProject", "title_ko"),
    ("projects", "CooperativeProject", "summary"),
    ("projects", "CooperativeProject", "summary_ko"),
    ("contacts", "PointOfContact", "full_name"),
    ("contacts", "PointOfContact", "full_name_ko"),
    ("contacts", "PointOfContact", "email"),
    ("contacts", "Organization", "name"),
    ("contacts", "Organization", "name_ko"),
    ("projects", "Engagement", "summary"),
    ("projects", "Engagement", "location"),
    ("projects", "ActionItem", "title"),
    ("projects", "Document", "title"),
)


class TrigramExtensionOnPostgreSQL(TrigramExtension):
    """Django's CreateExtension skips other databases going forwards but not going back (it asks
    pg_extension): a migration test that unapplies this on SQLite would fail."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def _index_name(table: str, column: str) -> str:
    return f"search_trgm_{table}_{column}"[:63]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for app_label, model_name, column in SEARCHED_COLUMNS:
        table = apps.get_model(app_label, model_name)._meta.db_table
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(_index_name(table, column))} "
            f"ON {quote(table)} USING gin ({quote(column)} gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app_label, model_name, column in SEARCHED_COLUMNS:
        table = apps.get_model(app_label, model_name)._meta.db_table
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(_index_name(table, column))}")


class Migration(migrations.Migration):

    dependencies = [
        ("projects", "0010_resource_amount_limit"),
        ("contacts", "0007_weekly_digest"),
    ]

    operations = [
        TrigramExtensionOnPostgreSQL(),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]

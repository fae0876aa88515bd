"""Issue 11: a POC's weekly-digest opt-in (and its history).

The column is added with a plain ``ALTER TABLE ... ADD COLUMN ... DEFAULT
true NOT NULL``, the same statement on PostgreSQL and SQLite: Django's SQLite
editor would rebuild the table for a NOT NULL column with a default, and a
rebuild drops the table's triggers (sync stamps, version guard, and the
POC-side check that projects' migrations put on this table)."""

from django.db import migrations, models

TABLES = ("contacts_pointofcontact", "contacts_historicalpointofcontact")


def _add_columns(apps, schema_editor):
    quote = schema_editor.quote_name
    true = "true" if schema_editor.connection.vendor == "postgresql" else "1"
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {quote('weekly_digest')} boolean "
                              f"DEFAULT {true} NOT NULL")


def _drop_columns(apps, schema_editor):
    quote = schema_editor.quote_name
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {quote(table)} DROP COLUMN {quote('weekly_digest')}")


def _field():
    return models.BooleanField(
        db_default=True, default=True,
        help_text="Lead POCs get a weekly e-mail summary; they can turn it off on their profile page.",
        verbose_name="weekly digest")


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0006_preferred_language'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(_add_columns, _drop_columns)],
            state_operations=[
                migrations.AddField(model_name=model, name="weekly_digest", field=_field())
                for model in ("historicalpointofcontact", "pointofcontact")
            ],
        ),
    ]

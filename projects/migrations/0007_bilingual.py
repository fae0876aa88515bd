"""Issue 10, bilingual records: optional Korean title and summary on projects
(and their history).

The columns are added with plain ``ALTER TABLE ... ADD COLUMN ... DEFAULT ''
NOT NULL``, the same statement on PostgreSQL and SQLite: Django's SQLite
editor would rebuild the table for a NOT NULL column with a default, and a
rebuild drops the table's triggers (sync stamps, version guard, lead-POC
sides). The database default stays (the model's ``db_default``), so rows
written by triggers or raw SQL get an empty string too."""

from django.db import migrations, models

import rcf.validators

TABLES = ("projects_cooperativeproject", "projects_historicalcooperativeproject")
COLUMNS = (("title_ko", "varchar(300)"), ("summary_ko", "text"))


def _add_columns(apps, schema_editor):
    quote = schema_editor.quote_name
    for table in TABLES:
        for column, sql_type in COLUMNS:
            schema_editor.execute(
                f"ALTER TABLE {quote(table)} ADD COLUMN {quote(column)} {sql_type} DEFAULT '' NOT NULL"
            )


def _drop_columns(apps, schema_editor):
    quote = schema_editor.quote_name
    for table in TABLES:
        for column, _sql_type in COLUMNS:
            schema_editor.execute(f"ALTER TABLE {quote(table)} DROP COLUMN {quote(column)}")


def _fields():
    return [
        ("summary_ko", models.TextField(
            blank=True, db_default="", default="",
            validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name="Korean summary")),
        ("title_ko", models.CharField(
            blank=True, db_default="", default="", max_length=300,
            validators=[rcf.validators.NoControlCharacters()], verbose_name="Korean title")),
    ]


class Migration(migrations.Migration):
    dependencies = [("projects", "0006_concurrence")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(_add_columns, _drop_columns)],
            state_operations=[
                migrations.AddField(model_name=model, name=name, field=field)
                for model in ("cooperativeproject", "historicalcooperativeproject")
                for name, field in _fields()
            ],
        ),
    ]

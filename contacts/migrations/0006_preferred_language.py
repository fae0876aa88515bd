"""Issue 10: a point of contact's preferred language (en/ko), the language of
the readiness notices they are sent; English unless set. A CHECK constraint
keeps it to the site's languages.

On SQLite Django would add the column with its default and the CHECK by
rebuilding contacts_pointofcontact, which drops the table's sync and
version-guard triggers and fails while the projects' lead-POC side triggers
name the table. SQLite can add this column, its default and its CHECK in
place (ALTER TABLE ... ADD COLUMN), so the database step is written out;
the migration state is what Django would have written."""

from django.db import migrations, models

TABLE = "contacts_pointofcontact"
CHECK = "preferred_language IN ('en', 'ko')"


def add_column(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ADD COLUMN preferred_language varchar(2) DEFAULT 'en' NOT NULL CHECK ({CHECK})"
        )
    else:
        schema_editor.execute(f"ALTER TABLE {TABLE} ADD COLUMN preferred_language varchar(2) DEFAULT 'en' NOT NULL")
        schema_editor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT poc_preferred_language_valid CHECK ({CHECK})")


def drop_column(apps, schema_editor):
    # PostgreSQL drops the constraint with the column; SQLite drops a column whose CHECK names only itself.
    schema_editor.execute(f"ALTER TABLE {TABLE} DROP COLUMN preferred_language")


FIELD = dict(
    choices=[("en", "English"), ("ko", "Korean")],
    db_default="en",
    default="en",
    help_text="The language of the e-mails this person is sent (readiness notices).",
    max_length=2,
    verbose_name="preferred language",
)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0005_lead_logins")]
    operations = [
        migrations.AddField(
            model_name="historicalpointofcontact",
            name="preferred_language",
            field=models.CharField(**FIELD),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="pointofcontact",
                    name="preferred_language",
                    field=models.CharField(**FIELD),
                ),
                migrations.AddConstraint(
                    model_name="pointofcontact",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("preferred_language__in", ["en", "ko"])),
                        name="poc_preferred_language_valid",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(add_column, drop_column)],
        ),
    ]

"""Issue 11: the former single resources estimate and the engagement's one
project, now that 0008 has copied them into resource lines and the
engagement's ``projects``. SQLite rebuilds both tables, so their triggers
are installed again."""
import importlib

from django.db import migrations

TRACKING = importlib.import_module("projects.migrations.0008_implementation_tracking")


class Migration(migrations.Migration):

    dependencies = [("projects", "0008_implementation_tracking")]

    operations = [
        # The POC-side trigger names the project table, and SQLite refuses to
        # rename a table a trigger refers to (the rebuild renames it).
        migrations.RunPython(TRACKING.sqlite_lead_poc_sides_off, TRACKING.sqlite_reinstall_triggers),
        migrations.RemoveConstraint(
            model_name='cooperativeproject',
            name='project_resources_not_negative',
        ),
        migrations.RemoveConstraint(
            model_name='cooperativeproject',
            name='project_resources_have_currency',
        ),
        migrations.RemoveField(
            model_name='cooperativeproject',
            name='resources_currency',
        ),
        migrations.RemoveField(
            model_name='cooperativeproject',
            name='resources_estimate',
        ),
        migrations.RemoveField(
            model_name='cooperativeproject',
            name='resources_note',
        ),
        migrations.RemoveField(
            model_name='engagement',
            name='project',
        ),
        migrations.RemoveField(
            model_name='historicalcooperativeproject',
            name='resources_currency',
        ),
        migrations.RemoveField(
            model_name='historicalcooperativeproject',
            name='resources_estimate',
        ),
        migrations.RemoveField(
            model_name='historicalcooperativeproject',
            name='resources_note',
        ),
        migrations.RemoveField(
            model_name='historicalengagement',
            name='project',
        ),
        # Backwards, the same: the triggers off before the rebuild, back on after it.
        migrations.RunPython(TRACKING.sqlite_reinstall_triggers, TRACKING.sqlite_lead_poc_sides_off),
    ]

"""Issue 9, no 500 from any stored value: text without control characters and
dates within 1950-2100 (rcf/validators.py) on every field users and sync
clients set, the dates backed by CHECK constraints. Only validators change
on the fields (no schema change); a stored date outside the bounds stops the
migration with a list of the rows to correct."""

import datetime
import django.core.validators
import rcf.sync
import rcf.validators
from django.db import migrations, models


# SQLite adds a CHECK constraint by rebuilding the table, which drops the
# table's sync triggers: they are put back as they were.
def sqlite_triggers_off(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in rcf.sync._down("scm_reports_scmcycle", "sqlite"):
            schema_editor.execute(statement)


def sqlite_triggers_on(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in rcf.sync._sqlite_up("scm_reports_scmcycle"):
            schema_editor.execute(statement)


def refuse_out_of_bounds(apps, schema_editor):
    rcf.validators.refuse_stored_dates_out_of_bounds(apps, [("scm_reports", "SCMCycle", ["meeting_date", "readiness_deadline"])])


class Migration(migrations.Migration):

    dependencies = [
        ('scm_reports', '0005_notice_error'),
    ]

    operations = [
        migrations.AlterField(
            model_name='historicalscmcycle',
            name='location',
            field=models.CharField(blank=True, max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='location'),
        ),
        migrations.AlterField(
            model_name='historicalscmcycle',
            name='meeting_date',
            field=models.DateField(validators=[rcf.validators.DateInBounds()], verbose_name='meeting date'),
        ),
        migrations.AlterField(
            model_name='historicalscmcycle',
            name='notes',
            field=models.TextField(blank=True, validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='notes'),
        ),
        migrations.AlterField(
            model_name='historicalscmcycle',
            name='readiness_deadline',
            field=models.DateField(blank=True, help_text='Leave empty for the day before the meeting.', null=True, validators=[rcf.validators.DateInBounds()], verbose_name='readiness deadline'),
        ),
        migrations.AlterField(
            model_name='historicalscmcycle',
            name='year',
            field=models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(1950), django.core.validators.MaxValueValidator(2100)], verbose_name='year'),
        ),
        migrations.AlterField(
            model_name='scmcycle',
            name='location',
            field=models.CharField(blank=True, max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='location'),
        ),
        migrations.AlterField(
            model_name='scmcycle',
            name='meeting_date',
            field=models.DateField(validators=[rcf.validators.DateInBounds()], verbose_name='meeting date'),
        ),
        migrations.AlterField(
            model_name='scmcycle',
            name='notes',
            field=models.TextField(blank=True, validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='notes'),
        ),
        migrations.AlterField(
            model_name='scmcycle',
            name='readiness_deadline',
            field=models.DateField(blank=True, help_text='Leave empty for the day before the meeting.', null=True, validators=[rcf.validators.DateInBounds()], verbose_name='readiness deadline'),
        ),
        migrations.AlterField(
            model_name='scmcycle',
            name='year',
            field=models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(1950), django.core.validators.MaxValueValidator(2100)], verbose_name='year'),
        ),
        migrations.RunPython(refuse_out_of_bounds, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(sqlite_triggers_off, sqlite_triggers_on),
        migrations.AddConstraint(
            model_name='scmcycle',
            constraint=models.CheckConstraint(condition=models.Q(('meeting_date__gte', datetime.date(1950, 1, 1)), ('meeting_date__lte', datetime.date(2100, 12, 31))), name='scm_meeting_date_in_bounds'),
        ),
        migrations.AddConstraint(
            model_name='scmcycle',
            constraint=models.CheckConstraint(condition=models.Q(('readiness_deadline__isnull', True), models.Q(('readiness_deadline__gte', datetime.date(1950, 1, 1)), ('readiness_deadline__lte', datetime.date(2100, 12, 31))), _connector='OR'), name='scm_deadline_in_bounds'),
        ),
        migrations.AddConstraint(
            model_name='scmcycle',
            constraint=models.CheckConstraint(condition=models.Q(('year__gte', 1950), ('year__lte', 2100)), name='scm_year_in_bounds'),
        ),
        migrations.RunPython(sqlite_triggers_on, sqlite_triggers_off),
    ]

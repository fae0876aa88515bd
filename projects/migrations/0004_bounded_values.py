"""Issue 9, no 500 from any stored value: text without control characters and
dates within 1950-2100 (rcf/validators.py) on every field users and sync
clients set, the dates backed by CHECK constraints. Only validators change
on the fields (no schema change); a stored date outside the bounds stops the
migration with a list of the rows to correct."""

import datetime
import importlib

import rcf.sync
import rcf.validators
from django.db import migrations, models


# SQLite adds a CHECK constraint by rebuilding the table, which drops the
# table's triggers and fails while another table's trigger names it: the
# triggers are taken off around the rebuild and put back as they were.
LEAD_POC_SIDES = importlib.import_module("projects.migrations.0002_lead_poc_side_triggers")
SYNCED_TABLES = ("projects_cooperativeproject", "projects_engagement")


def sqlite_triggers_off(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        LEAD_POC_SIDES.down(apps, schema_editor)
        for table in SYNCED_TABLES:
            for statement in rcf.sync._down(table, "sqlite"):
                schema_editor.execute(statement)


def sqlite_triggers_on(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        LEAD_POC_SIDES.up(apps, schema_editor)
        for table in SYNCED_TABLES:
            for statement in rcf.sync._sqlite_up(table):
                schema_editor.execute(statement)


def refuse_out_of_bounds(apps, schema_editor):
    rcf.validators.refuse_stored_dates_out_of_bounds(apps, [
        ("projects", "CooperativeProject", ["start_date", "end_date", "ready_on"]),
        ("projects", "ProjectTransition", ["ready_on"]),
        ("projects", "Engagement", ["date"]),
    ])


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0003_sync_triggers'),
    ]

    operations = [
        migrations.AlterField(
            model_name='cooperativeproject',
            name='channel',
            field=models.CharField(blank=True, help_text='The government channel through which the concept was presented.', max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='government channel'),
        ),
        migrations.AlterField(
            model_name='cooperativeproject',
            name='complementary_efforts',
            field=models.TextField(blank=True, help_text='What like-minded countries are doing in the region that this project complements.', validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='complementary efforts'),
        ),
        migrations.AlterField(
            model_name='cooperativeproject',
            name='end_date',
            field=models.DateField(blank=True, null=True, validators=[rcf.validators.DateInBounds()], verbose_name='end date'),
        ),
        migrations.AlterField(
            model_name='cooperativeproject',
            name='external_id',
            field=models.CharField(blank=True, default='', help_text='Identifier given by a sync client; unique when set.', max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='external id'),
        ),
        migrations.AlterField(
            model_name='cooperativeproject',
            name='ready_on',
            field=models.DateField(blank=True, db_index=True, editable=False, null=True, validators=[rcf.validators.DateInBounds()], verbose_name='ready on'),
        ),
        migrations.AlterField(
            model_name='cooperativeproject',
            name='resources_note',
            field=models.TextField(blank=True, help_text='Source of the public sector resources.', validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='resources note'),
        ),
        migrations.AlterField(
            model_name='cooperativeproject',
            name='start_date',
            field=models.DateField(blank=True, null=True, validators=[rcf.validators.DateInBounds()], verbose_name='start date'),
        ),
        migrations.AlterField(
            model_name='cooperativeproject',
            name='summary',
            field=models.TextField(blank=True, validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='summary'),
        ),
        migrations.AlterField(
            model_name='cooperativeproject',
            name='title',
            field=models.CharField(max_length=300, validators=[rcf.validators.NoControlCharacters()], verbose_name='title'),
        ),
        migrations.AlterField(
            model_name='engagement',
            name='date',
            field=models.DateField(validators=[rcf.validators.DateInBounds()], verbose_name='date'),
        ),
        migrations.AlterField(
            model_name='engagement',
            name='location',
            field=models.CharField(blank=True, max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='location'),
        ),
        migrations.AlterField(
            model_name='engagement',
            name='summary',
            field=models.TextField(validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='summary'),
        ),
        migrations.AlterField(
            model_name='historicalcooperativeproject',
            name='channel',
            field=models.CharField(blank=True, help_text='The government channel through which the concept was presented.', max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='government channel'),
        ),
        migrations.AlterField(
            model_name='historicalcooperativeproject',
            name='complementary_efforts',
            field=models.TextField(blank=True, help_text='What like-minded countries are doing in the region that this project complements.', validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='complementary efforts'),
        ),
        migrations.AlterField(
            model_name='historicalcooperativeproject',
            name='end_date',
            field=models.DateField(blank=True, null=True, validators=[rcf.validators.DateInBounds()], verbose_name='end date'),
        ),
        migrations.AlterField(
            model_name='historicalcooperativeproject',
            name='external_id',
            field=models.CharField(blank=True, default='', help_text='Identifier given by a sync client; unique when set.', max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='external id'),
        ),
        migrations.AlterField(
            model_name='historicalcooperativeproject',
            name='ready_on',
            field=models.DateField(blank=True, db_index=True, editable=False, null=True, validators=[rcf.validators.DateInBounds()], verbose_name='ready on'),
        ),
        migrations.AlterField(
            model_name='historicalcooperativeproject',
            name='resources_note',
            field=models.TextField(blank=True, help_text='Source of the public sector resources.', validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='resources note'),
        ),
        migrations.AlterField(
            model_name='historicalcooperativeproject',
            name='start_date',
            field=models.DateField(blank=True, null=True, validators=[rcf.validators.DateInBounds()], verbose_name='start date'),
        ),
        migrations.AlterField(
            model_name='historicalcooperativeproject',
            name='summary',
            field=models.TextField(blank=True, validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='summary'),
        ),
        migrations.AlterField(
            model_name='historicalcooperativeproject',
            name='title',
            field=models.CharField(max_length=300, validators=[rcf.validators.NoControlCharacters()], verbose_name='title'),
        ),
        migrations.AlterField(
            model_name='historicalengagement',
            name='date',
            field=models.DateField(validators=[rcf.validators.DateInBounds()], verbose_name='date'),
        ),
        migrations.AlterField(
            model_name='historicalengagement',
            name='location',
            field=models.CharField(blank=True, max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='location'),
        ),
        migrations.AlterField(
            model_name='historicalengagement',
            name='summary',
            field=models.TextField(validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='summary'),
        ),
        migrations.AlterField(
            model_name='projecttransition',
            name='note',
            field=models.TextField(blank=True, validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='note'),
        ),
        migrations.AlterField(
            model_name='projecttransition',
            name='ready_on',
            field=models.DateField(blank=True, null=True, validators=[rcf.validators.DateInBounds()], verbose_name='ready on'),
        ),
        migrations.RunPython(refuse_out_of_bounds, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(sqlite_triggers_off, sqlite_triggers_on),
        migrations.AddConstraint(
            model_name='cooperativeproject',
            constraint=models.CheckConstraint(condition=models.Q(('start_date__isnull', True), models.Q(('start_date__gte', datetime.date(1950, 1, 1)), ('start_date__lte', datetime.date(2100, 12, 31))), _connector='OR'), name='project_start_date_in_bounds'),
        ),
        migrations.AddConstraint(
            model_name='cooperativeproject',
            constraint=models.CheckConstraint(condition=models.Q(('end_date__isnull', True), models.Q(('end_date__gte', datetime.date(1950, 1, 1)), ('end_date__lte', datetime.date(2100, 12, 31))), _connector='OR'), name='project_end_date_in_bounds'),
        ),
        migrations.AddConstraint(
            model_name='cooperativeproject',
            constraint=models.CheckConstraint(condition=models.Q(('ready_on__isnull', True), models.Q(('ready_on__gte', datetime.date(1950, 1, 1)), ('ready_on__lte', datetime.date(2100, 12, 31))), _connector='OR'), name='project_ready_on_in_bounds'),
        ),
        migrations.AddConstraint(
            model_name='engagement',
            constraint=models.CheckConstraint(condition=models.Q(('date__gte', datetime.date(1950, 1, 1)), ('date__lte', datetime.date(2100, 12, 31))), name='engagement_date_in_bounds'),
        ),
        migrations.AddConstraint(
            model_name='projecttransition',
            constraint=models.CheckConstraint(condition=models.Q(('ready_on__isnull', True), models.Q(('ready_on__gte', datetime.date(1950, 1, 1)), ('ready_on__lte', datetime.date(2100, 12, 31))), _connector='OR'), name='transition_ready_on_in_bounds'),
        ),
        migrations.RunPython(sqlite_triggers_on, sqlite_triggers_off),
    ]

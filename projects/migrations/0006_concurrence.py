"""Joint concurrence (issue 10): a lead POC's proposal to prioritise a project
or declare it ready, and the other side's answer. A tracked, synced record:
sync stamps (rcf.sync) and the version guard (rcf.version_guard) on its table."""

import datetime

import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

import rcf.validators
from rcf.sync import install_sync_triggers
from rcf.version_guard import install_version_guard


class Migration(migrations.Migration):

    dependencies = [
        ("projects", "0005_version_guard"),
        ("contacts", "0005_lead_logins"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalConcurrence',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('version', models.PositiveIntegerField(default=1, editable=False, verbose_name='version')),
                ('created_at', models.DateTimeField(blank=True, db_index=True, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(blank=True, db_index=True, editable=False, verbose_name='updated at')),
                ('deleted_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='deleted at')),
                ('sync_txid', models.BigIntegerField(default=0, editable=False)),
                ('step', models.CharField(choices=[('prioritized', 'Prioritised'), ('ready', 'Ready')], max_length=20, verbose_name='step')),
                ('from_status', models.CharField(choices=[('concept', 'Concept'), ('under_review', 'Under review'), ('prioritized', 'Prioritised'), ('ready', 'Ready'), ('presented', 'Presented'), ('in_implementation', 'In implementation'), ('completed', 'Completed'), ('on_hold', 'On hold'), ('withdrawn', 'Withdrawn')], editable=False, help_text='A proposal made for a project that has since moved is stale.', max_length=20, verbose_name='status when proposed')),
                ('project_version', models.PositiveIntegerField(editable=False, verbose_name='project version when proposed')),
                ('priority', models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(5)], verbose_name='proposed priority')),
                ('ready_on', models.DateField(blank=True, help_text='A backfill date; empty: the day the other side concurs.', null=True, validators=[rcf.validators.DateInBounds()], verbose_name='proposed ready date')),
                ('side', models.CharField(choices=[('us', 'U.S.'), ('rok', 'ROK')], max_length=3, verbose_name='proposing side')),
                ('proposed_at', models.DateTimeField(blank=True, editable=False, verbose_name='proposed at')),
                ('note', models.TextField(blank=True, validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='note')),
                ('concurred_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='concurred at')),
                ('declined_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='declined at')),
                ('withdrawn_at', models.DateTimeField(blank=True, editable=False, help_text='Withdrawn by the proposing side, or closed because the project moved on.', null=True, verbose_name='withdrawn at')),
                ('response_note', models.TextField(blank=True, help_text='Why it was declined (required), or a note with the concurrence.', validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='reply note')),
                ('changes', models.JSONField(blank=True, default=list, editable=False, help_text="Changes to the project's lead POCs, partner countries or summary made while it was open.", verbose_name='changes while open')),
                ('reminded_at', models.DateTimeField(blank=True, editable=False, help_text="When the other side's lead POCs were reminded of it (once per proposal).", null=True, verbose_name='reminder sent at')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('concurred_by', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='concurred by')),
                ('declined_by', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='declined by')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('project', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='projects.cooperativeproject', verbose_name='project')),
                ('proposed_by', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='proposed by')),
                ('proposer_poc', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='contacts.pointofcontact', verbose_name='proposing lead POC')),
            ],
            options={
                'verbose_name': 'historical concurrence',
                'verbose_name_plural': 'historical concurrences',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='Concurrence',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.PositiveIntegerField(default=1, editable=False, verbose_name='version')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, db_index=True, verbose_name='updated at')),
                ('deleted_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='deleted at')),
                ('sync_txid', models.BigIntegerField(default=0, editable=False)),
                ('step', models.CharField(choices=[('prioritized', 'Prioritised'), ('ready', 'Ready')], max_length=20, verbose_name='step')),
                ('from_status', models.CharField(choices=[('concept', 'Concept'), ('under_review', 'Under review'), ('prioritized', 'Prioritised'), ('ready', 'Ready'), ('presented', 'Presented'), ('in_implementation', 'In implementation'), ('completed', 'Completed'), ('on_hold', 'On hold'), ('withdrawn', 'Withdrawn')], editable=False, help_text='A proposal made for a project that has since moved is stale.', max_length=20, verbose_name='status when proposed')),
                ('project_version', models.PositiveIntegerField(editable=False, verbose_name='project version when proposed')),
                ('priority', models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(5)], verbose_name='proposed priority')),
                ('ready_on', models.DateField(blank=True, help_text='A backfill date; empty: the day the other side concurs.', null=True, validators=[rcf.validators.DateInBounds()], verbose_name='proposed ready date')),
                ('side', models.CharField(choices=[('us', 'U.S.'), ('rok', 'ROK')], max_length=3, verbose_name='proposing side')),
                ('proposed_at', models.DateTimeField(auto_now_add=True, verbose_name='proposed at')),
                ('note', models.TextField(blank=True, validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='note')),
                ('concurred_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='concurred at')),
                ('declined_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='declined at')),
                ('withdrawn_at', models.DateTimeField(blank=True, editable=False, help_text='Withdrawn by the proposing side, or closed because the project moved on.', null=True, verbose_name='withdrawn at')),
                ('response_note', models.TextField(blank=True, help_text='Why it was declined (required), or a note with the concurrence.', validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='reply note')),
                ('changes', models.JSONField(blank=True, default=list, editable=False, help_text="Changes to the project's lead POCs, partner countries or summary made while it was open.", verbose_name='changes while open')),
                ('reminded_at', models.DateTimeField(blank=True, editable=False, help_text="When the other side's lead POCs were reminded of it (once per proposal).", null=True, verbose_name='reminder sent at')),
                ('concurred_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='concurred by')),
                ('declined_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='declined by')),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='concurrences', to='projects.cooperativeproject', verbose_name='project')),
                ('proposed_by', models.ForeignKey(editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='proposed by')),
                ('proposer_poc', models.ForeignKey(editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contacts.pointofcontact', verbose_name='proposing lead POC')),
            ],
            options={
                'verbose_name': 'concurrence',
                'verbose_name_plural': 'concurrences',
                'ordering': ['-proposed_at', '-id'],
                'indexes': [models.Index(fields=['sync_txid', 'id'], name='concurrence_sync')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('concurred_at__isnull', True), ('declined_at__isnull', True), ('deleted_at__isnull', True), ('withdrawn_at__isnull', True)), fields=('project', 'step'), name='concurrence_one_open_per_project_step', violation_error_message='A proposal for this step of this project is already open.'), models.CheckConstraint(condition=models.Q(('step__in', ['prioritized', 'ready'])), name='concurrence_step_valid'), models.CheckConstraint(condition=models.Q(('side__in', ['us', 'rok'])), name='concurrence_side_valid'), models.CheckConstraint(condition=models.Q(('priority__isnull', True), models.Q(('priority__gte', 1), ('priority__lte', 5)), _connector='OR'), name='concurrence_priority_1_to_5'), models.CheckConstraint(condition=models.Q(models.Q(('step', 'prioritized'), _negated=True), models.Q(('priority__isnull', False), ('ready_on__isnull', True)), _connector='OR'), name='concurrence_prioritized_has_priority'), models.CheckConstraint(condition=models.Q(models.Q(('concurred_at__isnull', True), ('declined_at__isnull', True)), models.Q(('concurred_at__isnull', True), ('withdrawn_at__isnull', True)), models.Q(('declined_at__isnull', True), ('withdrawn_at__isnull', True)), _connector='OR'), name='concurrence_closed_once'), models.CheckConstraint(condition=models.Q(('ready_on__isnull', True), models.Q(('ready_on__gte', datetime.date(1950, 1, 1)), ('ready_on__lte', datetime.date(2100, 12, 31))), _connector='OR'), name='concurrence_ready_on_in_bounds'), models.CheckConstraint(condition=models.Q(('version__gte', 1)), name='concurrence_version_positive')],
            },
        ),
        install_sync_triggers("projects_concurrence"),
        install_version_guard("projects_concurrence"),
    ]

"""Issue 10: which SCM a project was presented at, and what was decided there
(scm_reports.SCMPresentation), with history, sync stamps and the version guard."""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

import rcf.validators
from rcf.sync import install_sync_triggers
from rcf.version_guard import install_version_guard


class Migration(migrations.Migration):
    dependencies = [
        ("scm_reports", "0007_version_guard"),
        ("projects", "0005_version_guard"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalSCMPresentation',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('version', models.PositiveIntegerField(default=1, editable=False, verbose_name='version')),
                ('created_at', models.DateTimeField(blank=True, db_index=True, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(blank=True, db_index=True, editable=False, verbose_name='updated at')),
                ('deleted_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='deleted at')),
                ('sync_txid', models.BigIntegerField(default=0, editable=False)),
                ('outcome', models.CharField(choices=[('endorsed', 'Endorsed'), ('noted', 'Noted'), ('deferred', 'Deferred'), ('declined', 'Declined')], max_length=20, verbose_name='outcome')),
                ('note', models.TextField(blank=True, validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='decision note')),
                ('recorded_at', models.DateTimeField(blank=True, editable=False, verbose_name='recorded at')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('project', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='projects.cooperativeproject', verbose_name='project')),
                ('recorded_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recorded by')),
                ('scm_cycle', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='scm_reports.scmcycle', verbose_name='SCM')),
            ],
            options={
                'verbose_name': 'historical SCM presentation',
                'verbose_name_plural': 'historical SCM presentations',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='SCMPresentation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.PositiveIntegerField(default=1, editable=False, verbose_name='version')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, db_index=True, verbose_name='updated at')),
                ('deleted_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='deleted at')),
                ('sync_txid', models.BigIntegerField(default=0, editable=False)),
                ('outcome', models.CharField(choices=[('endorsed', 'Endorsed'), ('noted', 'Noted'), ('deferred', 'Deferred'), ('declined', 'Declined')], max_length=20, verbose_name='outcome')),
                ('note', models.TextField(blank=True, validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='decision note')),
                ('recorded_at', models.DateTimeField(auto_now_add=True, verbose_name='recorded at')),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='scm_presentations', to='projects.cooperativeproject', verbose_name='project')),
                ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recorded by')),
                ('scm_cycle', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='presentations', to='scm_reports.scmcycle', verbose_name='SCM')),
            ],
            options={
                'verbose_name': 'SCM presentation',
                'verbose_name_plural': 'SCM presentations',
                'ordering': ['scm_cycle__year', 'id'],
                'indexes': [models.Index(fields=['sync_txid', 'id'], name='presentation_sync')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('deleted_at__isnull', True)), fields=('project', 'scm_cycle'), name='presentation_once_per_project_and_scm', violation_error_message="This project's presentation at this SCM is already recorded."), models.CheckConstraint(condition=models.Q(('outcome__in', ['endorsed', 'noted', 'deferred', 'declined'])), name='presentation_outcome_valid')],
            },
        ),
        install_sync_triggers("scm_reports_scmpresentation"),
        install_version_guard("scm_reports_scmpresentation"),
    ]

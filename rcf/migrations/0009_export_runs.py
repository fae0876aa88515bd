"""Export runs (rcf.export_jobs), issue 14: large exports and the SCM report PDF made in the background."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rcf", "0008_webhook_fixes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ExportRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=30, verbose_name='kind')),
                ('fmt', models.CharField(max_length=10, verbose_name='format')),
                ('params', models.JSONField(blank=True, default=dict, verbose_name='parameters')),
                ('language', models.CharField(blank=True, help_text="The requester's: the file and the e-mail are in it.", max_length=10, verbose_name='language')),
                ('file_name', models.CharField(max_length=200, verbose_name='file name')),
                ('stored_name', models.CharField(max_length=64, unique=True, verbose_name='stored file')),
                ('status', models.CharField(choices=[('queued', 'Waiting for the worker'), ('running', 'Being made'), ('done', 'Ready to download'), ('failed', 'Failed')], default='queued', max_length=10, verbose_name='status')),
                ('stage', models.CharField(blank=True, max_length=20, verbose_name='stage')),
                ('rows_total', models.PositiveIntegerField(blank=True, null=True, verbose_name='rows in all')),
                ('rows_done', models.PositiveIntegerField(default=0, verbose_name='rows done')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='started at')),
                ('heartbeat_at', models.DateTimeField(blank=True, null=True, verbose_name='last sign of life')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                ('seen_at', models.DateTimeField(blank=True, null=True, verbose_name='last seen on its page')),
                ('mailed_at', models.DateTimeField(blank=True, null=True, verbose_name='e-mailed at')),
                ('error', models.TextField(blank=True, verbose_name='error')),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
            ],
            options={
                'verbose_name': 'export run',
                'verbose_name_plural': 'export runs',
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['created_by', '-created_at'], name='export_run_mine')],
                'constraints': [models.CheckConstraint(condition=models.Q(('status__in', ['queued', 'running', 'done', 'failed'])), name='export_run_status_valid')],
            },
        ),
    ]

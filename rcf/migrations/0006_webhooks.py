"""Webhooks (rcf.webhooks), issue 13: endpoints and their delivery log."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('rcf', '0005_outbox'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('url', models.URLField(max_length=2000, verbose_name='URL')),
                ('description', models.CharField(blank=True, max_length=200, verbose_name='description')),
                ('events', models.JSONField(default=list, help_text='The event names it receives.', verbose_name='events')),
                ('secret', models.CharField(editable=False, max_length=100, verbose_name='secret')),
                ('previous_secret', models.CharField(blank=True, editable=False, max_length=100, verbose_name='previous secret')),
                ('previous_secret_expires_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='previous secret valid until')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
                ('disabled_reason', models.TextField(blank=True, verbose_name='why it was disabled')),
                ('disabled_at', models.DateTimeField(blank=True, null=True, verbose_name='disabled at')),
                ('failing_since', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='failing since')),
                ('admin_email', models.EmailField(blank=True, help_text='Told when the endpoint is disabled after failing (default: whoever created it).', max_length=254, verbose_name="administrator's e-mail")),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('locked_until', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='claimed until')),
                ('version', models.PositiveIntegerField(default=1, editable=False, verbose_name='version')),
                ('created_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
            ],
            options={
                'verbose_name': 'webhook endpoint',
                'verbose_name_plural': 'webhook endpoints',
                'ordering': ['id'],
            },
        ),
        migrations.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('event', models.CharField(max_length=64, verbose_name='event')),
                ('webhook_id', models.CharField(max_length=64, unique=True, verbose_name='webhook id')),
                ('resource', models.CharField(max_length=64, verbose_name='resource')),
                ('object_id', models.CharField(max_length=64, verbose_name='record id')),
                ('payload', models.JSONField(verbose_name='payload')),
                ('dedupe_key', models.CharField(blank=True, editable=False, max_length=200)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('failed', 'Failed, will retry'), ('delivered', 'Delivered'), ('gave_up', 'Gave up')], default='pending', max_length=16, verbose_name='status')),
                ('attempts', models.PositiveIntegerField(default=0, verbose_name='attempts')),
                ('response_code', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='response code')),
                ('duration_ms', models.PositiveIntegerField(blank=True, null=True, verbose_name='duration (ms)')),
                ('last_error', models.TextField(blank=True, verbose_name='last error')),
                ('occurred_at', models.DateTimeField(verbose_name='occurred at')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('first_attempt_at', models.DateTimeField(blank=True, null=True, verbose_name='first attempt at')),
                ('last_attempt_at', models.DateTimeField(blank=True, null=True, verbose_name='last attempt at')),
                ('next_attempt_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='next attempt at')),
                ('delivered_at', models.DateTimeField(blank=True, null=True, verbose_name='delivered at')),
                ('endpoint', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='rcf.webhookendpoint', verbose_name='endpoint')),
            ],
            options={
                'verbose_name': 'webhook delivery',
                'verbose_name_plural': 'webhook deliveries',
                'ordering': ['-id'],
                'indexes': [models.Index(condition=models.Q(('status__in', ['pending', 'failed'])), fields=['endpoint', 'id'], name='webhook_delivery_queue')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('dedupe_key', ''), _negated=True), fields=('endpoint', 'event', 'dedupe_key'), name='webhook_delivery_once'), models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'failed', 'delivered', 'gave_up'])), name='webhook_delivery_status_valid')],
            },
        ),
    ]

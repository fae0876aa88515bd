"""The transactional outbox (rcf.outbox), issue 9. No tracked table lives in
rcf, so there is no version guard to install here."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("rcf", "0004_sync_epoch")]
    operations = [
        migrations.CreateModel(
            name="OutboxMessage",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("topic", models.CharField(max_length=100, verbose_name="topic")),
                ("payload", models.JSONField(blank=True, default=dict, verbose_name="payload")),
                ("coalesce_key", models.CharField(blank=True, max_length=200, verbose_name="coalesce key")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                ("available_at", models.DateTimeField(default=django.utils.timezone.now,
                                                      verbose_name="available at")),
                ("locked_until", models.DateTimeField(blank=True, null=True, verbose_name="claimed until")),
                ("attempts", models.PositiveIntegerField(default=0, verbose_name="attempts")),
                ("last_error", models.TextField(blank=True, verbose_name="last error")),
                ("done_at", models.DateTimeField(blank=True, null=True, verbose_name="done at")),
            ],
            options={
                "verbose_name": "outbox message",
                "verbose_name_plural": "outbox messages",
                "ordering": ["available_at", "id"],
                "indexes": [
                    models.Index(condition=models.Q(("done_at__isnull", True)), fields=["available_at", "id"],
                                 name="outbox_undone")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("done_at__isnull", True), ("locked_until__isnull", True),
                                           models.Q(("coalesce_key", ""), _negated=True)),
                        fields=("topic", "coalesce_key"),
                        name="outbox_one_pending_per_key",
                    )
                ],
            },
        ),
    ]

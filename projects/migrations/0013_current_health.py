"""Issue 14: each project keeps its latest live progress update's health and date
(``current_health``, ``current_health_on``), maintained by the progress update
services, so the dashboard's "projects in implementation" panel reads an index.

Both columns are nullable without a default: SQLite adds them with ALTER TABLE
(no table rebuild, so the sync and version-guard triggers stay). The backfill
is one set-based UPDATE; like any write to the table it re-stamps the rows'
``sync_txid`` (sync clients fetch those projects once more, unchanged)."""

from django.db import migrations, models
from django.db.models import Exists, OuterRef, Q, Subquery


def backfill(apps, schema_editor):
    Project = apps.get_model("projects", "CooperativeProject")
    Update = apps.get_model("projects", "ProgressUpdate")
    latest = Update._base_manager.filter(project=OuterRef("pk"), deleted_at__isnull=True).order_by("-date", "-id")
    Project._base_manager.filter(Exists(latest)).update(
        current_health=Subquery(latest.values("health")[:1]), current_health_on=Subquery(latest.values("date")[:1]))


class Migration(migrations.Migration):
    dependencies = [("projects", "0012_dashboard_counts")]

    operations = [
        migrations.AddField(
            model_name="cooperativeproject",
            name="current_health",
            field=models.CharField(blank=True, editable=False, max_length=10, null=True, verbose_name="latest health"),
        ),
        migrations.AddField(
            model_name="cooperativeproject",
            name="current_health_on",
            field=models.DateField(blank=True, editable=False, null=True, verbose_name="latest update"),
        ),
        migrations.AddIndex(
            model_name="cooperativeproject",
            index=models.Index(condition=Q(deleted_at__isnull=True), fields=["status", "priority", "-updated_at", "id"],
                               name="project_live_pipeline"),
        ),
        migrations.AddIndex(
            model_name="cooperativeproject",
            index=models.Index(condition=Q(deleted_at__isnull=True),
                               fields=["status", "current_health", "current_health_on", "title", "id"],
                               name="project_live_health"),
        ),
        migrations.AddIndex(
            model_name="cooperativeproject",
            index=models.Index(condition=Q(deleted_at__isnull=True, status="prioritized"),
                               fields=["priority", "title", "id"], name="project_live_candidates"),
        ),
        # Last: nothing alters the table after this UPDATE in the migration's transaction.
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]

"""Stamp sync_txid on every write to projects and engagements (see rcf.sync)."""

from django.db import migrations

from rcf.sync import install_sync_triggers


class Migration(migrations.Migration):
    dependencies = [("projects", "0002_lead_poc_side_triggers"), ("rcf", "0002_seed_reference_data")]
    operations = [install_sync_triggers("projects_cooperativeproject", "projects_engagement")]

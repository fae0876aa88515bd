"""Stamp sync_txid on every write to SCM cycles (see rcf.sync)."""

from django.db import migrations

from rcf.sync import install_sync_triggers


class Migration(migrations.Migration):
    dependencies = [("scm_reports", "0002_seed_scm_cycles"), ("rcf", "0002_seed_reference_data")]
    operations = [install_sync_triggers("scm_reports_scmcycle")]

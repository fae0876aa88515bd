"""Stamp sync_txid on every write to organisations and points of contact (see rcf.sync)."""

from django.db import migrations

from rcf.sync import install_sync_triggers


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial"), ("rcf", "0002_seed_reference_data")]
    operations = [install_sync_triggers("contacts_organization", "contacts_pointofcontact")]

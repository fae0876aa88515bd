"""A record's version only ever increases (rcf.version_guard), issue 9."""

from django.db import migrations

from rcf.version_guard import install_version_guard


class Migration(migrations.Migration):
    dependencies = [("contacts", "0003_bounded_values")]
    operations = [install_version_guard("contacts_organization", "contacts_pointofcontact")]

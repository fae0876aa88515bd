"""Lead POCs are people of a side (issue 10): administrators alone designate
leads and link logins to POCs, through a permission of their own. Changing
Meta options rebuilds nothing (no trigger is lost on SQLite)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("contacts", "0004_version_guard")]
    operations = [
        migrations.AlterModelOptions(
            name="pointofcontact",
            options={
                "ordering": ["side", "-is_lead", "full_name"],
                "permissions": [("designate_lead_pointofcontact", "Can designate lead POCs and link logins to POCs")],
                "verbose_name": "point of contact",
                "verbose_name_plural": "points of contact",
            },
        ),
    ]

# Placeholder for issue 14 (filled in by the change that owns it).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("contacts", "0007_weekly_digest")]

    operations = []

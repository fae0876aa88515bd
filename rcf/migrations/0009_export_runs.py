# Placeholder for issue 14 (filled in by the change that owns it).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("rcf", "0008_webhook_fixes")]

    operations = []

"""Issue 9: a record's version only ever increases (rcf.version_guard), and
each notice e-mail records its attempts before it is sent."""

from django.db import migrations, models

from rcf.version_guard import install_version_guard


def existing_notices_were_one_attempt(apps, schema_editor):
    # Notices recorded before this migration were recorded with their one
    # successful (or refused) attempt.
    ReadinessNotice = apps.get_model("scm_reports", "ReadinessNotice")
    ReadinessNotice.objects.filter(attempts=0).update(attempts=1, last_attempt_at=models.F("sent_at"))


class Migration(migrations.Migration):
    dependencies = [("scm_reports", "0006_bounded_values")]
    operations = [
        migrations.AddField(
            model_name="readinessnotice",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="readinessnotice",
            name="last_attempt_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="readinessnotice",
            name="sending_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="readinessnotice",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(existing_notices_were_one_attempt, migrations.RunPython.noop),
        install_version_guard("scm_reports_scmcycle"),
    ]

"""Issue 10: a readiness flag is rendered from its data in the reader's
language (scm_reports.flag_text), not stored as an English sentence. The flag
keeps the deadline it was raised against and, for a year with no SCM
recorded, how many ready projects wait for it. ``detail`` stays for the
sentences earlier releases wrote; nothing writes or shows it any more.

ReadinessFlag is not a tracked model (no sync or version triggers), so
SQLite's table rebuild for the new NOT NULL column loses nothing."""

from django.db import migrations, models

from rcf.validators import shift_date


def backfill_deadlines(apps, schema_editor):
    """Flags raised before this release: the deadline of their cycle as it stands."""
    ReadinessFlag = apps.get_model("scm_reports", "ReadinessFlag")
    for flag in ReadinessFlag.objects.filter(scm_cycle__isnull=False, deadline__isnull=True).select_related(
            "scm_cycle"):
        cycle = flag.scm_cycle
        flag.deadline = cycle.readiness_deadline or shift_date(cycle.meeting_date, -1)
        flag.save(update_fields=["deadline"])


class Migration(migrations.Migration):
    dependencies = [("scm_reports", "0008_presentations")]
    operations = [
        migrations.AddField(
            model_name="readinessflag",
            name="counting_projects",
            field=models.PositiveIntegerField(
                default=0,
                help_text="For a year with no SCM recorded: the ready projects waiting for it (kept current while "
                          "open).",
                verbose_name="ready projects waiting",
            ),
        ),
        migrations.AddField(
            model_name="readinessflag",
            name="deadline",
            field=models.DateField(blank=True, null=True, verbose_name="readiness deadline"),
        ),
        migrations.AlterField(
            model_name="readinessflag",
            name="detail",
            field=models.TextField(blank=True, editable=False,
                                   verbose_name="detail (English text of earlier releases)"),
        ),
        migrations.RunPython(backfill_deadlines, migrations.RunPython.noop),
    ]

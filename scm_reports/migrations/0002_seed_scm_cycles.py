"""The 49th-57th SCM (dates and places from DOMAIN.md). Editable data: the
meeting date moves every year and is never assumed."""

from django.db import migrations

SCM_CYCLES = [
    (49, "2017-10-28", "Seoul"),
    (50, "2018-10-31", "Washington"),
    (51, "2019-11-15", "Seoul"),
    (52, "2020-10-14", "Washington"),
    (53, "2021-12-02", "Seoul"),
    (54, "2022-11-03", "Washington"),
    (55, "2023-11-13", "Seoul"),
    (56, "2024-10-30", "Washington", "The Regional Cooperation Framework was launched at this meeting."),
    (57, "2025-11-04", "Seoul"),
]


def seed(apps, schema_editor):
    SCMCycle = apps.get_model("scm_reports", "SCMCycle")
    for number, day, place, *notes in SCM_CYCLES:
        SCMCycle.objects.get_or_create(
            number=number,
            defaults={
                "year": int(day[:4]),
                "meeting_date": day,
                "location": place,
                "notes": notes[0] if notes else "",
            },
        )


class Migration(migrations.Migration):
    dependencies = [("scm_reports", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

"""Run the readiness job by hand: the same code as the daily Celery task."""


from django.core.management.base import BaseCommand

from rcf.management.job_options import add_job_options, job_today, json_dumps
from scm_reports import services
from scm_reports.tasks import readiness_notices_dispatch


class Command(BaseCommand):
    help = ("Flag every year with no project ready before its SCM (missed, at risk, unscheduled), "
            "resolve flags that no longer hold, and queue notices to lead POCs.")

    def add_arguments(self, parser):
        add_job_options(parser, today_help="Evaluate as of this date (YYYY-MM-DD); default: today in RCF_TIME_ZONE.")

    def handle(self, *args, today=None, dry_run=False, json=False, **options):
        day = job_today(today)
        result = services.readiness_flags_sync(today=day, dry_run=dry_run, with_project_ids=True)
        queued = 0 if dry_run else readiness_notices_dispatch()
        if json:
            self.stdout.write(_jsonjson_dumps(result))
            return
        self._table(result, dry_run=dry_run, queued=queued)

    def _table(self, result, *, dry_run, queued):
        w = self.stdout.write
        w(f"Readiness as of {result['today']}" + (" (dry run: nothing written)" if dry_run else ""))
        w(f"{'year':<6}{'SCM':<6}{'meeting':<12}{'deadline':<12}{'days':>6}  {'state':<12}projects")
        for y in result["years"]:
            w(
                f"{y['year']:<6}{y['scm_number'] or '-':<6}{y['meeting_date'] or '-':<12}"
                f"{y['deadline'] or '-':<12}{'' if y['days_left'] is None else y['days_left']:>6}  "
                f"{y['state']:<12}{y['counting_projects']}"
            )
        verb = "would raise" if dry_run else "raised"
        w(f"Flags {verb}: " + (", ".join(f"{f['year']} {f['kind']}" for f in result["raised"]) or "none"))
        verb = "would resolve" if dry_run else "resolved"
        w(f"Flags {verb}: " + (", ".join(f"{f['year']} {f['kind']}" for f in result["resolved"]) or "none"))
        if not dry_run:
            w(f"Notice tasks queued: {queued}")


def _jsonjson_dumps(result) -> str:
    payload = {
        "today": result["today"],
        "years": [
            {k: y[k] for k in ("year", "scm_number", "meeting_date", "deadline", "state", "counting_projects",
                               "counting_project_ids")}
            for y in result["years"]
        ],
        "raised": result["raised"],
        "resolved": result["resolved"],
    }
    return json_dumps(payload)

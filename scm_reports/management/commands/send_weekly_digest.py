"""Send the weekly digest to lead POCs by hand: the same code as the Celery beat task."""


from django.core.management.base import BaseCommand, CommandError

from rcf.management.job_options import add_job_options, job_today, json_dumps
from scm_reports import services
from scm_reports.digest import week_start


class Command(BaseCommand):
    help = ("E-mail each active lead POC (with an address, not opted out) this week's digest, once per POC "
            "and week: a second run the same week sends only what the first could not.")

    def add_arguments(self, parser):
        add_job_options(parser, today_help="Send as of this date (YYYY-MM-DD); the digest is for its "
                                                "week (from Monday). Default: today in RCF_TIME_ZONE.")

    def handle(self, *args, today=None, dry_run=False, json=False, **options):
        day = job_today(today)
        report = services.weekly_digest_send(today=day, dry_run=dry_run)
        if json:
            self.stdout.write(json_dumps({"today": day.isoformat(), "week_of": week_start(day).isoformat(),
                                      "dry_run": dry_run, "digests": report}))
        else:
            self._table(day, report, dry_run=dry_run)
        if any(r.get("error") for r in report):
            raise CommandError("Some digests were not sent (the mail server failed); run the command again to "
                               "retry them.")

    def _table(self, day, report, *, dry_run):
        verb = "would be sent" if dry_run else "sent"
        self.stdout.write(f"Weekly digest, week of {week_start(day).isoformat()}: "
                          f"{sum(1 for r in report if not r.get('error'))} {verb}.")
        for row in report:
            items = ", ".join(f"{k} {v}" for k, v in row["items"].items())
            status = f"FAILED: {row['error']}" if row.get("error") else row["language"]
            self.stdout.write(f"  {row['email']:<40} {status:<8} {items}")


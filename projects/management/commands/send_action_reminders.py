"""Send the daily action reminders by hand: the same service as the daily job
(``scm_reports.tasks.flag_unready_years``)."""


from django.core.management.base import BaseCommand, CommandError

from projects.models import ActionReminder
from projects.services import action_reminders_send
from rcf.management.job_options import add_job_options, job_today, json_dumps


class Command(BaseCommand):
    help = ("E-mail each owner one reminder listing all their open actions overdue or due within "
            "RCF_ACTION_DUE_SOON_DAYS days (and, for lead POCs, their projects' overdue milestones); at most once "
            "a day: a second run the same day sends only what the first could not.")

    def add_arguments(self, parser):
        add_job_options(
            parser, today_help="Remind as of this date (YYYY-MM-DD). Default: today in RCF_TIME_ZONE.",
            json_help='Print {"today": ..., "reminders": [{"poc_id", "email", "action_ids", "milestone_ids"}]}: '
                      "what was sent (with --dry-run, what would be).")

    def handle(self, *args, today=None, dry_run=False, json=False, **options):
        day = job_today(today)
        report = action_reminders_send(today=day, dry_run=dry_run)
        if json:
            self.stdout.write(json_dumps({"today": day.isoformat(), "reminders": report}))
        else:
            verb = "would be sent" if dry_run else "sent"
            self.stdout.write(f"Action reminders for {day.isoformat()}: {len(report)} {verb}.")
            for row in report:
                self.stdout.write(f"  {row['email']:<40} actions {row['action_ids']} "
                                  f"milestones {row['milestone_ids']}")
        if not dry_run:
            failed = list(ActionReminder.objects.filter(day=day, sent_at__isnull=True).exclude(error="")
                          .values_list("email", flat=True))
            if failed:
                raise CommandError(f"Not sent (the mail server failed): {', '.join(failed)}. Run the command "
                                   "again to retry them.")


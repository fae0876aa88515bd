"""``manage.py rebuild_dashboard_counts [--check]``: the dashboard's summary rows (projects.counts).

Without options: count every figure from scratch and replace the rows, in one transaction. ``--check``: write
nothing; list the rows whose stored figure differs from a count from scratch and exit 1 if any does."""

import logging
import sys

from django.core.management.base import BaseCommand

from projects import counts

logger = logging.getLogger("projects.counts")


class Command(BaseCommand):
    help = ("Rebuild the dashboard's summary rows from the projects (one transaction); --check reports drift "
            "(stored vs actual) without writing and exits 1 when there is any.")

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Report drift and exit 1 if any; write nothing.")
        parser.add_argument("--limit", type=int, default=50, help="Drifting rows printed with --check (default 50).")

    def handle(self, *args, check=False, limit=50, verbosity=1, **options):
        if not check:
            written = counts.rebuild()
            if verbosity:
                self.stdout.write(f"Rebuilt the dashboard's summary rows: {written} row(s).")
            return
        drift = counts.drift()
        if not drift:
            if verbosity:
                self.stdout.write("No drift: every summary row equals a count from scratch.")
            return
        for row in drift[:limit]:
            metric, area, year, side, key, day = row["key"]
            self.stdout.write(
                f"{metric} area={area} year={year} side={side or '-'} key={key or '-'} day={day}: "
                f"stored n={row['stored'][0]} amount={row['stored'][1]}, "
                f"actual n={row['actual'][0]} amount={row['actual'][1]}")
        if len(drift) > limit:
            self.stdout.write(f"... and {len(drift) - limit} more.")
        logger.error("Dashboard summary rows drift: %d row(s) differ from a count from scratch; "
                     "run manage.py rebuild_dashboard_counts.", len(drift))
        self.stderr.write(f"{len(drift)} summary row(s) drift: run manage.py rebuild_dashboard_counts to repair.")
        sys.exit(1)

"""Load the sample data set and make sure the demo logins exist (local runs)."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from scm_reports import services


class Command(BaseCommand):
    help = "Load the labelled sample data set and the demo logins (idempotent; not for production)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD", "rcf-demo-2026"),
            help="Password for every demo login (default: $DEMO_PASSWORD or rcf-demo-2026).",
        )

    def handle(self, *args, password, **options):
        if settings.IS_PRODUCTION:
            raise CommandError("seed_demo refuses to run with DJANGO_ENV=production: demo logins "
                               "have a published password.")
        if len(password) < 8:
            raise CommandError("--password must be at least 8 characters long.")
        logins = services.demo_logins_ensure(password=password)
        result = services.sample_data_load()
        self.stdout.write(f"Sample data: {result['projects_created']} project(s) created "
                          "(records labelled '[Sample]').")
        self.stdout.write(f"Demo logins (password: {password}):")
        for username, role in logins:
            self.stdout.write(f"  {username:<8} {role}")

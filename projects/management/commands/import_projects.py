"""``manage.py import_projects FILE [--dry-run] [--by USERNAME]``: the page's import (/projects/import/) from
the command line; prints each row's plan and errors, exits non-zero (and writes nothing) on any error."""

from django.core.management.base import BaseCommand

from projects.imports import ProjectImporter
from rcf.imports import run_command, user_by_name


class Command(BaseCommand):
    help = ("Import projects from an XLSX or CSV file in the shape of the project export: rows match by external "
            "id (or ID), new rows create, the others update; all rows in one transaction or none.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="An .xlsx or .csv file.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; write nothing.")
        parser.add_argument("--by", metavar="USERNAME", help="Act as this login (its permissions apply).")

    def handle(self, *args, file, dry_run=False, by=None, **options):
        run_command(self, ProjectImporter(by=user_by_name(by)), path=file, dry_run=dry_run)

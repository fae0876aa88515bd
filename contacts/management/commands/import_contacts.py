"""``manage.py import_contacts FILE [--dry-run] [--by USERNAME]``: the page's import (/contacts/import/) from
the command line: points of contact or organisations (the file's header tells which). Prints each row's plan
and errors; exits non-zero (and writes nothing) on any error."""

from django.core.management.base import BaseCommand, CommandError

from contacts.imports import importer_for
from rcf.imports import ImportFileError, run_command, user_by_name


class Command(BaseCommand):
    help = ("Import points of contact or organisations from an XLSX or CSV file in the shape of their export; all "
            "rows in one transaction or none. Import the organisations first.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="An .xlsx or .csv file.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; write nothing.")
        parser.add_argument("--by", metavar="USERNAME", help="Act as this login (its permissions apply).")

    def handle(self, *args, file, dry_run=False, by=None, **options):
        user = user_by_name(by)
        try:
            with open(file, "rb") as upload:
                importer = importer_for(upload, file, by=user)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from None
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        run_command(self, importer, path=file, dry_run=dry_run)

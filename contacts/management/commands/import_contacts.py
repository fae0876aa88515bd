"""``manage.py import_contacts FILE [--dry-run] [--by USERNAME]``: the page's import (/contacts/import/) from
the command line: points of contact or organisations (the file's header tells which). Prints each row's plan
and errors; exits non-zero (and writes nothing) on any error."""

from django.core.management.base import BaseCommand, CommandError

from contacts.imports import importer_for
from rcf.imports import ImportCommand, ImportFileError


class Command(ImportCommand, BaseCommand):
    help = ("Import points of contact or organisations from an XLSX or CSV file in the shape of their export; all "
            "rows in one transaction or none. Import the organisations first.")

    def importer(self, path, by):
        # The file's header says whether it holds points of contact or organisations.
        try:
            with open(path, "rb") as upload:
                return importer_for(upload, path, by=by)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from None
        except ImportFileError as error:
            raise CommandError(str(error)) from None

"""``manage.py import_projects FILE [--dry-run] [--by USERNAME]``: the page's import (/projects/import/) from
the command line; prints each row's plan and errors, exits non-zero (and writes nothing) on any error."""

from django.core.management.base import BaseCommand

from projects.imports import ProjectImporter
from rcf.imports import ImportCommand


class Command(ImportCommand, BaseCommand):
    help = ("Import projects from an XLSX or CSV file in the shape of the project export: rows match by external "
            "id (or ID), new rows create, the others update; all rows in one transaction or none.")

    def importer(self, path, by):
        return ProjectImporter(by=by)

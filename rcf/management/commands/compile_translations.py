"""Compile the ``.po`` translation catalogues to ``.mo`` with Babel.

Django's own ``compilemessages`` needs GNU gettext's ``msgfmt``, which a fresh
machine with only Python does not have; Babel does the same in pure Python.
Only catalogues newer than their ``.mo`` are compiled.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile every .po file under LOCALE_PATHS to .mo (no gettext needed)."

    def handle(self, *args, **options):
        compiled = 0
        for root in map(Path, settings.LOCALE_PATHS):
            for po_path in sorted(root.glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                try:
                    with po_path.open("rb") as po_file:
                        catalog = read_po(po_file, locale=po_path.parent.parent.name)
                except Exception as exc:  # Babel raises several types for a broken file
                    raise CommandError(f"{po_path}: cannot be read: {exc}") from exc
                with mo_path.open("wb") as mo_file:
                    write_mo(mo_file, catalog)
                compiled += 1
        self.stdout.write(f"Compiled {compiled} translation catalogue(s).")

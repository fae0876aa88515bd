"""Back up the database to one file: ``backup_database PATH [--force]``.

PostgreSQL: ``pg_dump -Fc`` (the custom format ``pg_restore`` reads), with
the connection of ``DATABASE_URL``; the client programs come from
``RCF_PG_BIN`` where they are there (CI), else from ``PATH``. SQLite: SQLite's online backup API,
a consistent copy even while the site is running (copying the file with
``cp`` is not, during a write). Either way the file is written under a
temporary name and renamed when complete, so a failed backup never leaves a
half-written file under the name given.

The database is not everything: keep uploaded files (``var/media/``) and
the ``SECRET_KEY`` (sync cursors and calendar addresses are signed with
it) beside it. ``restore_database`` reads the file back.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

KEEP_ALSO = (
    "Keep with it: uploaded files ({media}) and the SECRET_KEY of .env or the environment (sync cursors "
    "and calendar addresses are signed with it)."
)


def media_root() -> str:
    return str(getattr(settings, "MEDIA_ROOT", "") or Path(settings.BASE_DIR) / "var" / "media")


def pg_program(name: str) -> str:
    """A PostgreSQL client program, from RCF_PG_BIN if it is there, else PATH, or a clear error."""
    directory = os.environ.get("RCF_PG_BIN")
    if directory and os.access(os.path.join(directory, name), os.X_OK):
        return os.path.join(directory, name)
    path = shutil.which(name)
    if not path:
        where = f"RCF_PG_BIN ({directory}) or PATH" if directory else "PATH"
        raise CommandError(
            f"{name} not found in {where}. Install PostgreSQL's client programs (Debian: postgresql-client, of "
            f"the server's major version or later), or set RCF_PG_BIN to the directory that holds them."
        )
    return path


def pg_environment() -> dict[str, str]:
    """libpq's variables for the configured database (the password stays out of the command line)."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD"),
                          ("PGDATABASE", "NAME")):
        if db.get(key):
            env[variable] = str(db[key])
    sslmode = db.get("OPTIONS", {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode
    return env


def run_program(command: list[str], env: dict[str, str]) -> None:
    try:
        # A PostgreSQL program and arguments of our own, no shell.
        result = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603
    except OSError as exc:
        raise CommandError(f"Could not run {command[0]}: {exc}") from None
    if result.returncode != 0:
        raise CommandError(f"{Path(command[0]).name} failed (exit {result.returncode}):\n{result.stderr.strip()}")


class Command(BaseCommand):
    help = "Back up the database to PATH (pg_dump -Fc on PostgreSQL, SQLite's online backup on SQLite)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file to write.")
        parser.add_argument("--force", action="store_true", help="Overwrite PATH if it exists.")

    def handle(self, *args, path, force, **options):
        target = Path(path).resolve()
        if target.exists() and not force:
            raise CommandError(f"{target} exists; choose another name or pass --force to overwrite it.")
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent} is not a directory.")
        partial = target.with_name(f".{target.name}.partial")
        try:
            if connection.vendor == "postgresql":
                run_program([pg_program("pg_dump"), "-Fc", "-f", str(partial)], pg_environment())
            elif connection.vendor == "sqlite":
                self.sqlite_backup(partial)
            else:
                raise CommandError(f"No backup for a {connection.vendor} database.")
            partial.replace(target)
        except OSError as exc:
            raise CommandError(f"Could not write {target}: {exc}") from None
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(f"Backed up {connection.vendor} database {settings.DATABASES['default']['NAME']} "
                          f"to {target}.")
        self.stdout.write(KEEP_ALSO.format(media=media_root()))

    def sqlite_backup(self, partial: Path) -> None:
        source = sqlite3.connect(settings.DATABASES["default"]["NAME"])
        try:
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)  # page by page, consistent even with writers
            finally:
                copy.close()
        except sqlite3.Error as exc:
            raise CommandError(f"SQLite backup failed: {exc}") from None
        finally:
            source.close()

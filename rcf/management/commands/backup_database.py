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
it) beside it. ``--media`` also archives the uploaded documents
(``MEDIA_ROOT``) to ``PATH.media.tar.gz`` (local storage only; with S3
storage back up the bucket). ``restore_database`` reads the files back.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tarfile
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


def media_archive_path(backup: Path) -> Path:
    return backup.with_name(f"{backup.name}.media.tar.gz")


def media_is_local() -> bool:
    return settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def archive_media(target: Path) -> int:
    """The uploaded files (MEDIA_ROOT) as a gzipped tar at ``target``, written
    under a temporary name and renamed when complete; returns how many files."""
    if not media_is_local():
        raise CommandError("Uploaded files are in S3-compatible storage (RCF_S3_BUCKET), not in MEDIA_ROOT: back "
                           "up the bucket (versioning or replication) instead of --media.")
    root = Path(media_root())
    partial = target.with_name(f".{target.name}.partial")
    count = 0
    try:
        with tarfile.open(partial, "w:gz") as archive:
            if root.is_dir():
                for path in sorted(root.rglob("*")):
                    if path.is_file() and not path.is_symlink():
                        archive.add(path, arcname=str(path.relative_to(root)), recursive=False)
                        count += 1
        partial.replace(target)
    except OSError as exc:
        raise CommandError(f"Could not write {target}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return count


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
        parser.add_argument("--media", action="store_true",
                            help="Also archive the uploaded documents (MEDIA_ROOT) to PATH.media.tar.gz.")

    def handle(self, *args, path, force, media=False, **options):
        target = Path(path).resolve()
        for name in (target, media_archive_path(target)) if media else (target,):
            if name.exists() and not force:
                raise CommandError(f"{name} exists; choose another name or pass --force to overwrite it.")
        if media and not media_is_local():
            archive_media(target)  # the error naming the bucket, before the dump
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
        if media:
            count = archive_media(media_archive_path(target))
            self.stdout.write(f"Archived {count} uploaded file(s) from {media_root()} to {media_archive_path(target)}.")
        else:
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

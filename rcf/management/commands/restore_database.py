"""Restore a ``backup_database`` file: ``restore_database PATH [--no-input]``;
``restore_database --new-epoch-only`` after a restore by other means.

Into the database of ``DATABASE_URL``, which must be empty (a new database:
``createdb``, or a new SQLite file name): the command never drops anything,
so a mistyped URL cannot wipe a live database. Stop the site, its worker and
beat first. After loading it:

1. runs ``migrate`` (a backup of an older release gets this one's schema);
2. starts a new sync epoch (``rcf.sync``): sync clients' cursors from before
   the restore answer 410 and they sync in full. On PostgreSQL a restore into
   another database or cluster is noticed without this; the explicit step
   also covers a SQLite file put back in place, whose write counter goes back
   to the backup's value;
3. with ``--media ARCHIVE`` (``backup_database --media``), puts the uploaded
   documents back into ``MEDIA_ROOT``, which must be empty (checked first).
"""

from __future__ import annotations

import sqlite3
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection, transaction

from rcf.sync import start_new_epoch

from .backup_database import KEEP_ALSO, media_is_local, media_root, pg_environment, pg_program, run_program


def check_media_restore(archive: Path) -> None:
    """Refuse before anything is restored: a missing or unreadable archive, S3
    storage, or a MEDIA_ROOT that already holds files (nothing is overwritten)."""
    if not media_is_local():
        raise CommandError("Uploaded files are in S3-compatible storage (RCF_S3_BUCKET): restore the bucket "
                           "instead of --media.")
    if not archive.is_file() or not tarfile.is_tarfile(archive):
        raise CommandError(f"{archive} is not a media archive of backup_database --media.")
    root = Path(media_root())
    if root.exists() and any(root.iterdir()):
        raise CommandError(f"{root} (MEDIA_ROOT) is not empty: restore the files into an empty folder.")


def extract_media(archive: Path) -> int:
    """The archived files into MEDIA_ROOT; tarfile's ``data`` filter refuses
    absolute paths, ``..``, links out of the folder and special files."""
    root = Path(media_root())
    root.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.isfile()]
            tar.extractall(root, members=members, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise CommandError(f"Could not restore the files of {archive}: {exc}") from None
    return len(members)


class Command(BaseCommand):
    help = "Restore a backup_database file into the (empty) configured database, migrate, start a new sync epoch."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?",
                            help="The backup file (pg_dump -Fc on PostgreSQL, an SQLite database file).")
        parser.add_argument("--no-input", "--noinput", action="store_false", dest="interactive",
                            help="Do not ask for confirmation.")
        parser.add_argument(
            "--new-epoch-only", action="store_true",
            help="Restore nothing; only start a new sync epoch (after a point-in-time recovery, or a restore by "
                 "other means into the same database): sync clients' cursors answer 410 and they sync in full.",
        )
        parser.add_argument("--media", metavar="ARCHIVE",
                            help="Also put the uploaded documents back into the (empty) MEDIA_ROOT from this "
                                 "archive (backup_database --media wrote it as PATH.media.tar.gz).")

    def handle(self, *args, path, interactive, new_epoch_only, media=None, **options):
        if new_epoch_only:
            with transaction.atomic():
                epoch = start_new_epoch(connection)
            self.stdout.write(f"Sync epoch {epoch}: sync clients' earlier cursors answer 410 and they sync in full.")
            return
        if path is None:
            raise CommandError("Name the backup file to restore (or pass --new-epoch-only).")
        source = Path(path).resolve()
        if not source.is_file():
            raise CommandError(f"{source} is not a file.")
        name = settings.DATABASES["default"]["NAME"]
        try:
            tables = connection.introspection.table_names() if self.database_exists() else []
        except OperationalError as exc:
            raise CommandError(
                f"Cannot open the {connection.vendor} database {name}: {str(exc).strip()}. Create it first "
                f"(PostgreSQL: createdb), empty."
            ) from None
        if tables:
            raise CommandError(
                f"The {connection.vendor} database {name} is not empty ({len(tables)} tables). Restore into a new, "
                f"empty database (PostgreSQL: createdb, then point DATABASE_URL at it; SQLite: a new file name), "
                f"or drop this one first."
            )
        archive = Path(media).resolve() if media else None
        if archive is not None:
            check_media_restore(archive)
        if interactive:
            answer = input(f"Restore {source} into {connection.vendor} database {name}? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                raise CommandError("Restore cancelled.")
        connection.close()
        if connection.vendor == "postgresql":
            pg_restore = pg_program("pg_restore")
            env = pg_environment()
            run_program([pg_restore, "--list", str(source)], env)  # a clear error for a file that is not a dump
            run_program([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                         "-d", env.get("PGDATABASE", name), str(source)], env)
        elif connection.vendor == "sqlite":
            self.sqlite_restore(source, name)
        else:
            raise CommandError(f"No restore for a {connection.vendor} database.")
        self.stdout.write(f"Restored {source} into {name}; migrating.")
        call_command("migrate", interactive=False, verbosity=max(0, options["verbosity"] - 1))
        with transaction.atomic():
            epoch = start_new_epoch(connection)
        self.stdout.write(f"Sync epoch {epoch}: sync clients' earlier cursors answer 410 and they sync in full.")
        if archive is not None:
            count = extract_media(archive)
            self.stdout.write(f"Restored {count} uploaded file(s) from {archive} into {media_root()}.")
        else:
            self.stdout.write(KEEP_ALSO.replace("Keep with it", "Put back too").format(media=media_root()))

    @staticmethod
    def database_exists() -> bool:
        if connection.vendor == "sqlite":
            return Path(settings.DATABASES["default"]["NAME"]).exists()
        return True

    @staticmethod
    def sqlite_restore(source: Path, name: str) -> None:
        try:
            backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            try:
                found = backup.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
                ).fetchone()[0]
                if not found:
                    raise CommandError(f"{source} is an SQLite file but not a backup of this site.")
                target = sqlite3.connect(name)
                try:
                    backup.backup(target)
                finally:
                    target.close()
            finally:
                backup.close()
        except sqlite3.DatabaseError as exc:
            raise CommandError(f"{source} is not an SQLite backup: {exc}") from None

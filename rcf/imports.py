"""Spreadsheet import: the machinery shared by the project and the contacts
imports (``projects.imports``, ``contacts.imports``).

A file (XLSX or CSV, the shape of the matching export) is read as a stream
of rows; its header row names columns by their language-independent key
(``external_id``) or by their label in either language. Each row is matched,
checked and written through the app's services inside ONE transaction; a dry
run is the very same run rolled back, so it reports exactly what the import
would do. Any error anywhere rolls the whole file back: nothing is written
unless every row is valid.

An app describes its file with ``Column`` objects (shared with its export) and
an ``Importer`` (matching, per-row plan, the service calls)."""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.color import no_style
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from .exports import csv_unguard
from .services import VersionConflict

BATCH = 1000


@dataclass
class Column:
    """One column of an export and of its import.

    ``key``: stable and language-independent (``?headers=keys``, scripts);
    ``label``: a callable giving the translated header; ``get(obj, ctx)``: the
    exported value. ``field`` names the service argument the import sets
    from it (None: not imported, only checked or ignored as the importer
    decides)."""

    key: str
    label: Callable[[], str]
    get: Callable[[Any, dict], Any]
    field: str | None = None


def header(columns: list[Column], *, keys: bool = False) -> list[str]:
    return [c.key if keys else str(c.label()) for c in columns]


def header_lookup(columns: list[Column]) -> dict[str, Column]:
    """Every name a header cell may use for a column: its key, its label in
    English and in Korean (case and surrounding spaces ignored)."""
    names: dict[str, Column] = {}
    for language in ("en", "ko"):
        with translation.override(language):
            for column in columns:
                names.setdefault(_norm(str(column.label())), column)
    for column in columns:
        names[_norm(column.key)] = column
    return names


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


class ImportFileError(Exception):
    """The file as a whole cannot be read (not a spreadsheet, too large, no header)."""


@dataclass
class RowResult:
    row: int  # the row number a spreadsheet shows (1 = the first row of the file)
    action: str = "unchanged"  # create | update | unchanged | error
    label: str = ""
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (column label, old, new)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column label or "", message)
    target: Any = None  # the existing record (update) or None
    data: dict = field(default_factory=dict)  # what the service is given
    extra: dict = field(default_factory=dict)  # importer's own (e.g. lines to add)

    def error(self, column: str, message: str) -> None:
        self.errors.append((str(column), str(message)))


@dataclass
class ImportReport:
    kind: str = ""
    dry_run: bool = True
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    error_rows: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row, column, message)
    shown: list[RowResult] = field(default_factory=list)  # the first rows, for a page
    seconds: float = 0.0
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def to_write(self) -> int:
        return self.created + self.updated


class Importer:
    """What an app supplies. ``columns``: the shared definition; ``kind``:
    what the rows are (for messages)."""

    kind = ""
    model = None
    columns: list[Column] = []

    def __init__(self, *, by):
        self.by = by

    def check_header(self, present: list[Column]) -> list[str]:
        """Messages for a header that cannot be imported (a required column missing)."""
        return []

    def prepare(self) -> None:
        """Load the reference data once (areas, countries, POCs…) into dicts."""

    def match(self, rows: list[dict]) -> dict[int, Any]:
        """``{row number: existing record}`` for a batch of parsed rows, in a few queries."""
        return {}

    def identity(self, cells: dict) -> str | None:
        """A key two rows of the same file must not share (e.g. the external id)."""
        return None

    def plan(self, result: RowResult, cells: dict, existing) -> None:
        raise NotImplementedError

    def apply(self, result: RowResult) -> None:
        raise NotImplementedError

    def applying(self):
        """A context around applying all the rows, inside the import's
        transaction (each row a savepoint within it): an app batches work
        there (``projects.counts.batch``: the summary rows written once)."""
        return contextlib.nullcontext()

    def keep_id(self, data: dict) -> dict:
        """``data`` for a create: its ``id`` (the row's ID, free when the row
        was planned) dropped if a record has taken it since (a row above
        created without an ID)."""
        if "id" in data and self.model.all_objects.filter(pk=data["id"]).exists():
            data = {k: v for k, v in data.items() if k != "id"}
        return data

    def created_with_id(self) -> None:
        """After a record was created under the file's ID: move the table's
        sequence past it (PostgreSQL; nothing to do on SQLite), so that a
        record created next without an ID does not collide with it."""
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [self.model]):
                cursor.execute(statement)

    def field_label(self, name: str) -> str:
        """The column a service's field error belongs to."""
        for column in self.columns:
            if column.field == name or column.key == name:
                return str(column.label())
        return name

    def identity_label(self) -> str:
        return ""


# --- Reading ---------------------------------------------------------------------------------


class Formula:
    """A real XLSX formula cell (refused: its value is not in the file)."""

    def __init__(self, text):
        self.text = text


def _xlsx_rows(upload) -> Iterator[list]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(upload, read_only=True, data_only=False)
    except Exception as error:  # noqa: BLE001 - zipfile/openpyxl raise many kinds for a damaged file
        raise ImportFileError(_("The file is not a readable Excel workbook (.xlsx).")) from error
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows():
            values = []
            for cell in row:
                if getattr(cell, "data_type", None) == "f":
                    values.append(Formula(cell.value))
                else:
                    values.append(cell.value)
            yield values
    finally:
        book.close()


def _csv_rows(upload) -> Iterator[list]:
    text = io.TextIOWrapper(upload, encoding="utf-8-sig", newline="")
    try:
        for row in csv.reader(text):
            yield [csv_unguard(v) for v in row]  # the export's CSV formula guard, undone
    except UnicodeDecodeError as error:
        raise ImportFileError(_("The CSV file is not UTF-8 text (save it as “CSV UTF-8”).")) from error
    except csv.Error as error:
        raise ImportFileError(_("The CSV file cannot be read: %(reason)s") % {"reason": error}) from error
    finally:
        text.detach()


def open_rows(upload, name: str) -> Iterator[list]:
    """The rows of an uploaded file (a binary file object) by its name's ending."""
    lower = (name or "").lower()
    upload.seek(0)
    if lower.endswith(".xlsx"):
        if upload.read(2) != b"PK":
            raise ImportFileError(_("The file is not a readable Excel workbook (.xlsx)."))
        upload.seek(0)
        return _xlsx_rows(upload)
    if lower.endswith(".csv"):
        return _csv_rows(upload)
    raise ImportFileError(_("Upload an .xlsx or a .csv file (the shape of the export)."))


def column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- Cell parsers (shared) -------------------------------------------------------------------


class CellError(ValueError):
    """A cell's value is refused; the message names what is wrong."""


def text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime | datetime.date):
        value = value.isoformat()
    return str(value).strip()


def integer(value) -> int | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise CellError(_("Give a whole number."))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise CellError(_("Give a whole number.")) from None
    if not number.is_finite() or number != number.to_integral_value():
        raise CellError(_("Give a whole number."))
    return int(number)


def decimal(value) -> Decimal | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise CellError(_("Give the amount as a number."))
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise CellError(_("Give the amount as a number.")) from None
    if not number.is_finite():
        raise CellError(_("Give the amount as a number."))
    return number


def date(value) -> datetime.date | None:
    if _blank(value):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise CellError(_("Give a date as YYYY-MM-DD.")) from None


def boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    word = text(value).casefold()
    if word in ("true", "yes", "1", "y", "예", "네", "참"):
        return True
    if word in ("false", "no", "0", "n", "", "아니요", "아니오", "거짓"):
        return False
    raise CellError(_("Give yes or no."))


def choice(value, choices) -> str:
    """A choice by its stored value or its label in either language."""
    word = _norm(text(value))
    for stored, label in choices:
        if word == _norm(stored):
            return stored
        for language in ("en", "ko"):
            with translation.override(language):
                if word == _norm(str(label)):
                    return stored
    raise CellError(_("Unknown value “%(value)s”: use one of %(choices)s.")
                    % {"value": text(value), "choices": ", ".join(str(s) for s, _label in choices)})


def shown(value) -> str:
    """A value as the plan shows it (old → new)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def error_messages(error: Exception) -> list[tuple[str, str]]:
    """(field, message) pairs of a service's refusal."""
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return [(name if name != "__all__" else "", str(m)) for name, msgs in error.message_dict.items()
                    for m in msgs]
        return [("", str(m)) for m in error.messages]
    if isinstance(error, VersionConflict):
        return [("version", _("The record changed since this file was exported (it is now at version "
                              "%(version)s): export again and redo the change.") % {"version": error.current.version})]
    return [("", str(error))]


# --- The run ---------------------------------------------------------------------------------


def max_rows() -> int:
    return int(getattr(settings, "RCF_IMPORT_MAX_ROWS", 50_000))


def max_bytes() -> int:
    return int(getattr(settings, "RCF_IMPORT_MAX_BYTES", 10 * 1024 * 1024))


def run_import(importer: Importer, *, upload, name: str, dry_run: bool, show: int = 500,
               on_row: Callable[[RowResult], None] | None = None,
               progress: Callable[[int], None] | None = None) -> ImportReport:
    """Read, check and write every row of ``upload`` in one transaction; roll
    it all back on a dry run or on any error. ``on_row`` sees each row's
    result as it is made (the command prints them); ``progress(n)`` is called
    every 1,000 rows; ``show`` first rows are kept in the report for a page."""
    started = time.monotonic()
    report = ImportReport(kind=importer.kind, dry_run=dry_run)
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
        upload.seek(0)
    if size > max_bytes():
        raise ImportFileError(_("The file is %(size)s MB; the import takes at most %(limit)s MB.")
                              % {"size": f"{size / 1048576:.1f}", "limit": f"{max_bytes() / 1048576:g}"})
    rows = enumerate(open_rows(upload, name), start=1)
    lookup = header_lookup(importer.columns)
    head_number, head = _header_row(rows, lookup)
    columns: list[Column | None] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(head):
        if _blank(cell) and not isinstance(cell, Formula):
            columns.append(None)
            continue
        where = _("column %(letter)s “%(name)s”") % {"letter": column_letter(index), "name": text(cell)}
        column = None if isinstance(cell, Formula) else lookup.get(_norm(text(cell)))
        if column is None:
            report.errors.append((head_number, where, _("Unknown column: use the export's header (labels in "
                                                        "English or Korean, or the keys of ?headers=keys).")))
        elif column.key in seen:
            report.errors.append((head_number, where, _("This column appears twice (also column %(letter)s).")
                                  % {"letter": column_letter(seen[column.key])}))
        else:
            seen[column.key] = index
        columns.append(column)
    for message in importer.check_header([c for c in columns if c is not None]):
        report.errors.append((head_number, "", message))
    if report.errors:
        report.seconds = time.monotonic() - started
        return report
    importer.prepare()
    identities: dict[str, int] = {}
    first_results: dict[int, RowResult] = {}
    with transaction.atomic():
        with importer.applying():
            batch: list[tuple[int, dict, list[tuple[str, str]]]] = []
            for number, values in rows:
                if all(_blank(v) for v in values):
                    continue
                report.rows += 1
                if report.rows > max_rows():
                    report.errors.append((number, "", _("The file has more than %(max)s rows; split it.")
                                          % {"max": f"{max_rows():,}"}))
                    break
                cells: dict[str, Any] = {}
                problems: list[tuple[str, str]] = []
                for index, value in enumerate(values):
                    column = columns[index] if index < len(columns) else None
                    if column is None:
                        if not _blank(value):
                            problems.append((_("column %(letter)s") % {"letter": column_letter(index)},
                                             _("A value in a column without a header.")))
                        continue
                    if isinstance(value, Formula):
                        problems.append((str(column.label()), _("A formula is not accepted, type its value.")))
                        continue
                    cells[column.key] = value
                batch.append((number, cells, problems))
                if len(batch) >= BATCH:
                    _run_batch(importer, batch, report, identities, first_results, on_row, show)
                    batch = []
                    if progress:
                        progress(report.rows)
            if batch:
                _run_batch(importer, batch, report, identities, first_results, on_row, show)
                if progress:
                    progress(report.rows)
        report.errors.sort(key=lambda e: e[0])
        report.applied = not dry_run and not report.errors
        if not report.applied:
            transaction.set_rollback(True)
    report.seconds = time.monotonic() - started
    return report


def _header_row(rows, lookup) -> tuple[int, list]:
    """The header row; a first row with one cell that names no column is the
    handling marking (``RCF_HANDLING_MARKING``) and is skipped."""
    for number, values in rows:
        filled = [v for v in values if not _blank(v)]
        if not filled:
            continue
        if len(filled) == 1 and number == 1 and _norm(text(filled[0])) not in lookup:
            continue
        return number, values
    raise ImportFileError(_("The file has no header row."))


def _run_batch(importer, batch, report, identities, first_results, on_row, show) -> None:
    existing = importer.match([{"row": n, **cells} for n, cells, _p in batch])
    for number, cells, problems in batch:
        result = RowResult(row=number)
        for column, message in problems:
            result.error(column, message)
        identity = importer.identity(cells)
        if identity:
            first = identities.setdefault(identity, number)
            if first != number:
                result.error(*_duplicate(importer, identity, first))
                earlier = first_results.get(first)
                message = _duplicate(importer, identity, number)
                if earlier is not None:
                    earlier.error(*message)
                    if earlier.action != "error":
                        _count(report, earlier, -1)
                        earlier.action = "error"
                        _count(report, earlier, +1)
                report.errors.append((first, *message))
        if not result.errors:
            try:
                importer.plan(result, cells, existing.get(number))
            except CellError as error:  # a plan may refuse a whole row
                result.error("", str(error))
        if not result.errors and result.action in ("create", "update"):
            try:
                with transaction.atomic():
                    importer.apply(result)
            except (ValidationError, VersionConflict, PermissionDenied, IntegrityError, DatabaseError) as error:
                for name, message in error_messages(error):
                    result.error(importer.field_label(name), message)
        if result.errors:
            result.action = "error"
            report.errors.extend((number, column, message) for column, message in result.errors)
        if identity and identities.get(identity) == number:
            first_results[number] = result
        _count(report, result, +1)
        is_shown = len(report.shown) < show
        if is_shown:
            report.shown.append(result)
        if on_row:
            on_row(result)
        # Keep little per row: 50,000 rows stay small in memory.
        result.data = {}
        result.target = None
        result.extra = {}
        if not is_shown:
            result.changes = []


def _duplicate(importer, identity: str, other: int) -> tuple[str, str]:
    return (importer.identity_label(),
            _("“%(value)s” is also in row %(row)s: each record once per file.") % {"value": identity, "row": other})


def _count(report: ImportReport, result: RowResult, step: int) -> None:
    name = {"create": "created", "update": "updated", "unchanged": "unchanged", "error": "error_rows"}[result.action]
    setattr(report, name, getattr(report, name) + step)


# --- The management commands (import_projects, import_contacts) ---------------------------------


def describe(result: RowResult) -> list[str]:
    """A row's plan as lines of text (the commands; the page shows the same)."""
    names = {"create": _("create"), "update": _("update"), "unchanged": _("unchanged"), "error": _("error")}
    lines = [_("row %(row)s: %(action)s %(label)s") % {"row": result.row, "action": names[result.action],
                                                       "label": result.label}]
    if result.action != "error":
        lines += [f"    {column}: {old or '—'} → {new}" for column, old, new in result.changes]
    lines += [f"    {_('error')}: {column + ': ' if column else ''}{message}" for column, message in result.errors]
    return lines


def run_command(command, importer: Importer, *, path: str, dry_run: bool) -> ImportReport:
    """Run an import from a management command: the per-row plan as it is
    made, progress every 1,000 rows, a summary; ``CommandError`` (exit code
    1) when any row is refused, and then nothing is written."""
    from django.core.management.base import CommandError

    def on_row(result):
        for line in describe(result):
            command.stdout.write(line)

    def progress(count):
        command.stdout.write(_("… %(count)s rows read") % {"count": f"{count:,}"})

    try:
        with open(path, "rb") as upload:
            report = run_import(importer, upload=upload, name=path, dry_run=dry_run, show=0, on_row=on_row,
                                progress=progress)
    except OSError as error:
        raise CommandError(_("Cannot read %(path)s: %(reason)s") % {"path": path, "reason": error.strerror}) from None
    except ImportFileError as error:
        raise CommandError(str(error)) from None
    command.stdout.write(summary(report))
    if report.errors:
        for row, column, message in report.errors[:200]:
            command.stderr.write(_("row %(row)s, %(column)s: %(message)s")
                                 % {"row": row, "column": column or "—", "message": message})
        raise CommandError(_("%(count)s errors: nothing was written.") % {"count": len(report.errors)})
    return report


def summary(report: ImportReport) -> str:
    values = {"rows": report.rows, "created": report.created, "updated": report.updated,
              "unchanged": report.unchanged, "errors": report.error_rows, "seconds": f"{report.seconds:.1f}"}
    if report.applied:
        return _("%(rows)s rows imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged "
                 "(%(seconds)s s).") % values
    return _("Dry run, nothing written: %(rows)s rows, %(created)s to create, %(updated)s to update, %(unchanged)s "
             "unchanged, %(errors)s with errors (%(seconds)s s).") % values


def user_by_name(username: str | None):
    """``--by USERNAME``: the login the import acts as (its permissions apply); None: the system."""
    from django.contrib.auth import get_user_model
    from django.core.management.base import CommandError

    if not username:
        return None
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(_("No user named %(name)s.") % {"name": username}) from None


class ImportCommand:
    """The shape of ``manage.py import_projects`` / ``import_contacts``: FILE,
    ``--dry-run`` and ``--by``; a subclass (also a ``BaseCommand``) says how to
    make the importer for a file (``importer``)."""

    def add_arguments(self, parser):
        parser.add_argument("file", help="An .xlsx or .csv file.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; write nothing.")
        parser.add_argument("--by", metavar="USERNAME", help="Act as this login (its permissions apply).")

    def importer(self, path: str, by) -> Importer:
        raise NotImplementedError

    def handle(self, *args, file, dry_run=False, by=None, **options):
        run_command(self, self.importer(file, user_by_name(by)), path=file, dry_run=dry_run)

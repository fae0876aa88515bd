"""Spreadsheet exports shared by the project list and the SCM report (every
CSV and XLSX the site makes goes through here, so the handling marking,
``RCF_HANDLING_MARKING``, is written on the first row of each, when set).

Every cell goes out through ``rcf.validators.printable``: a control
character stored before text was validated (issue 9) would otherwise make
openpyxl refuse the whole workbook, for everyone.

Text that a spreadsheet would take for a formula ("=HYPERLINK(…)", "+1",
"-x", "@x") is defused differently in each format (issue 13):

- XLSX: the cell keeps the exact text and is written as a *string cell*
  (``t="inlineStr"``, never an ``<f>`` formula) with Excel's "quote prefix"
  style, so the value stays text even when someone edits the cell. The data
  are not changed: an import reads back what was exported.
- CSV has no cell types: such a value is written with a leading ``'``
  (``spreadsheet_safe``), which Excel and LibreOffice show as text. "Such a
  value" is judged as a spreadsheet would read it: after leading white space
  (spaces, NBSP, a BOM, a line break) and with full-width forms folded (NFKC:
  "＝" is "="). A value that itself starts with ``'`` before such text gets one
  more ``'``, so ``csv_unguard`` (what an import applies) gives back exactly
  the exported text. Every text field is quoted (``csv.QUOTE_NONNUMERIC``), so
  no separator inside a value (``x;=cmd…`` where ``;`` lists) starts a new
  cell; numbers are not quoted.

A ``Decimal`` keeps its scale: 12.50 is "12.50" in the CSV, and in the XLSX a
number (still summable) whose number format shows two places (``#,##0.00``;
``#,##0`` for a whole amount).

At scale (issue 14) nothing here holds a whole file: the CSV is streamed
(``csv_response`` is a ``StreamingHttpResponse``; ``csv_write`` writes an
export job's file) and the XLSX is written with openpyxl's write-only mode
(``xlsx_write``), rows taken from any iterable as they come."""

import csv
import io
import itertools
import unicodedata
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import translation
from django.utils.functional import Promise

from .marking import handling_marking
from .validators import printable

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A cell starting with one of these is a formula to Excel and LibreOffice:
# prefix it so a title like "=HYPERLINK(…)" stays text (CSV/formula injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Skipped before the first character a spreadsheet reads (besides str.isspace: NBSP, line breaks…).
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"


def _plain(value):
    """A lazy translation as the text it stands for; anything else unchanged."""
    return str(value) if isinstance(value, Promise) else value


def _formula_like(text: str) -> bool:
    """Would a spreadsheet take ``text`` for a formula? It starts with one of
    ``_FORMULA_START``, or does after leading white space once full-width
    forms are folded (NFKC: "＝", "＋", "－", "＠")."""
    if text.startswith(_FORMULA_START):
        return True
    rest = text.lstrip()
    while rest and (rest[0] in _INVISIBLE or rest[0].isspace()):
        rest = rest[1:]
    return bool(rest) and unicodedata.normalize("NFKC", rest[:1]).startswith(_FORMULA_START)


def _guarded(text: str) -> bool:
    """Does the CSV write ``text`` with a ``'`` before it? When it is formula-
    like, or is one or more ``'`` before formula-like text (so that
    ``csv_unguard`` never takes away a ``'`` that was part of the value)."""
    return _formula_like(text.lstrip("'"))


def spreadsheet_safe(value):
    """A value for a CSV cell: printable, and text that a spreadsheet would
    take for a formula prefixed with ``'`` (see the module's text);
    ``csv_unguard`` is its exact inverse."""
    value = printable(_plain(value))
    if isinstance(value, str) and _guarded(value):
        return "'" + value
    return value


def csv_unguard(value: str) -> str:
    """The text a CSV cell written by ``spreadsheet_safe`` stood for: one
    leading ``'`` removed when the guard put it there. For every text ``v``,
    ``csv_unguard(spreadsheet_safe(v)) == printable(v)``."""
    if value.startswith("'") and _guarded(value[1:]):
        return value[1:]
    return value


class _FixedPoint(Decimal):
    """A decimal the csv module writes unquoted (a number) and in fixed
    point with its scale: "12.50", never "12.5" or "1.25E+1"."""

    def __str__(self):
        return format(self, "f")


def _csv_cell(value):
    value = spreadsheet_safe(value)
    if isinstance(value, Decimal) and value.is_finite():
        return _FixedPoint(value)
    return value


def decimal_number_format(value: Decimal) -> str:
    """The XLSX number format showing ``value``'s scale: ``#,##0.00`` for two places, ``#,##0`` for none."""
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return "#,##0." + "0" * places if places else "#,##0"


class StreamingCSVResponse(StreamingHttpResponse):
    """A CSV sent as it is made (issue 14: a large export never sits whole in
    the worker's memory). Its ``content``, for a caller that wants the whole
    text at once (a test, a script), is the stream read to its end."""

    @property
    def content(self) -> bytes:
        if not hasattr(self, "_whole"):
            self._whole = b"".join(self.streaming_content)
        return self._whole


def csv_chunks(*, header: list[str], rows, batch: int = 500, on_row=None):
    """The CSV's bytes (UTF-8, a BOM first so Excel reads Korean names),
    ``batch`` rows at a time: the handling marking (RCF_HANDLING_MARKING)
    when set, the header, the rows."""
    buffer = io.StringIO()
    # Every text field quoted: a separator in a value (",", or ";" where a spreadsheet lists with it) never
    # starts a new cell there; numbers stay unquoted.
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC)
    buffer.write("\ufeff")
    marking = handling_marking()
    if marking:  # the handling marking on the first row (RCF_HANDLING_MARKING); nothing when none is set
        writer.writerow([_csv_cell(marking)])
    writer.writerow([_csv_cell(v) for v in header])
    pending = 0
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
        if on_row is not None:
            on_row()
        pending += 1
        if pending >= batch:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def csv_write(out, *, header: list[str], rows, on_row=None) -> None:
    """The CSV into a binary file (an export job's)."""
    for chunk in csv_chunks(header=header, rows=rows, on_row=on_row):
        out.write(chunk)


def _in_language(language, chunks):
    with translation.override(language):
        yield from chunks


def csv_response(*, filename: str, header: list[str], rows) -> StreamingCSVResponse:
    """The CSV streamed: ``rows`` (any iterable) are read as the response is sent (after the view returned:
    in the request's language all the same)."""
    response = StreamingCSVResponse(_in_language(translation.get_language(), csv_chunks(header=header, rows=rows)),
                                    content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _xlsx_row(sheet, values, *, bold: bool = False) -> None:
    """``values`` as the sheet's next row: text as string cells (the exact
    text, never a formula), decimals as numbers showing their scale."""
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in values:
        value = printable(_plain(value))
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # after the value: openpyxl takes a text starting with "=" for a formula
            if _formula_like(value):
                cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
        elif isinstance(value, Decimal) and value.is_finite():
            cell.number_format = decimal_number_format(value)
        if bold:
            cell.font = _bold()
        cells.append(cell)
    sheet.append(cells)


def _bold():
    from openpyxl.styles import Font

    return Font(bold=True)


_SIZED_ROWS = 500  # the columns are sized on the first rows (a write-only sheet takes its widths before any row)


def xlsx_write(out, *, sheets, on_row=None) -> None:
    """The workbook into ``out`` (a path or a binary file), with openpyxl's
    write-only mode: rows go to the file as they come, so memory stays flat
    whatever their number. sheets: (title, header, rows: any iterable).
    Header row bold and frozen, columns sized on the first 500 rows."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    marking = handling_marking()
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=printable(str(title))[:31])
        rows = iter(rows)
        first = list(itertools.islice(rows, _SIZED_ROWS))
        sheet.freeze_panes = "A3" if marking else "A2"
        for index, name in enumerate(header, start=1):
            longest = max([len(str(name))] + [len(str(r[index - 1] or "")) for r in first])
            sheet.column_dimensions[get_column_letter(index)].width = min(max(10, longest + 2), 60)
        if marking:  # the handling marking on each sheet's first row (RCF_HANDLING_MARKING)
            _xlsx_row(sheet, [marking], bold=True)
        _xlsx_row(sheet, header, bold=True)
        for row in itertools.chain(first, rows):
            _xlsx_row(sheet, row)
            if on_row is not None:
                on_row()
    workbook.save(out)


def xlsx_response(*, filename: str, sheets: list[tuple[str, list[str], list]]) -> HttpResponse:
    """sheets: (title, header, rows). A small workbook, made in the request
    (a large one is an export job: rcf.export_jobs)."""
    buffer = io.BytesIO()
    xlsx_write(buffer, sheets=sheets)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

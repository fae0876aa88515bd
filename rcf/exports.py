"""Spreadsheet exports shared by the project list and the SCM report (every
CSV and XLSX the site makes goes through here, so the handling marking,
``RCF_HANDLING_MARKING``, is written on the first row of each, when set).

Every cell goes out through ``rcf.validators.printable``: a control
character stored before text was validated (issue 9) would otherwise make
openpyxl refuse the whole workbook, for everyone."""

import csv
import io

from django.http import HttpResponse

from .marking import handling_marking
from .validators import printable

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A cell starting with one of these is a formula to Excel and LibreOffice:
# prefix it so a title like "=HYPERLINK(…)" stays text (CSV/formula injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    value = printable(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_response(*, filename: str, header: list[str], rows) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    marking = handling_marking()
    if marking:  # the handling marking on the first row (RCF_HANDLING_MARKING); nothing when none is set
        writer.writerow([spreadsheet_safe(marking)])
    writer.writerow([spreadsheet_safe(v) for v in header])
    for row in rows:
        writer.writerow([spreadsheet_safe(v) for v in row])
    # A BOM so Excel opens UTF-8 (Korean names) correctly.
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(*, filename: str, sheets: list[tuple[str, list[str], list]]) -> HttpResponse:
    """sheets: (title, header, rows). Header row bold and frozen, columns sized."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    marking = handling_marking()
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=printable(str(title))[:31])
        if marking:  # the handling marking on each sheet's first row (RCF_HANDLING_MARKING)
            sheet.append([spreadsheet_safe(marking)])
            sheet["A1"].font = Font(bold=True)
        sheet.append([spreadsheet_safe(v) for v in header])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([spreadsheet_safe(v) for v in row])
        sheet.freeze_panes = "A3" if marking else "A2"
        for index, name in enumerate(header, start=1):
            longest = max([len(str(name))] + [len(str(r[index - 1] or "")) for r in rows[:500]])
            sheet.column_dimensions[get_column_letter(index)].width = min(max(10, longest + 2), 60)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

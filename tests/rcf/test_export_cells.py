"""What the CSV and XLSX exports write into each cell (issue 13), read back
from the files the pages give:

- a text that a spreadsheet would take for a formula keeps its exact text in
  the XLSX, defused by the cell's type (a string cell with Excel's quote
  prefix, never an ``<f>`` formula); the CSV keeps the documented ``'`` guard,
  judged as a spreadsheet reads the text (after white space, full-width forms
  folded), quotes every text field, and ``csv_unguard`` gives the text back;
- an amount keeps its scale: 12.50 USD is "12.50" in the CSV and, in the XLSX,
  a number whose format shows two places (whole won: no places);
- the SCM report's moments are in the framework's time zone, as on the page."""

import csv
import datetime
import io
import re
import zipfile
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from openpyxl import load_workbook

from projects.services import resource_line_create
from rcf.exports import csv_response, csv_unguard, spreadsheet_safe, xlsx_response
from scm_reports.models import ReadinessFlag, SCMCycle
from scm_reports.services import readiness_flags_sync

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example/","click")'
NOW = datetime.datetime(2026, 3, 1, 3, 0, tzinfo=datetime.UTC)


def _line(project, by, amount, currency, side="us", kind="planned"):
    return resource_line_create(by=by, project=project, side=side, kind=kind, amount=Decimal(amount),
                                currency=currency, fiscal_year=2026)


@pytest.fixture
def exported(make_project, lead):
    project = make_project(title=FORMULA, external_id="+82-2-123")
    _line(project, lead, "12.50", "USD")
    _line(project, lead, "2000000", "KRW", side="rok")
    return project


def _get(client, user, path, **params):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        response = client.get(path, params)
    assert response.status_code == 200, response.content[:500]
    return response


def _xlsx_rows(content, sheet=None):
    book = load_workbook(io.BytesIO(content))
    worksheet = book[sheet] if sheet else book.active
    header, *rows = list(worksheet.iter_rows())
    return [c.value for c in header], rows


def _sheet_xml(content, number=1) -> str:
    return zipfile.ZipFile(io.BytesIO(content)).read(f"xl/worksheets/sheet{number}.xml").decode()


def test_a_formula_like_title_keeps_its_exact_text_in_a_string_cell_of_the_xlsx(client, viewer, exported):
    response = _get(client, viewer, "/projects/export.xlsx")
    header, (row,) = _xlsx_rows(response.content)
    title = row[header.index("English title")]
    assert title.value == FORMULA  # the data unchanged, no "'" added
    assert title.data_type == "s" and title.quotePrefix  # text, and stays text when edited in Excel
    external_id = row[header.index("External id")]
    assert (external_id.value, external_id.data_type) == ("+82-2-123", "s")
    xml = _sheet_xml(response.content)
    assert "<f>" not in xml and "<f " not in xml  # no formula anywhere in the sheet
    assert 'HYPERLINK("http://evil.example/","click")' in xml.replace("&quot;", '"')


def test_the_csv_keeps_the_quote_guard_before_a_formula_like_text(client, viewer, exported):
    text = _get(client, viewer, "/projects/export.csv").content.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    assert row[header.index("English title")] == "'" + FORMULA
    assert row[header.index("External id")] == "'+82-2-123"


def test_amounts_keep_their_scale_in_both_formats(client, viewer, exported):
    text = _get(client, viewer, "/projects/export.csv").content.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    assert row[header.index("Planned USD")] == "12.50"
    assert row[header.index("Planned KRW")] == "2000000"

    header, (row,) = _xlsx_rows(_get(client, viewer, "/projects/export.xlsx").content)
    usd = row[header.index("Planned USD")]
    assert usd.data_type == "n" and usd.value == 12.5  # still a number: it sums
    assert usd.number_format == "#,##0.00"  # shown as 12.50
    krw = row[header.index("Planned KRW")]
    assert krw.data_type == "n" and krw.value == 2000000
    identifier = row[header.index("ID")]
    assert identifier.number_format == "General"  # whole numbers that are not amounts: no separators


@pytest.fixture
def report_2026(make_project, advance, lead, settings):
    """The 58th SCM's report: a flag raised at 20:30 UTC on 1 September (2 September, 05:30 in
    Seoul, the day the page shows), then a project ready with a USD line of 1,000.10."""
    settings.RCF_AT_RISK_DAYS = 90
    SCMCycle.objects.create(number=58, year=2026, meeting_date=datetime.date(2026, 11, 5), location="Washington")
    project = make_project(title="Coast guard MDA training")
    with time_machine.travel(datetime.datetime(2026, 9, 1, 20, 30, tzinfo=datetime.UTC), tick=False):
        readiness_flags_sync(today=datetime.date(2026, 9, 1))  # nothing ready, the at-risk window open
    advance(project, "under_review", "prioritized", "ready", ready_on=datetime.date(2026, 9, 2),
            today=datetime.date(2026, 9, 2))
    _line(project, lead, "1000.10", "USD")
    return project


def test_the_scm_report_resources_keep_their_scale(client, viewer, report_2026):
    response = _get(client, viewer, "/scm/2026/report.xlsx")
    header, rows = _xlsx_rows(response.content, "Resources")
    (usd,) = [r for r in rows if r[0].value == "USD"]
    total = usd[header.index("Total")]
    assert total.value == pytest.approx(1000.1) and total.number_format == "#,##0.00"


def test_the_scm_report_flags_are_in_the_framework_time_zone_as_on_the_page(client, viewer, report_2026):
    flag = ReadinessFlag.objects.get(year=2026)
    response = _get(client, viewer, "/scm/2026/report.xlsx")
    header, (row,) = _xlsx_rows(response.content, "Flags")
    raised = row[header.index("Raised at")].value
    assert raised == timezone.localtime(flag.raised_at).replace(tzinfo=None)
    assert raised == datetime.datetime(2026, 9, 2, 5, 30)


def test_every_text_cell_is_a_string_cell_and_every_decimal_shows_its_places(settings):
    settings.RCF_HANDLING_MARKING = "=MARKING"
    rows = [["-5 dB", "@handle", Decimal("7"), Decimal("0.125"), Decimal("1.5E+3"), 2026, None]]
    response = xlsx_response(filename="x.xlsx", sheets=[("S", ["a", "b", "c", "d", "e", "f", "g"], rows)])
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert (sheet["A1"].value, sheet["A1"].data_type) == ("=MARKING", "s")
    cells = list(sheet.iter_rows(min_row=3))[0]
    assert [c.value for c in cells[:2]] == ["-5 dB", "@handle"]
    assert all(c.data_type == "s" for c in cells[:2])
    assert [c.number_format for c in cells[2:6]] == ["#,##0", "#,##0.000", "#,##0", "General"]
    assert not re.search(r"<f[ >]", _sheet_xml(response.content))

    text = csv_response(filename="x.csv", header=["a"], rows=rows).content.decode("utf-8-sig")
    marking, _header, row = list(csv.reader(io.StringIO(text)))
    assert marking == ["'=MARKING"]
    assert row == ["'-5 dB", "'@handle", "7", "0.125", "1500", "2026", ""]


# Texts a spreadsheet takes for a formula although they do not start with "=", "+", "-" or "@" themselves.
DISGUISED = [" =1+1", "\u00a0=1+1", "\n=1+1", "\ufeff=1+1", "\u3000@SUM(A1)", "\uff1d1+1", "\uff0b1", "\uff0d1",
             "\uff20SUM(A1)", " \uff1dcmd|' /C calc'!A0"]


def _csv_row(values) -> str:
    text = csv_response(filename="x.csv", header=[str(i) for i in range(len(values))], rows=[values])
    return text.content.decode("utf-8-sig").split("\r\n", 1)[1]


def test_the_csv_guards_a_formula_behind_white_space_or_in_full_width_forms():
    row = next(csv.reader(io.StringIO(_csv_row(DISGUISED))))
    assert row == ["'" + value for value in DISGUISED]  # the "'" at the very start, the value itself unchanged


def test_every_text_field_of_the_csv_is_quoted_so_no_separator_starts_a_cell():
    # Where ";" separates a list (Excel in many locales), an unquoted x;=cmd… would be a second cell: a formula.
    line = _csv_row(["x;=cmd|' /C calc'!A0", "plain", 2026, Decimal("12.50"), Decimal("1E+3"), None])
    assert line == "\"x;=cmd|' /C calc'!A0\",\"plain\",2026,12.50,1000,\"\"\r\n"  # numbers unquoted, with their scale


@pytest.mark.parametrize("value", [
    "=1", "'=1", "''=1", "' =1", "'", "''", "'abc", "abc", "", "-5 dB", "'-5 dB", "\t1", "'\t1", " '=1", "\uff1d1",
    "'\uff1d1", "\u00a0'=1", "'\u00a0=1", '=HYPERLINK("http://x/")', "'''@x", "x'=1", *DISGUISED])
def test_csv_unguard_gives_back_exactly_the_exported_text(value):
    written = next(csv.reader(io.StringIO(_csv_row([value]))))[0]
    assert csv_unguard(written) == value
    assert csv_unguard(spreadsheet_safe(value)) == value
    # What a spreadsheet reads first is never a formula start.
    assert not written.lstrip().startswith(("=", "+", "-", "@", "\uff1d"))

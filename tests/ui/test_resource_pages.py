"""Resource lines on the pages (issue 11): USD and KRW lines on one project
are totalled separately per side and kind on the project page, the
dashboard (its filters apply), the SCM report (page, PDF, XLSX) and the
project exports; editors add, edit and delete lines; the pages cost the same
number of queries for 10 lines as for 1,000."""

import csv
import datetime
import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from projects.models import ResourceLine
from projects.services import resource_line_create
from scm_reports.models import SCMCycle
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

D = datetime.date
NOW = datetime.datetime(2026, 3, 1, 3, 0, tzinfo=datetime.UTC)
KO = {"HTTP_ACCEPT_LANGUAGE": "ko"}

# One project's lines: U.S. planned in both currencies, ROK committed in KRW, partner spent in USD.
LINES = [
    ("us", "planned", Decimal("1000000.50"), "USD", 2026),
    ("us", "planned", Decimal("250000"), "USD", 2027),
    ("us", "planned", Decimal("1300000000"), "KRW", 2026),
    ("rok", "committed", Decimal("2000000000"), "KRW", 2026),
    ("partner", "spent", Decimal("5000"), "USD", 2026),
]


def _add_lines(project, by):
    for side, kind, amount, currency, year in LINES:
        resource_line_create(by=by, project=project, side=side, kind=kind, amount=amount, currency=currency,
                             fiscal_year=year, source="Programme")


def _get(client, user, path, headers=None, **params):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get(path, params, **(headers or {}))


def _cells(html: str, currency: str) -> dict[tuple[str, str], str]:
    """The totals table of ``currency``: {(side, kind): text of the cell}."""
    table = re.search(rf'<table[^>]* data-testid="resource-totals-{currency}".*?</table>', html, re.S)
    assert table, f"no {currency} totals table"
    found = {}
    for side, row in re.findall(r'<tr[^>]* data-side="([a-z]+)"[^>]*>(.*?)</tr>', table.group(0), re.S):
        for kind, text in re.findall(r'<td[^>]* data-kind="([a-z]+)"[^>]*>(.*?)</td>', row, re.S):
            text = re.sub(r"<[^>]+>", "", text).strip()
            if text != "—":
                found[(side, kind)] = text
    return found


EXPECTED_USD = {("us", "planned"): "$1,250,000.50", ("partner", "spent"): "$5,000.00",
                ("all", "planned"): "$1,250,000.50", ("all", "spent"): "$5,000.00"}
EXPECTED_KRW = {("us", "planned"): "₩1,300,000,000", ("rok", "committed"): "₩2,000,000,000",
                ("all", "planned"): "₩1,300,000,000", ("all", "committed"): "₩2,000,000,000"}


@pytest.fixture
def project(editor):
    project = ProjectFactory(title="Coast guard MDA training", lead_side="us")
    _add_lines(project, editor)
    return project


def test_the_project_page_totals_usd_and_krw_separately_per_side_and_kind(client, viewer, project):
    html = _get(client, viewer, f"/projects/{project.pk}/").content.decode()
    assert _cells(html, "USD") == EXPECTED_USD
    assert _cells(html, "KRW") == EXPECTED_KRW  # never "$3,301,250,000.50"
    lines = re.search(r'<table[^>]* data-testid="resource-lines".*?</table>', html, re.S).group(0)
    assert lines.count('data-testid="resource-line-') == 5
    assert "$1,000,000.50" in lines and "₩1,300,000,000" in lines and "2027" in lines and "Programme" in lines
    assert "₩1,300,000,000.00" not in html  # KRW without decimals
    # A viewer reads; only editors get the forms.
    assert 'data-testid="add-resource-line"' not in html and "/resources/" not in html


def test_the_amounts_follow_the_readers_locale(client, viewer, project):
    html = _get(client, viewer, f"/projects/{project.pk}/", KO).content.decode()
    assert _cells(html, "USD")[("us", "planned")] == "US$1,250,000.50"
    assert _cells(html, "KRW")[("rok", "committed")] == "₩2,000,000,000"


def test_an_editor_adds_edits_and_deletes_a_line_from_the_project_page(client, editor):
    project = ProjectFactory()
    page = _get(client, editor, f"/projects/{project.pk}/").content.decode()
    assert 'data-testid="add-resource-line"' in page and 'for="id_resource-side"' in page
    response = client.post(f"/projects/{project.pk}/resources/", {
        "resource-side": "rok", "resource-source": "DAPA", "resource-fiscal_year": "2026",
        "resource-kind": "committed", "resource-amount": "300000000", "resource-currency": "KRW",
        "resource-note": ""})
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/#resources"
    line = ResourceLine.objects.get()
    assert (line.side, line.kind, line.amount, line.currency, line.created_by) == (
        "rok", "committed", Decimal("300000000.00"), "KRW", editor)
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert _cells(html, "KRW") == {("rok", "committed"): "₩300,000,000"}

    edit = client.get(f"/projects/resources/{line.pk}/")
    assert edit.status_code == 200 and 'value="300000000.00"' in edit.content.decode()
    form = {"resource-side": "rok", "resource-source": "DAPA", "resource-fiscal_year": "2026",
            "resource-kind": "spent", "resource-amount": "120000000", "resource-currency": "KRW",
            "resource-note": "First tranche", "resource-version": "1"}
    refused = client.post(f"/projects/resources/{line.pk}/", {**form, "resource-amount": "-1"})
    assert refused.status_code == 400
    assert refused.context["form"].errors["amount"] == ["An amount cannot be negative."]
    assert client.post(f"/projects/resources/{line.pk}/", form).status_code == 302
    line.refresh_from_db()
    assert (line.kind, line.amount, line.note, line.version) == ("spent", Decimal("120000000.00"), "First tranche", 2)
    stale = client.post(f"/projects/resources/{line.pk}/", {**form, "resource-amount": "1"})
    assert stale.status_code == 400 and "Someone else changed" in stale.content.decode()

    assert client.post(f"/projects/resources/{line.pk}/delete/", {"version": "2"}).status_code == 302
    assert ResourceLine.objects.count() == 0 and ResourceLine.all_objects.get().deleted_at is not None
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert 'data-testid="resource-totals-none"' in html


def test_a_refused_line_keeps_the_input_and_names_each_field(client, editor):
    project = ProjectFactory()
    client.force_login(editor)
    response = client.post(f"/projects/{project.pk}/resources/", {
        "resource-side": "", "resource-kind": "planned", "resource-amount": "-5", "resource-currency": "KRW",
        "resource-source": "Kept input", "resource-fiscal_year": "1900"})
    assert response.status_code == 400
    form = response.context["resource_form"]
    assert set(form.errors) == {"side"}  # the form's own check first (a choice)
    html = response.content.decode()
    assert 'data-testid="resource-refused"' in html and 'value="Kept input"' in html
    response = client.post(f"/projects/{project.pk}/resources/", {
        "resource-side": "us", "resource-kind": "planned", "resource-amount": "-5", "resource-currency": "KRW",
        "resource-fiscal_year": "1900"})
    errors = response.context["resource_form"].errors
    assert errors["amount"] == ["An amount cannot be negative."]
    assert errors["fiscal_year"] == ["The fiscal year must be between 1950 and 2100."]
    response = client.post(f"/projects/{project.pk}/resources/", {
        "resource-side": "japan", "resource-kind": "planned", "resource-amount": "5", "resource-currency": "EUR"})
    assert set(response.context["resource_form"].errors) == {"side", "currency"}
    assert ResourceLine.all_objects.count() == 0


def test_a_viewer_cannot_add_a_line(client, viewer):
    project = ProjectFactory()
    client.force_login(viewer)
    response = client.post(f"/projects/{project.pk}/resources/", {
        "resource-side": "us", "resource-kind": "planned", "resource-amount": "5", "resource-currency": "USD"})
    assert response.status_code == 403 and ResourceLine.all_objects.count() == 0


def test_the_dashboard_totals_follow_its_filters(client, viewer, editor, project):
    other = ProjectFactory(title="ROK-led", lead_side="rok")
    resource_line_create(by=editor, project=other, side="rok", kind="planned", amount=Decimal("99"),
                         currency="USD")
    html = _get(client, viewer, "/").content.decode()
    assert 'data-testid="dashboard-resources"' in html
    assert _cells(html, "USD")[("rok", "planned")] == "$99.00"
    assert _cells(html, "USD")[("all", "planned")] == "$1,250,099.50"
    html = _get(client, viewer, "/", side="us").content.decode()
    assert _cells(html, "USD") == EXPECTED_USD and _cells(html, "KRW") == EXPECTED_KRW
    html = _get(client, viewer, "/", side="joint").content.decode()
    assert 'data-testid="resource-totals-none"' in html


# --- The SCM report ----------------------------------------------------------------------


@pytest.fixture
def counting(make_project, advance, editor):
    """A project that counts for the 2026 SCM, with USD and KRW lines; one that does not."""
    SCMCycle.objects.create(number=58, year=2026, meeting_date=D(2026, 11, 5), location="Washington")
    project = advance(make_project(title="Coast guard MDA training"), "under_review", "prioritized", "ready",
                      ready_on=D(2026, 2, 1), today=D(2026, 3, 1))
    _add_lines(project, editor)
    idle = make_project(title="Not ready yet")
    resource_line_create(by=editor, project=idle, side="us", kind="planned", amount=Decimal("7"), currency="USD")
    return project


def test_the_report_page_totals_its_counting_projects(client, viewer, counting):
    response = _get(client, viewer, "/scm/2026/report/")
    html = response.content.decode()
    assert 'data-testid="report-resources"' in html
    assert _cells(html, "USD") == EXPECTED_USD  # not the $7 of the project that does not count
    assert _cells(html, "KRW") == EXPECTED_KRW


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) is not installed")
def test_the_report_pdf_carries_the_totals(client, viewer, counting, tmp_path):
    response = _get(client, viewer, "/scm/2026/report.pdf")
    assert response.status_code == 200
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    usd, krw = text.split("Totals in USD", 1)[1].split("Totals in KRW", 1)
    krw = krw.split("Coverage", 1)[0]

    def row(table, side):  # the cells of a row: planned, committed, spent
        line = next(line for line in table.splitlines() if line.strip().startswith(side))
        return line.strip()[len(side):].split()

    assert row(usd, "U.S.") == ["$1,250,000.50", "—", "—"]
    assert row(usd, "Partner") == ["—", "—", "$5,000.00"]
    assert row(krw, "U.S.") == ["₩1,300,000,000", "—", "—"]
    assert row(krw, "ROK") == ["—", "₩2,000,000,000", "—"]
    assert "$7.00" not in text  # the project that does not count


def test_the_report_xlsx_has_a_resources_sheet_one_row_per_currency_side_and_kind(client, viewer, counting):
    response = _get(client, viewer, "/scm/2026/report.xlsx")
    book = load_workbook(io.BytesIO(response.content))
    assert "Resources" in book.sheetnames
    rows = [r for r in book["Resources"].iter_rows(values_only=True) if r and r[0] in ("USD", "KRW")]
    assert {(r[0], r[1], r[2]): r[3] for r in rows} == {
        ("USD", "U.S.", "Planned"): Decimal("1250000.50"), ("USD", "Partner", "Spent"): 5000,
        ("KRW", "U.S.", "Planned"): 1300000000, ("KRW", "ROK", "Committed"): 2000000000}
    assert {(r[0], r[1], r[2]): r[4] for r in rows}[("USD", "U.S.", "Planned")] == 2  # two lines


# --- The project exports ---------------------------------------------------------------------


def _csv(client, viewer, **params):
    text = _get(client, viewer, "/projects/export.csv", **params).content.decode("utf-8-sig")
    rows = [r for r in csv.reader(io.StringIO(text))]
    header_at = next(i for i, r in enumerate(rows) if "ID" in r)  # after a handling-marking row, if any
    return rows[header_at], rows[header_at + 1:]


def test_the_csv_export_has_totals_per_kind_and_currency_and_per_side(client, viewer, project):
    header, rows = _csv(client, viewer)
    (row,) = rows
    value = dict(zip(header, row, strict=True))
    assert value["Planned USD"] == "1250000.50" and value["Planned KRW"] == "1300000000"
    assert value["Committed KRW"] == "2000000000" and value["Spent USD"] == "5000.00"
    assert value["Committed USD"] == "" and value["Spent KRW"] == ""
    assert value["U.S. · Planned USD"] == "1250000.50" and value["U.S. · Planned KRW"] == "1300000000"
    assert value["ROK · Committed KRW"] == "2000000000" and value["Partner · Spent USD"] == "5000.00"
    assert value["ROK · Planned USD"] == "" and value["Side not given · Planned USD"] == ""
    assert header[-7:] == ["External id", "Updated", "English title", "Korean title",  # issue 13 appended 3
                           "Version", "U.S. lead POC e-mail", "ROK lead POC e-mail"]


def test_the_xlsx_export_carries_numbers(client, viewer, project):
    response = _get(client, viewer, "/projects/export.xlsx")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    header_at = next(i for i, r in enumerate(rows) if "ID" in r)
    value = dict(zip(rows[header_at], rows[header_at + 1], strict=True))
    assert value["Planned KRW"] == 1300000000 and value["Planned USD"] == Decimal("1250000.50")
    assert value["U.S. · Planned USD"] == Decimal("1250000.50") and value["Committed USD"] is None


# --- Query counts: 10 vs 1,000 lines ---------------------------------------------------------


def _bulk(project, count, start=0):
    ResourceLine.objects.bulk_create(
        ResourceLine(project=project, side=["us", "rok", "partner", "industry"][n % 4],
                     kind=["planned", "committed", "spent"][n % 3], amount=Decimal(n % 1000),
                     currency=["USD", "KRW"][n % 2], fiscal_year=2020 + n % 10) for n in range(start, start + count))


def _queries(client, path, **params):
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
    assert response.status_code == 200
    return len(captured), response.content.decode()


@pytest.mark.parametrize("page", ["project", "dashboard", "export"])
def test_the_pages_cost_the_same_queries_for_10_and_1000_lines(client, editor, page):
    projects = [ProjectFactory(lead_side="us") for _ in range(2)]
    path = {"project": f"/projects/{projects[0].pk}/", "dashboard": "/", "export": "/projects/export.csv"}[page]
    client.force_login(editor)
    for project in projects:
        _bulk(project, 5)
    few, html = _queries(client, path, **({"side": "us"} if page == "dashboard" else {}))
    for project in projects:
        _bulk(project, 495, start=5)
    many, html = _queries(client, path, **({"side": "us"} if page == "dashboard" else {}))
    assert many == few
    if page == "project":
        assert html.count('data-testid="resource-line-') == 500


# --- The admin: the same rules, messages beside the fields ------------------------------------


def test_the_admin_applies_the_rules_and_shows_the_lines_on_the_project(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.org", "pw-for-tests-1")
    client.force_login(root)
    project = ProjectFactory(title="Coast guard MDA training")
    form = {"project": project.pk, "side": "", "source": "FMF", "fiscal_year": "2026", "kind": "planned",
            "amount": "-5", "currency": "USD", "note": "", "external_id": ""}
    response = client.post("/admin/projects/resourceline/add/", form)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Choose whose resources these are" in str(errors["side"])
    assert "cannot be negative" in str(errors["amount"])
    assert ResourceLine.all_objects.count() == 0
    response = client.post("/admin/projects/resourceline/add/", {**form, "side": "us", "amount": "1250000.50"})
    assert response.status_code == 302
    line = ResourceLine.objects.get()
    assert (line.amount, line.created_by) == (Decimal("1250000.50"), root)
    response = client.post(f"/admin/projects/resourceline/{line.pk}/change/", {**form, "side": "rok",
                                                                                 "amount": "7", "currency": "KRW"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    line.refresh_from_db()
    assert (line.side, line.amount, line.currency, line.version, line.updated_by) == (
        "rok", Decimal("7.00"), "KRW", 2, root)
    assert client.get("/admin/projects/resourceline/", {"q": "FMF"}).status_code == 200
    page = client.get(f"/admin/projects/cooperativeproject/{project.pk}/change/").content.decode()
    assert "FMF" in page  # the read-only inline

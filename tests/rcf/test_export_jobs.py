"""Exports at scale (issue 14, rcf.export_jobs and rcf.exports): an export
too large for the request becomes a background job with a progress page and
a download link only its owner can use (e-mailed when they left the page);
the CSV is streamed; the XLSX is written with openpyxl's write-only mode with
the cells of before; records are read in chunks, so no query carries an
``IN`` list longer than a chunk; the SCM report's PDF for a year of hundreds
of projects is a job too."""

import csv
import datetime
import io
import re
import shutil
import subprocess
import time
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from projects.models import CooperativeProject, ResourceLine
from rcf import export_jobs, exports
from rcf.models import ExportRun, OutboxMessage, PartnerCountry
from rcf.outbox import outbox_drain
from rcf.tasks import export_run
from tests.factories import ProjectFactory, ResourceLineFactory, UserFactory
from tests.test_outbox import worker_with_beat

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def folder(settings, tmp_path, monkeypatch):
    path = tmp_path / "exports"
    settings.RCF_EXPORT_DIR = str(path)
    monkeypatch.setenv("RCF_EXPORT_DIR", str(path))  # the worker process's
    return path


def _projects(count, **extra):
    countries = list(PartnerCountry.objects.order_by("iso2")[:3])
    projects = []
    for n in range(count):
        project = ProjectFactory(title=f"Export {n:03}", external_id=f"X-{n:03}", **extra)
        project.partner_countries.set(countries[: n % 3 + 1])
        projects.append(project)
    return projects


def _go_job(client, url, **params):
    """A large export: the GET offers the "Make the file" button (and makes nothing); its POST makes the run."""
    from urllib.parse import urlencode

    runs = ExportRun.objects.count()
    page = client.get(url, params)
    assert page.status_code == 200 and 'data-testid="export-make"' in page.content.decode(), page
    assert ExportRun.objects.count() == runs
    response = client.post(f"{url}?{urlencode(params)}" if params else url)
    assert response.status_code == 302, response
    assert re.fullmatch(r"/exports/\d+/", response["Location"]), response["Location"]
    return ExportRun.objects.get(pk=int(response["Location"].split("/")[2])), response["Location"]


# --- Streaming CSV and write-only XLSX: the same output as before --------------------------------------------


def _csv_before(header, rows) -> bytes:
    """The CSV as csv_response made it before issue 14 (one string built in memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow([exports._csv_cell(v) for v in header])
    for row in rows:
        writer.writerow([exports._csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode()


def _xlsx_before(header, rows) -> bytes:
    """The workbook as xlsx_response made it before issue 14 (openpyxl's normal mode)."""
    from openpyxl.cell import Cell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    sheet = book.create_sheet(title="Projects")
    for index, values in enumerate([header, *rows]):
        cells = []
        for value in values:
            value = exports.printable(exports._plain(value))
            cell = Cell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
                cell.quotePrefix = exports._formula_like(value)
            elif isinstance(value, Decimal) and value.is_finite():
                cell.number_format = exports.decimal_number_format(value)
            if index == 0:
                cell.font = Font(bold=True)
            cells.append(cell)
        sheet.append(cells)
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header, start=1):
        longest = max([len(str(name))] + [len(str(r[index - 1] or "")) for r in rows[:500]])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(10, longest + 2), 60)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cells(content: bytes):
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    cells = [[(c.value, c.data_type, c.number_format, bool(c.font.b), bool(c.quotePrefix)) for c in row]
             for row in sheet.iter_rows()]
    widths = {k: d.width for k, d in sheet.column_dimensions.items()}
    return cells, sheet.freeze_panes, widths


ROWS = [[1, "=HYPERLINK(\"x\")", Decimal("12.50"), None, datetime.date(2026, 3, 1), "＋full width", "한국어 제목"],
        [2, "'-x", Decimal("1000"), 7, None, "plain, with a comma", "line\nbreak"]]
HEADER = ["ID", "Title", "Amount", "Count", "Day", "Note", "Korean"]


def test_the_csv_is_streamed_and_its_bytes_are_those_of_before():
    response = exports.csv_response(filename="x.csv", header=HEADER, rows=iter(ROWS * 600))
    assert response.streaming
    chunks = list(response.streaming_content)
    assert len(chunks) > 1  # sent in pieces as it is made, not one string
    assert b"".join(chunks) == _csv_before(HEADER, ROWS * 600)


def test_the_write_only_xlsx_has_the_cells_of_before():
    made = exports.xlsx_response(filename="x.xlsx", sheets=[("Projects", HEADER, iter(ROWS * 3))]).content
    assert _cells(made) == _cells(_xlsx_before(HEADER, ROWS * 3))
    # write-only mode: the cells went out as inline strings, never a formula
    assert b"<f>" not in made


@pytest.mark.django_db
def test_the_project_csv_streams_and_equals_the_whole_text(client, viewer, folder):
    _projects(4)
    client.force_login(viewer)
    response = client.get("/projects/export.csv")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="rcf-projects-')
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert sorted(r["External id"] for r in csv.DictReader(io.StringIO(text))) == [f"X-{n:03}" for n in range(4)]


@pytest.mark.django_db
def test_no_query_carries_an_in_list_longer_than_a_chunk(client, viewer, settings, folder):
    settings.RCF_EXPORT_CHUNK_ROWS = 20
    projects = _projects(65)
    for project in projects[::2]:
        ResourceLineFactory(project=project, amount=Decimal("123456.78"))  # no id or year is this number
    client.force_login(viewer)
    for fmt in ("csv", "xlsx"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/projects/export.{fmt}")
            content = b"".join(response.streaming_content) if response.streaming else response.content
        lists = [len(m.split(",")) for q in queries for m in re.findall(r" IN \(([^()]*)\)", q["sql"])]
        assert lists and max(lists) <= 20, (fmt, max(lists))
        assert content.count(b"X-0") >= 65 or fmt == "xlsx"
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 65
    assert ResourceLine.objects.count() == 33
    assert sum(1 for r in rows if any(v in (Decimal("123456.78"), 123456.78) for v in r)) == 33


# --- Export jobs ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_large_export_answers_at_once_with_a_progress_page(client, editor, viewer, settings, folder):
    settings.RCF_EXPORT_INLINE_ROWS = 3
    _projects(5)
    client.force_login(editor)
    started = time.monotonic()
    run, url = _go_job(client, "/projects/export.xlsx", status="concept", headers="keys")
    assert time.monotonic() - started < 3  # nothing made in the request (a loaded test machine: not a timing test)
    assert run.kind == "projects" and run.fmt == "xlsx" and run.params == {"query": "status=concept&headers=keys"}
    assert OutboxMessage.objects.filter(topic=export_jobs.EXPORT_TOPIC, payload={"run": run.pk}).exists()
    page = client.get(url).content.decode()
    assert "waiting for the background worker" in page and 'data-hx-trigger="every 2s"' in page
    assert client.get(f"{url}download").status_code == 404  # nothing to download yet
    # Another user sees neither the page nor the file.
    client.force_login(viewer)
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_a_small_export_is_still_made_in_the_request(client, editor, settings, folder):
    settings.RCF_EXPORT_INLINE_ROWS = 5
    _projects(5)
    client.force_login(editor)
    response = client.get("/projects/export.xlsx")
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert not ExportRun.objects.exists()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_makes_the_file_the_owner_downloads_and_nobody_else(client, editor, viewer, settings,
                                                                          folder, tmp_path):
    settings.RCF_EXPORT_INLINE_ROWS = 10
    settings.RCF_EXPORT_INLINE_CSV_ROWS = 10
    _projects(30)
    client.force_login(editor)
    inline = {}
    for fmt in ("csv", "xlsx"):  # what the request makes when the export is small enough
        settings.RCF_EXPORT_INLINE_ROWS = settings.RCF_EXPORT_INLINE_CSV_ROWS = 1000
        response = client.get(f"/projects/export.{fmt}", {"status": "concept"})
        inline[fmt] = (b"".join(response.streaming_content) if response.streaming else response.content,
                       response["Content-Disposition"], response["Content-Type"])
    settings.RCF_EXPORT_INLINE_ROWS = settings.RCF_EXPORT_INLINE_CSV_ROWS = 10
    runs = {fmt: _go_job(client, f"/projects/export.{fmt}", status="concept") for fmt in ("csv", "xlsx")}
    with worker_with_beat(tmp_path) as worker:
        for _run, url in runs.values():
            deadline = time.monotonic() + 120
            while True:
                assert worker["proc"].poll() is None, worker["log"].read_text()
                fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
                if 'data-status="done"' in fragment:
                    break
                assert time.monotonic() < deadline, worker["log"].read_text()[-3000:]
                time.sleep(0.2)
            assert "data-hx-trigger" not in fragment and f"{url}download" in fragment
    for fmt, (run, url) in runs.items():
        response = client.get(f"{url}download")
        assert response.status_code == 200
        content = b"".join(response.streaming_content)
        body, disposition, content_type = inline[fmt]
        assert response["Content-Type"] == content_type and response["Content-Disposition"] == disposition
        if fmt == "csv":
            assert content == body and content.decode("utf-8-sig").count("X-0") == 30
        else:
            assert _cells(content) == _cells(body)
        run.refresh_from_db()
        assert run.rows_done == run.rows_total == 30
    assert not list(folder.glob("*.part"))
    # The user who watched the page is not e-mailed; another user cannot download.
    assert not OutboxMessage.objects.filter(topic=export_jobs.EXPORT_MAIL_TOPIC).exists()
    client.force_login(viewer)
    assert client.get(f"{runs['csv'][1]}download").status_code == 404
    assert client.get(runs["csv"][1]).status_code == 404


@pytest.mark.django_db
def test_the_user_who_left_gets_an_e_mail_in_their_language(client, lead, us_lead_poc, settings, folder):
    settings.RCF_EXPORT_INLINE_CSV_ROWS = 2
    us_lead_poc.preferred_language = "ko"
    us_lead_poc.save()
    lead.email = "lead@example.org"
    lead.save()
    _projects(3)
    client.force_login(lead)
    run, url = _go_job(client, "/projects/export.csv")
    ExportRun.objects.filter(pk=run.pk).update(seen_at=timezone.now() - datetime.timedelta(minutes=5))
    assert export_run(run.pk) == "done"
    assert export_run(run.pk) == "nothing to do"  # a second delivery
    mail.outbox.clear()
    outbox_drain()
    (message,) = mail.outbox
    assert message.to == ["lead@example.org"]
    assert "내보내기" in message.subject and f"{settings.SITE_URL.rstrip('/')}{url}" in message.body
    assert client.get(f"{url}download").status_code == 200


@pytest.mark.django_db
def test_the_user_still_on_the_page_gets_no_e_mail(client, lead, settings, folder):
    settings.RCF_EXPORT_INLINE_CSV_ROWS = 2
    _projects(3)
    client.force_login(lead)
    run, url = _go_job(client, "/projects/export.csv")
    client.get(url, HTTP_HX_REQUEST="true")  # a poll just now
    assert export_run(run.pk) == "done"
    mail.outbox.clear()
    outbox_drain()
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_failing_job_says_so_and_leaves_no_file(client, editor, settings, folder, monkeypatch):
    settings.RCF_EXPORT_INLINE_ROWS = 2
    _projects(6)
    client.force_login(editor)
    run, url = _go_job(client, "/projects/export.xlsx")

    def broken(rows):
        for n, row in enumerate(rows):
            if n == 4:
                raise MemoryError("out of memory")
            yield row

    import projects.exports

    real = projects.exports.project_rows
    monkeypatch.setattr(projects.exports, "project_rows", lambda qs: broken(real(qs)))
    assert export_run(run.pk) == "failed"
    page = client.get(url).content.decode()
    assert 'data-status="failed"' in page and "The export failed unexpectedly (MemoryError); no file was made" in page
    assert client.get(f"{url}download").status_code == 404
    assert list(folder.iterdir()) == []  # no half file, not even a temporary one


@pytest.mark.django_db
def test_a_run_whose_worker_died_shows_failed(client, editor, settings, folder):
    settings.RCF_EXPORT_INLINE_ROWS = 2
    _projects(3)
    client.force_login(editor)
    run, url = _go_job(client, "/projects/export.xlsx")
    long_ago = timezone.now() - datetime.timedelta(minutes=10)
    ExportRun.objects.filter(pk=run.pk).update(status="running", started_at=long_ago, heartbeat_at=long_ago)
    page = client.get(url).content.decode()
    assert 'data-status="failed"' in page and "The background worker stopped while making this file" in page


@pytest.mark.django_db
def test_contacts_exports_become_jobs_too(client, admin_user, us_lead_poc, settings, folder):
    settings.RCF_EXPORT_INLINE_CSV_ROWS = 0
    client.force_login(admin_user)
    run, url = _go_job(client, "/contacts/export.csv", headers="keys")
    assert export_run(run.pk) == "done"
    text = b"".join(client.get(f"{url}download").streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0].startswith('"id","full_name"')


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) is not installed; CI installs it")
@pytest.mark.django_db
def test_the_report_pdf_of_a_year_of_300_projects_is_a_job_with_stages(client, viewer, settings, folder):
    from scm_reports.models import SCMCycle
    from scm_reports.selectors import scm_windows

    settings.RCF_EXPORT_INLINE_PDF_PROJECTS = 200
    SCMCycle.objects.create(number=58, year=2026, meeting_date=datetime.date(2026, 11, 5), location="Washington")
    start, _end = scm_windows()[2026]
    CooperativeProject.objects.bulk_create(ProjectFactory.build_batch(
        310, status="ready", priority=3, ready_on=start + datetime.timedelta(days=3)))
    ProjectFactory(title="Lighthouse for the year", status="ready", priority=2,
                   ready_on=start + datetime.timedelta(days=4))
    client.force_login(viewer)
    started = time.monotonic()
    run, url = _go_job(client, "/scm/2026/report.pdf")
    assert time.monotonic() - started < 3  # counted, not rendered (a loaded test machine: not a timing test)
    assert run.kind == "scm_report_pdf" and run.file_name == "rcf-scm-report-2026.pdf"
    stages = []
    real_stage = export_jobs.Progress.stage

    def watch(self, name):
        real_stage(self, name)
        stages.append(client.get(url, HTTP_HX_REQUEST="true").content.decode())

    export_jobs.Progress.stage = watch
    try:
        assert export_run(run.pk) == "done"
    finally:
        export_jobs.Progress.stage = real_stage
    assert "collecting the report" in stages[0] and "laying out the PDF pages" in stages[1]
    response = client.get(f"{url}download")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="rcf-scm-report-2026.pdf"'
    pdf = folder.parent / "report.pdf"
    pdf.write_bytes(b"".join(response.streaming_content))
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "Lighthouse for the year" in text and "311 projects count" in text


@pytest.mark.django_db
def test_a_user_with_another_s_run_id_gets_404_not_the_file(client, editor, settings, folder):
    settings.RCF_EXPORT_INLINE_CSV_ROWS = 1
    _projects(2)
    client.force_login(editor)
    run, url = _go_job(client, "/projects/export.csv")
    export_run(run.pk)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get(f"{url}download").status_code == 404


# --- Starting a run: only a CSRF-checked POST, one run per same export, a cap per user (rsec 1) ----------------


@pytest.mark.django_db
def test_a_get_or_a_forged_post_starts_no_export_job(viewer, settings, folder):
    from django.test import Client

    settings.RCF_EXPORT_INLINE_CSV_ROWS = 2
    _projects(5)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(viewer)
    for _ in range(5):  # an <img src> or a link on another site
        page = browser.get("/projects/export.csv", HTTP_SEC_FETCH_SITE="cross-site")
        assert page.status_code == 200 and "more than 2 rows" in page.content.decode()
    assert browser.post("/projects/export.csv").status_code == 403  # a form on another site: no CSRF token
    assert not ExportRun.objects.exists() and not OutboxMessage.objects.filter(topic=export_jobs.EXPORT_TOPIC).exists()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = browser.post("/projects/export.csv", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and ExportRun.objects.count() == 1


@pytest.mark.django_db
def test_the_same_export_asked_twice_is_one_run_and_a_user_has_at_most_the_cap(client, viewer, editor, settings,
                                                                                 folder):
    settings.RCF_EXPORT_INLINE_CSV_ROWS = settings.RCF_EXPORT_INLINE_ROWS = 2
    settings.RCF_EXPORT_MAX_ACTIVE_PER_USER = 2
    _projects(5)
    client.force_login(viewer)
    first, url = _go_job(client, "/projects/export.csv", status="concept")
    again, again_url = _go_job(client, "/projects/export.csv", status="concept")
    assert again == first and again_url == url and ExportRun.objects.count() == 1
    _go_job(client, "/projects/export.xlsx", status="concept")
    refused = client.post("/projects/export.csv?headers=keys")
    assert refused.status_code == 429
    assert "You already have 2 exports being made" in refused.content.decode()
    assert ExportRun.objects.count() == 2
    ExportRun.objects.filter(pk=first.pk).update(status="done")  # one finished: room for another
    assert client.post("/projects/export.csv?headers=keys").status_code == 302
    client.force_login(editor)  # the cap is per user
    assert client.post("/projects/export.csv?headers=keys").status_code == 302
    assert ExportRun.objects.count() == 4


@pytest.mark.django_db
def test_a_role_removed_after_asking_gets_no_file(client, viewer, settings, folder):
    settings.RCF_EXPORT_INLINE_CSV_ROWS = 2
    _projects(5)
    client.force_login(viewer)
    run, url = _go_job(client, "/projects/export.csv")
    viewer.groups.clear()
    viewer.user_permissions.clear()
    assert export_run(run.pk) == "failed"
    run.refresh_from_db()
    assert "no longer has access" in run.error and not export_jobs.file_path(run).exists()
    assert "no longer has access" in client.get(url).content.decode()


@pytest.mark.django_db
def test_a_file_made_is_not_downloaded_once_the_role_is_gone(client, viewer, settings, folder):
    settings.RCF_EXPORT_INLINE_CSV_ROWS = 2
    _projects(5)
    client.force_login(viewer)
    run, url = _go_job(client, "/projects/export.csv")
    assert export_run(run.pk) == "done"
    assert client.get(f"{url}download").status_code == 200
    groups = list(viewer.groups.all())
    viewer.groups.clear()
    viewer.user_permissions.clear()
    assert client.get(f"{url}download").status_code == 403
    viewer.groups.set(groups)
    viewer.is_active = False
    viewer.save()
    assert client.get(f"{url}download").status_code != 200  # deactivated: signed out


@pytest.mark.django_db
def test_a_file_past_its_hours_is_gone_even_before_the_sweep_and_a_stuck_run_polls_slowly(client, editor, settings,
                                                                                         folder):
    # The page and the e-mail promise the file for RCF_EXPORT_KEEP_HOURS; it is not served after that, even
    # when no sweep has run yet (beat sweeps hourly). A run no worker takes up polls every 30 s, not every 2.
    from rcf.tasks import exports_sweep

    settings.RCF_EXPORT_INLINE_ROWS = 2
    _projects(3)
    client.force_login(editor)
    run, url = _go_job(client, "/projects/export.xlsx")
    ExportRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    stuck = client.get(url).content.decode()
    assert 'data-testid="export-waiting-long"' in stuck and 'data-hx-trigger="every 30s"' in stuck
    assert export_run(run.pk) == "done"
    assert client.get(f"{url}download").status_code == 200
    ExportRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - datetime.timedelta(hours=25))
    assert client.get(f"{url}download").status_code == 404
    assert 'data-testid="export-expired"' in client.get(url).content.decode()
    import os
    import time

    stored = next(folder.iterdir())
    old = time.time() - 25 * 3600
    os.utime(stored, (old, old))
    assert exports_sweep() == 1 and list(folder.iterdir()) == []

"""The handling marking of outputs (issue 11, RCF_HANDLING_MARKING): on
every page (top and bottom), in the SCM report PDF's header and footer, on
the first row of every CSV and XLSX sheet, in e-mails; and nowhere when it
is empty."""

import csv
import datetime
import io
import re
import shutil
import subprocess

import pytest
import time_machine
from django.core import mail
from django.test import Client
from openpyxl import load_workbook

from projects import services as project_services
from projects.models import Concurrence
from scm_reports.models import ReadinessFlag, SCMCycle
from scm_reports.services import concurrence_reminders_send, readiness_flags_sync, readiness_notice_send
from tests.factories import PointOfContactFactory, country

pytestmark = pytest.mark.django_db

D = datetime.date
NOW = datetime.datetime(2026, 3, 1, 3, 0, tzinfo=datetime.UTC)
BANNER = re.compile(r'<div class="marking-banner marking-(top|bottom)" role="note" '
                    r'aria-label="Handling marking: ([^"]*)"[^>]*>([^<]*)</div>')


@pytest.fixture(params=["CUI", ""], ids=["marking set", "no marking"])
def marking(request, settings):
    settings.RCF_HANDLING_MARKING = request.param
    return request.param


def banners(html: str) -> list[tuple[str, str]]:
    return [(position, text) for position, label, text in BANNER.findall(html) if label == text]


def assert_marked(html: str, marking: str):
    if marking:
        assert banners(html) == [("top", marking), ("bottom", marking)]
        body = html.split("<body", 1)[1].split(">", 1)[1].strip()
        assert body.startswith('<div class="marking-banner marking-top"')  # the first thing on the page
        assert re.search(rf">{marking}</div>\s*</body>\s*</html>\s*$", html)  # and the last
    else:
        assert "marking-banner" not in html


def test_every_kind_of_page_shows_the_marking_at_top_and_bottom(marking, client, viewer, administrator):
    anonymous = Client()
    assert_marked(anonymous.get("/accounts/login/").content.decode(), marking)
    client.force_login(viewer)
    for url in ("/", "/projects/", "/contacts/", "/no-such-page/"):
        assert_marked(client.get(url).content.decode(), marking)
    # The plain error pages, rendered without the request (here: a NUL in the query, 400).
    response = client.get("/projects/", {"q": "a\x00b"})
    assert response.status_code == 400
    assert_marked(response.content.decode(), marking)
    client.force_login(administrator)
    admin_page = client.get("/admin/").content.decode()
    assert (banners(admin_page) == [("top", marking), ("bottom", marking)]) if marking else \
        "marking-banner" not in admin_page


def test_the_marking_is_escaped_on_pages_and_in_the_pdf_css(settings, client, viewer):
    settings.RCF_HANDLING_MARKING = 'CUI <b>"x"</b>'
    client.force_login(viewer)
    page = client.get("/").content.decode()
    assert "CUI &lt;b&gt;&quot;x&quot;&lt;/b&gt;" in page and "<b>" not in page
    from django.template import Context, Template

    css = Template("{% load handling_marking %}{% handling_marking_css %}").render(Context())
    assert css == '"CUI \\3c b\\3e \\22 x\\22 \\3c /b\\3e "'


@pytest.fixture
def report_data(make_project, advance):
    SCMCycle.objects.create(number=58, year=2026, meeting_date=D(2026, 11, 5), location="Washington")
    advance(make_project(title="Coast guard MDA training", partner_countries=[country("PH")]),
            "under_review", "prioritized", "ready", ready_on=D(2026, 2, 1), today=D(2026, 3, 1))


def _get(client, user, path, **params):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get(path, params)


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) is not installed")
def test_the_report_pdf_carries_the_marking_in_the_header_and_footer_of_every_page(
        marking, client, viewer, report_data, tmp_path):
    response = _get(client, viewer, "/scm/2026/report.pdf")
    assert response.status_code == 200
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert pages and "Coast guard MDA training" in text
    for page in pages:
        lines = [line.strip() for line in page.strip().splitlines() if line.strip()]
        if marking:
            assert lines[0] == marking  # the header
            assert re.fullmatch(rf"{marking}\s+\d+\s*/\s*\d+", lines[-1]) or lines[-1] == marking  # the footer
            assert sum(line.startswith(marking) for line in lines) == 2
        else:
            assert not any("CUI" in line for line in lines)


def test_every_xlsx_sheet_and_the_csv_start_with_the_marking(marking, client, viewer, report_data):
    header = "Priority area"
    workbook = load_workbook(io.BytesIO(_get(client, viewer, "/scm/2026/report.xlsx").content))
    assert len(workbook.sheetnames) >= 3
    for sheet in workbook.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        if marking:
            assert rows[0][0] == marking and not any(rows[0][1:])
            assert sheet.freeze_panes == "A3"
            first_header = rows[1]
        else:
            first_header = rows[0]
            assert sheet.freeze_panes == "A2"
        assert first_header[0] and first_header[0] != marking
    assert workbook.worksheets[0]["A2" if marking else "A1"].value == header

    projects = load_workbook(io.BytesIO(_get(client, viewer, "/projects/export.xlsx").content)).active
    assert projects["A1"].value == (marking or "ID")
    response = _get(client, viewer, "/projects/export.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    if marking:
        assert rows[0] == [marking] and rows[1][0] == "ID"
    else:
        assert rows[0][0] == "ID"
    assert any("Coast guard MDA training" in row for row in rows)


def test_a_readiness_notice_e_mail_starts_and_ends_with_the_marking(marking, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    PointOfContactFactory(side="us", is_lead=True, email="us.lead@example.org")
    readiness_flags_sync(today=D(2025, 12, 1))
    assert readiness_notice_send(flag_id=ReadinessFlag.objects.get().pk) == 1
    (message,) = mail.outbox
    lines = message.body.strip().splitlines()
    if marking:
        assert lines[0] == marking and lines[-1] == marking
        assert message.body.count(marking) == 2
    else:
        assert "CUI" not in message.body


def test_a_concurrence_reminder_starts_and_ends_with_the_marking(marking, settings, make_project, advance, lead,
                                                                 rok_lead_poc, mailoutbox):
    settings.RCF_JOINT_CONCURRENCE = True
    SCMCycle.objects.create(number=58, year=2026, meeting_date=D(2026, 11, 5), location="Washington")
    project = advance(make_project(), "under_review")
    proposal = project_services.project_transition(project=project, to="prioritized", by=lead, priority=2)
    Concurrence.objects.filter(pk=proposal.pk).update(proposed_at=datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC))
    assert concurrence_reminders_send(today=D(2026, 10, 1)) == 1
    lines = mailoutbox[0].body.strip().splitlines()
    assert (lines[0] == lines[-1] == marking) if marking else "CUI" not in mailoutbox[0].body


def test_a_documents_own_marking_is_shown_beside_it(client, editor, viewer):
    from projects.services import document_upload
    from tests import document_samples as samples
    from tests.factories import ProjectFactory

    project = ProjectFactory()
    document_upload(by=editor, file=samples.upload("notes.txt", samples.TXT), title="Minutes", marking="CUI",
                    project=project)
    client.force_login(viewer)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert re.search(r'>Minutes</a> <span class="badge marking"[^>]*>CUI</span>', page)

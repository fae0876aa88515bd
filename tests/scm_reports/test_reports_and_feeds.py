"""The SCM report (page, PDF, XLSX), the project exports and the calendar feed."""

import datetime
import io
import shutil
import subprocess

import pytest
import time_machine
from icalendar import Calendar
from openpyxl import load_workbook

from projects.services import project_transition
from scm_reports.models import ReadinessFlag, SCMCycle
from scm_reports.services import readiness_flags_sync
from tests.factories import area, country

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 3, 1)
NOW = datetime.datetime(2026, 3, 1, 3, 0, tzinfo=datetime.UTC)


@pytest.fixture
def report_data(make_project, advance, lead):
    SCMCycle.objects.create(number=58, year=2026, meeting_date=D(2026, 11, 5), location="Washington")
    p1 = advance(make_project(title="Coast guard MDA training", partner_countries=[country("PH"), country("FJ")]),
                 "under_review", "prioritized", "ready", ready_on=D(2026, 2, 1), today=TODAY)
    p2 = advance(make_project(title="Cyber range for partners", priority_area=area("technical-cooperation"),
                              additional_areas=[area("capacity-building")], partner_countries=[country("SG")]),
                 "under_review", "prioritized", "ready", ready_on=D(2026, 11, 4), today=D(2026, 11, 4))
    earlier = advance(make_project(title="Patrol boat MRO", partner_countries=[country("VN")]),
                      "under_review", "prioritized", "ready", "presented", ready_on=D(2025, 5, 1), today=TODAY)
    project_transition(project=earlier, to="in_implementation", by=lead)
    advance(make_project(title="Not ready yet"), "under_review")
    readiness_flags_sync(today=D(2025, 12, 1))  # 2025 was covered: nothing; then 2026 below
    readiness_flags_sync(today=D(2026, 9, 1))
    return {"counting": [p1, p2], "earlier": earlier}


def _get(client, user, path, **params):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get(path, params)


def test_the_report_page_lists_what_counts_grouped_by_area_with_coverage(client, viewer, report_data):
    response = _get(client, viewer, "/scm/2026/report/")
    report = response.context["report"]
    assert [p.title for p in report["counting"]] == ["Coast guard MDA training", "Cyber range for partners"]
    by_area = {g["area"].code: [p.title for p in g["projects"]] for g in report["by_area"] if g["projects"]}
    assert by_area == {"maritime-security": ["Coast guard MDA training"],
                       "technical-cooperation": ["Cyber range for partners"]}
    # Earlier SCMs as counts per year and status, linked to the project list (issue 14).
    assert [(r["year"], r["total"], [(s["status"], s["count"]) for s in r["statuses"]]) for r in report["earlier"]] \
        == [(2025, 1, [("in_implementation", 1)])]
    covered = {row["area"].code for row in report["area_coverage"] if row["covered"]}
    assert covered == {"maritime-security", "technical-cooperation", "capacity-building"}
    groups = {g["label"]: sorted(c.iso2 for c in g["covered"]) for g in report["group_coverage"]}
    assert groups == {"ASEAN": ["PH", "SG"], "Pacific Island countries": ["FJ"]}
    assert [(f.year, f.kind) for f in report["flags"]] == list(
        ReadinessFlag.objects.filter(year=2026).order_by("raised_at").values_list("year", "kind"))
    html = response.content.decode()
    assert "58th SCM (2026)" in html and "Jordan Lee" in html and "Kim Min-jun" in html


def test_a_year_outside_the_rule_is_404(client, viewer, report_data):
    assert _get(client, viewer, "/scm/1990/report/").status_code == 404  # no SCM recorded, before the framework
    # An SCM before the framework has a page all the same (what was presented there), without readiness.
    page = _get(client, viewer, "/scm/2019/report/")
    assert page.status_code == 200 and "before the framework" in page.content.decode()


def test_the_xlsx_opens_and_matches_the_page(client, viewer, report_data):
    page = _get(client, viewer, "/scm/2026/report/").context["report"]
    response = _get(client, viewer, "/scm/2026/report.xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Projects", "Presented and decided", "Earlier SCMs", "Flags", "Coverage", "Resources"]
    rows = list(book["Projects"].iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in rows] == [p.title for p in page["counting"]]
    assert rows[0][3] == "Philippines, Fiji" or rows[0][3] == "Fiji, Philippines"
    # Earlier SCMs: counts per year and status, as the page (issue 14).
    assert list(book["Earlier SCMs"].iter_rows(min_row=2, values_only=True)) == [(2025, "In implementation", 1)]
    assert len(list(book["Flags"].iter_rows(min_row=2))) == len(page["flags"])


@pytest.mark.skipif(not shutil.which("pdftoppm") or not shutil.which("pdftotext"),
                    reason="poppler-utils (pdftoppm, pdftotext) is not installed; CI installs it")
def test_the_pdf_renders_to_pages_holding_the_project_titles(client, viewer, report_data, tmp_path):
    response = _get(client, viewer, "/scm/2026/report.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages and all(p.stat().st_size > 1000 for p in pages)
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    for title in ("Coast guard MDA training", "Cyber range for partners"):
        assert title in text
    assert "Patrol boat MRO" not in text and "In implementation 1" in text  # earlier SCMs: counts (issue 14)


def test_project_list_exports_follow_the_filters_and_defuse_formulas(client, viewer, make_project):
    make_project(title="=HYPERLINK(\"http://evil\")", partner_countries=[country("PH")])
    make_project(title="Plain one", partner_countries=[country("FJ")])
    response = _get(client, viewer, "/projects/export.csv", country="PH")
    text = response.content.decode("utf-8-sig")
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Plain one" not in text
    assert "'=HYPERLINK" in text
    response = _get(client, viewer, "/projects/export.xlsx", country_group="pacific_islands")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in rows] == ["Plain one"]
    assert _get(client, viewer, "/projects/export.pdf").status_code == 404


def test_the_calendar_feed_parses_and_holds_the_right_dates(client, viewer, report_data, settings):
    settings.RCF_AT_RISK_DAYS = 90
    page = _get(client, viewer, "/calendar/")
    url = page.context["feed_url"]
    client.logout()  # calendar applications have no session
    response = client.get(url.replace("http://testserver", ""))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = {str(e.get("uid")): e for e in calendar.walk("VEVENT")}
    assert events["scm-58-meeting@rcf-tracker"].decoded("dtstart") == D(2026, 11, 5)
    assert str(events["scm-58-meeting@rcf-tracker"].get("location")) == "Washington"
    assert events["scm-58-deadline@rcf-tracker"].decoded("dtstart") == D(2026, 11, 4)
    assert events["scm-58-at-risk@rcf-tracker"].decoded("dtstart") == D(2026, 11, 4) - datetime.timedelta(days=90)
    assert events["scm-57-deadline@rcf-tracker"].decoded("dtstart") == D(2025, 11, 3)
    assert "scm-56-meeting@rcf-tracker" not in events  # before the framework's first year


def test_an_invalid_or_rotated_token_gets_404(client, viewer, report_data):
    old_url = _get(client, viewer, "/calendar/").context["feed_url"].replace("http://testserver", "")
    assert client.get("/calendar/not-a-real-token.ics").status_code == 404
    with time_machine.travel(NOW, tick=False):
        client.post("/calendar/")  # rotate
        new_url = client.get("/calendar/").context["feed_url"].replace("http://testserver", "")
    client.logout()
    assert new_url != old_url
    assert client.get(old_url).status_code == 404
    assert client.get(new_url).status_code == 200


def test_a_deactivated_user_s_feed_stops(client, viewer, report_data):
    url = _get(client, viewer, "/calendar/").context["feed_url"].replace("http://testserver", "")
    viewer.is_active = False
    viewer.save()
    client.logout()
    assert client.get(url).status_code == 404

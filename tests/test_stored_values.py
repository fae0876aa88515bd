"""No 500 from any stored value (issue 9).

Dates outside 1950-2100 and text with control characters are refused with
a message on the field (API, pages, admin); what was stored before the rules
existed (written here straight into the database, past the CHECK
constraints) never takes a page, an export, the feed or the job down.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, models
from icalendar import Calendar
from openpyxl import load_workbook

from contacts.models import Organization, PointOfContact
from projects.models import CooperativeProject, Engagement, ProjectTransition
from rcf.validators import DATE_MAX, DATE_MIN, printable, shift_date
from scm_reports.models import SCMCycle
from scm_reports.selectors import readiness_by_year
from scm_reports.tasks import flag_unready_years
from tests.api.conftest import issue_key
from tests.factories import country

pytestmark = pytest.mark.django_db

D = datetime.date
NOW = datetime.datetime(2026, 3, 1, 3, 0, tzinfo=datetime.UTC)
TODAY = D(2026, 3, 1)
ODD_DATES = ["0001-01-01", "9999-12-31", "1949-12-31", "2101-01-01"]
CONTROL = "Bad\x01title\x0bwith\x1bcontrols"


# --- Storing what the rules refuse, as a row from before them ------------------------


@contextlib.contextmanager
def _checks_off(model):
    """Let this test write what the bounds' CHECK constraints refuse: on
    SQLite by ignoring CHECK constraints for the connection, on PostgreSQL
    by dropping them inside the test's transaction (rolled back after it)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA ignore_check_constraints = ON")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA ignore_check_constraints = OFF")
        return
    quote = connection.ops.quote_name
    bounds = [c.name for c in model._meta.constraints if isinstance(c, models.CheckConstraint)
              and c.name.endswith("_in_bounds")]
    with connection.cursor() as cursor:
        # ALTER TABLE waits for no deferred foreign-key check of this transaction.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name in bounds:
            cursor.execute(f"ALTER TABLE {quote(model._meta.db_table)} DROP CONSTRAINT IF EXISTS {quote(name)}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    yield


def store(instance, **values):
    """Write ``values`` straight into ``instance``'s row, past every check."""
    model = type(instance)
    with _checks_off(model):
        model._base_manager.filter(pk=instance.pk).update(**values)


# --- Dates: refused at the door -------------------------------------------------------


def _api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_key(user)}")
    return client


@pytest.mark.parametrize("value", ODD_DATES)
def test_the_api_refuses_an_scm_date_outside_1950_2100_naming_the_field(administrator, value):
    client = _api(administrator)
    before = SCMCycle.all_objects.count()
    response = client.post("/api/v1/scm-cycles/", {"number": 90, "meeting_date": value}, format="json")
    assert response.status_code == 400, response.content
    assert "meeting_date" in response.json()
    assert "1950-01-01" in json.dumps(response.json()) and "2100-12-31" in json.dumps(response.json())
    assert SCMCycle.all_objects.count() == before

    cycle = SCMCycle.objects.create(number=91, year=2030, meeting_date=D(2030, 10, 1))
    response = client.patch(f"/api/v1/scm-cycles/{cycle.pk}/", {"readiness_deadline": value}, format="json",
                            HTTP_IF_MATCH=f'"{cycle.version}"')
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["readiness_deadline"]
    cycle.refresh_from_db()
    assert cycle.readiness_deadline is None


@pytest.mark.parametrize("meeting, year", [(D(1950, 1, 1), 1950), (D(2100, 12, 31), 2100)])
def test_the_api_accepts_the_boundary_dates(administrator, meeting, year):
    client = _api(administrator)
    response = client.post("/api/v1/scm-cycles/", {"number": 200 + year % 100, "meeting_date": meeting.isoformat(),
                                                  "readiness_deadline": meeting.isoformat()}, format="json")
    assert response.status_code == 201, response.content
    assert SCMCycle.objects.get(pk=response.json()["id"]).year == year
    # The job and the rule work on the boundary year.
    assert flag_unready_years(today=meeting.isoformat()) is not None
    assert client.get("/api/v1/readiness/", {"today": meeting.isoformat()}).status_code == 200


def test_the_api_refuses_odd_dates_on_projects_engagements_and_steps(lead, rok_lead, make_project):
    client = _api(lead)
    project = make_project()
    response = client.patch(f"/api/v1/projects/{project.pk}/", {"start_date": "0001-01-01",
                                                                 "end_date": "9999-12-31"},
                            format="json", HTTP_IF_MATCH=f'"{project.version}"')
    assert response.status_code == 400
    assert set(response.json()) == {"start_date", "end_date"}
    response = client.post("/api/v1/engagements/", {"projects": [project.pk], "date": "2101-01-01", "kind": "call",
                                                    "summary": "Call"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["date"]
    project = _step(client, project, to="under_review")
    # Prioritising is a joint decision (issue 10): proposed by the U.S. lead, concurred with by the ROK lead.
    proposal = client.post(f"/api/v1/projects/{project.pk}/transition/", {"to": "prioritized", "priority": 3},
                           format="json")
    assert proposal.status_code == 202, proposal.content
    assert _api(rok_lead).post(f"/api/v1/concurrences/{proposal.json()['id']}/concur/", {},
                               format="json").status_code == 200
    project.refresh_from_db()
    response = client.post(f"/api/v1/projects/{project.pk}/transition/", {"to": "ready", "ready_on": "1949-12-31"},
                           format="json", HTTP_IF_MATCH=f'"{project.version}"')
    assert response.status_code == 400 and list(response.json()) == ["ready_on"]
    assert client.get("/api/v1/readiness/", {"today": "9999-12-31"}).status_code == 400
    project.refresh_from_db()
    assert project.status == "prioritized" and project.start_date is None


def _step(client, project, *, to, priority=None):
    body = {"to": to, **({"priority": priority} if priority else {})}
    response = client.post(f"/api/v1/projects/{project.pk}/transition/", body, format="json",
                           HTTP_IF_MATCH=f'"{project.version}"')
    assert response.status_code == 200, response.content
    project.refresh_from_db()
    return project


def test_the_pages_refuse_odd_dates_on_the_field(client, administrator, lead, make_project):
    client.force_login(administrator)
    response = client.post("/scm/new/", {"number": 95, "year": 9999, "meeting_date": "9999-12-31"})
    assert response.status_code == 400
    assert "meeting_date" in response.context["form"].errors
    assert "Give a date between 1950-01-01 and 2100-12-31" in response.content.decode()
    assert not SCMCycle.objects.filter(number=95).exists()
    response = client.post("/scm/new/", {"number": 95, "year": 2100, "meeting_date": "2100-12-31",
                                         "readiness_deadline": "2100-12-31"})
    assert response.status_code == 302
    assert SCMCycle.objects.get(number=95).meeting_date == DATE_MAX
    assert 'min="1950-01-01" max="2100-12-31"' in client.get("/scm/new/").content.decode()

    client.force_login(lead)
    project = make_project()
    response = client.post(f"/projects/{project.pk}/engagements/", {"date": "0001-01-01", "kind": "call",
                                                                    "summary": "Call"})
    assert response.status_code == 400
    assert not Engagement.objects.exists()
    assert "Give a date between" in response.content.decode()


def test_the_lifecycle_step_form_refuses_an_odd_ready_date_naming_it(client, lead, make_project, advance):
    project = advance(make_project(), "under_review", "prioritized")
    client.force_login(lead)
    response = client.post(f"/projects/{project.pk}/transition/", {"to": "ready", "ready_on": "1949-12-31",
                                                                   "note": "ok", "version": project.version},
                           follow=True)
    text = response.content.decode()
    assert "Ready on Give a date between 1950-01-01 and 2100-12-31 (got 1949-12-31)." in text
    response = client.post(f"/projects/{project.pk}/transition/", {"to": "ready", "note": "a\x1bb",
                                                                   "version": project.version}, follow=True)
    assert "Note Remove the control character U+001B" in response.content.decode()
    project.refresh_from_db()
    assert project.status == "prioritized" and project.ready_on is None


def test_the_admin_refuses_odd_dates_on_the_field(client, administrator):
    client.force_login(administrator)
    response = client.post("/admin/scm_reports/scmcycle/add/", {
        "number": 96, "year": 2101, "meeting_date": "2101-01-01", "location": "", "notes": ""})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "meeting_date" in errors and "year" in errors
    assert not SCMCycle.objects.filter(number=96).exists()


def test_the_database_refuses_an_odd_date_whatever_the_code():
    from django.db import IntegrityError, transaction

    cycle = SCMCycle.objects.create(number=97, year=2030, meeting_date=D(2030, 10, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        SCMCycle.objects.filter(pk=cycle.pk).update(readiness_deadline=D(1, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        SCMCycle.objects.filter(pk=cycle.pk).update(meeting_date=D(2101, 1, 1), year=2101)


def test_the_migration_names_the_rows_it_cannot_bound(make_project):
    """The CHECK constraints cannot be added over an odd row: the migration
    stops and lists each one instead of failing on a constraint error."""
    from django.apps import apps
    from django.core.management.base import CommandError

    from rcf.validators import refuse_stored_dates_out_of_bounds

    project = make_project()
    cycle = SCMCycle.objects.create(number=98, year=2031, meeting_date=D(2031, 10, 1))
    refuse_stored_dates_out_of_bounds(apps, [("scm_reports", "SCMCycle", ["meeting_date", "readiness_deadline"])])
    store(cycle, readiness_deadline=D(1, 1, 1))
    store(project, end_date=D(9999, 12, 31))
    with pytest.raises(CommandError) as refused:
        refuse_stored_dates_out_of_bounds(apps, [
            ("scm_reports", "SCMCycle", ["meeting_date", "readiness_deadline"]),
            ("projects", "CooperativeProject", ["start_date", "end_date", "ready_on"]),
        ])
    message = str(refused.value)
    assert f"scm_reports.SCMCycle id {cycle.pk}: readiness_deadline = 0001-01-01" in message
    assert f"projects.CooperativeProject id {project.pk}: end_date = 9999-12-31" in message


# --- Dates already stored: nothing breaks ---------------------------------------------


@pytest.fixture
def odd_data(make_project, advance, lead):
    """What the API accepted before the bounds: SCMs on 0001-01-01 and
    9999-12-31, one in year 9000, a deadline on 0001-01-01, a project with
    dates at both ends and a title full of control characters, and the
    boundary SCM of 2100."""
    SCMCycle.objects.create(number=58, year=2026, meeting_date=D(2026, 11, 5), location="Wash\x1bington")
    boundary = SCMCycle.objects.create(number=132, year=2100, meeting_date=DATE_MAX, readiness_deadline=DATE_MAX)
    store(SCMCycle.objects.create(number=901, year=2090, meeting_date=D(2090, 1, 2)),
          meeting_date=D(1, 1, 1), year=1)
    store(SCMCycle.objects.create(number=902, year=2091, meeting_date=D(2091, 1, 2)),
          meeting_date=D(9999, 12, 31), year=9999)
    store(SCMCycle.objects.create(number=903, year=2092, meeting_date=D(2092, 1, 2)),
          meeting_date=D(9000, 6, 1), year=9000)
    store(SCMCycle.objects.create(number=59, year=2027, meeting_date=D(2027, 10, 1)), readiness_deadline=D(1, 1, 1))
    project = advance(make_project(title="Coast guard training", partner_countries=[country("PH")]),
                      "under_review", "prioritized", "ready", ready_on=D(2026, 2, 1), today=TODAY)
    store(project, title=CONTROL, summary="Sum\x02mary\x1f", start_date=D(1, 1, 1), end_date=D(9999, 12, 31))
    engagement = Engagement.objects.create(date=D(2026, 2, 2), kind="call", summary="Call")
    engagement.projects.set([project])
    store(engagement, date=D(9999, 12, 31), summary="Ca\x07ll", location="Se\x0boul",
          other_participants=[{"name": "Ma\x07ria", "organization": "P\x0bCG"}])
    store(ProjectTransition.objects.filter(project=project, to_status="ready").get(), ready_on=D(1, 1, 1))
    store(PointOfContact.objects.get(pk=project.us_lead_poc_id), full_name="Jordan\x1b[31m Lee")
    stale = advance(make_project(title="Old ready project", partner_countries=[country("FJ")]),
                    "under_review", "prioritized", "ready", ready_on=D(2025, 5, 1), today=TODAY)
    store(stale, ready_on=D(1, 1, 1))
    return {"project": project, "boundary": boundary}


PAGES = [
    "/", "/?year=2100", "/?year=9999", "/projects/", "/projects/?sort=ready_on", "/projects/export.csv",
    "/projects/export.xlsx", "/scm/", "/scm/2026/report/", "/scm/2026/report.xlsx", "/scm/2100/report/",
    "/scm/2100/report.xlsx", "/scm/9999/report/", "/scm/9999/report.xlsx", "/contacts/",
]


def _get(client, path, **params):
    with time_machine.travel(NOW, tick=False):
        return client.get(path, params)


def test_every_page_answers_whatever_dates_and_text_are_stored(client, viewer, administrator, odd_data):
    client.force_login(viewer)
    project = odd_data["project"]
    for path in [*PAGES, f"/projects/{project.pk}/"]:
        response = _get(client, path)
        assert response.status_code in (200, 404), (path, response.status_code)
    client.force_login(administrator)
    for path in ["/admin/scm_reports/scmcycle/", f"/admin/projects/cooperativeproject/{project.pk}/change/",
                 "/admin/projects/engagement/", f"/admin/scm_reports/scmcycle/{odd_data['boundary'].pk}/change/"]:
        response = _get(client, path)
        assert response.status_code == 200, (path, response.status_code)


def test_the_dashboard_stays_small_with_an_scm_in_year_9000(client, viewer, odd_data):
    client.force_login(viewer)
    response = _get(client, "/")
    assert response.status_code == 200
    assert len(response.content) < 200_000  # 4.4 MB before the bounds
    years = response.context["board"].years
    assert years[0] == 2025 and years[-1] == 2100  # never beyond the bounds


def test_the_rule_and_the_job_answer_with_odd_dates_stored(odd_data, settings):
    rows = readiness_by_year(today=TODAY, with_project_ids=True)
    assert rows[-1].year == 2100 and rows[-1].deadline == DATE_MAX and rows[-1].at_risk_from == D(2100, 10, 2)
    by_year = {r.year: r for r in rows}
    assert by_year[2026].counting_project_ids == [odd_data["project"].pk]
    assert by_year[2027].deadline == D(1, 1, 1) and by_year[2027].state == "missed"
    assert by_year[2027].at_risk_from == datetime.date.min
    result = flag_unready_years(today=TODAY.isoformat())
    assert result is not None
    out = io.StringIO()
    call_command("flag_unready_years", "--today", "2026-03-01", "--json", stdout=out)
    json.loads(out.getvalue())
    # Even "today" far beyond the bounds: the years stop at 2100.
    assert readiness_by_year(today=D(9999, 12, 31))[-1].year == 2100


def test_the_readiness_api_answers_with_odd_dates_stored(viewer, odd_data):
    client = _api(viewer)
    with time_machine.travel(NOW, tick=False):
        response = client.get("/api/v1/readiness/")
        assert response.status_code == 200
        assert [r["year"] for r in response.json()][-1] == 2100
        for resource in ("scm-cycles", "projects", "engagements", "contacts"):
            assert client.get(f"/api/v1/{resource}/").status_code == 200, resource


def test_the_calendar_feed_answers_with_odd_values_stored(client, viewer, odd_data):
    client.force_login(viewer)
    url = _get(client, "/calendar/").context["feed_url"].replace("http://testserver", "")
    client.logout()
    response = _get(client, url)
    assert response.status_code == 200
    events = {str(e.get("uid")): e for e in Calendar.from_ical(response.content).walk("VEVENT")}
    assert events["scm-132-meeting@rcf-tracker"].decoded("dtstart") == DATE_MAX
    assert events["scm-132-meeting@rcf-tracker"].decoded("dtend") == D(2101, 1, 1)
    assert events["scm-59-at-risk@rcf-tracker"].decoded("dtstart") == datetime.date.min
    assert str(events["scm-58-meeting@rcf-tracker"].get("location")) == "Wash\ufffdington"
    assert "\x1b" not in response.content.decode()


def test_the_exports_carry_stored_control_characters_cleanly(client, viewer, odd_data):
    client.force_login(viewer)
    book = load_workbook(io.BytesIO(_get(client, "/projects/export.xlsx").content))
    titles = [row[1] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert "Bad\ufffdtitle\ufffdwith\ufffdcontrols" in titles
    report = _get(client, "/scm/2026/report.xlsx")
    assert report.status_code == 200
    rows = list(load_workbook(io.BytesIO(report.content))["Projects"].iter_rows(min_row=2, values_only=True))
    assert rows[0][1] == "Bad\ufffdtitle\ufffdwith\ufffdcontrols"
    assert rows[0][2] == "Sum\ufffdmary\ufffd" and rows[0][4] == "Jordan\ufffd[31m Lee"
    text = _get(client, "/projects/export.csv").content.decode("utf-8-sig")
    assert "Bad\ufffdtitle" in text and "\x01" not in text and "\x1b" not in text


def test_the_pdf_report_renders_with_control_characters_stored(client, viewer, odd_data):
    pytest.importorskip("weasyprint", exc_type=OSError)
    client.force_login(viewer)
    response = _get(client, "/scm/2026/report.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_the_date_helpers_hold_at_the_ends():
    assert shift_date(datetime.date.max, 1) == datetime.date.max
    assert shift_date(datetime.date.min, -90) == datetime.date.min
    assert shift_date(DATE_MIN, -1) == D(1949, 12, 31)
    assert printable("a\x00b\tc\nd\re\x7f") == "a\ufffdb\tc\nd\re\x7f"


# --- Text: refused at the door --------------------------------------------------------


def test_the_api_refuses_control_characters_naming_each_field(editor, make_project):
    client = _api(editor)
    response = client.post("/api/v1/projects/", {"title": CONTROL, "summary": "ok\r\nfine\tline",
                                                "channel": "a\x1bb", "priority_area": "maritime-security",
                                                "lead_side": "joint"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"title", "channel"}
    assert "U+0001" in body["title"][0]
    response = client.post("/api/v1/organizations/", {"name": "Ya\x0crd", "side": "industry"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["name"]
    project = make_project()
    response = client.post("/api/v1/engagements/", {"projects": [project.pk], "date": "2026-03-02", "kind": "call",
                                                    "summary": "Call\x08", "location": "Seoul",
                                                    "other_participants": [{"name": "Ma\x07ria"}]}, format="json")
    assert response.status_code == 400 and sorted(response.json()) == ["other_participants", "summary"]
    response = client.post(f"/api/v1/projects/{project.pk}/transition/", {"to": "under_review", "note": "x\x1b"},
                           format="json", HTTP_IF_MATCH=f'"{project.version}"')
    assert response.status_code == 400 and list(response.json()) == ["note"]
    # Tabs and line breaks are text.
    response = client.post("/api/v1/projects/", {"title": "Tab\there", "summary": "Line one\r\nLine two",
                                                "priority_area": "maritime-security", "lead_side": "joint"},
                           format="json")
    assert response.status_code == 201, response.content


def test_the_pages_refuse_control_characters_on_the_field(client, editor):
    client.force_login(editor)
    response = client.post("/projects/new/", {
        "title": CONTROL, "priority_area": "", "lead_side": "joint"})
    assert response.status_code == 400
    form = response.context["form"]
    assert "title" in form.errors and "U+0001" in form.errors["title"][0]
    assert not CooperativeProject.all_objects.filter(title=CONTROL).exists()


def test_the_admin_refuses_control_characters_on_the_field(client, administrator):
    client.force_login(administrator)
    response = client.post("/admin/contacts/organization/add/", {"name": "Bad\x1bname", "side": "industry",
                                                                 "name_ko": "", "website": "", "notes": ""})
    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors
    assert not Organization.all_objects.filter(side="industry").exists()


# --- List fields take lists ----------------------------------------------------------


@pytest.mark.parametrize("value", [{}, {"1": 1}, "1", 1])
def test_a_list_field_takes_only_a_list(editor, make_project, value):
    client = _api(editor)
    project = make_project()
    poc = PointOfContact.objects.get(pk=project.us_lead_poc_id)
    engagement = client.post("/api/v1/engagements/", {"projects": [project.pk], "date": "2026-03-02", "kind": "call",
                                                      "summary": "Call", "participants": [poc.pk]}, format="json")
    assert engagement.status_code == 201
    body = engagement.json()
    response = client.patch(f"/api/v1/engagements/{body['id']}/", {"participants": value}, format="json",
                            HTTP_IF_MATCH=f'"{body["version"]}"')
    assert response.status_code == 400 and list(response.json()) == ["participants"]
    assert list(Engagement.objects.get(pk=body["id"]).participants.values_list("pk", flat=True)) == [poc.pk]
    for name in ("partner_countries", "additional_areas", "industry_partners", "complemented_partners"):
        response = client.patch(f"/api/v1/projects/{project.pk}/", {name: value}, format="json",
                                HTTP_IF_MATCH=f'"{project.version}"')
        assert response.status_code == 400 and list(response.json()) == [name], name
    assert list(project.partner_countries.values_list("iso2", flat=True)) == ["PH"]

"""Engagements on the staff pages (issue 11): the /engagements/ list and its
filters, an engagement's page, logging (from the list or a project page,
with other participants and follow-up actions), editing and deleting; the
project and POC pages; the calendar feed."""

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.test.utils import CaptureQueriesContext

from projects.models import ActionItem, CooperativeProject, Engagement
from projects.services import engagement_create, engagement_delete, engagement_update, project_soft_delete
from tests.factories import OrganizationFactory, PointOfContactFactory, ProjectFactory, country

pytestmark = pytest.mark.django_db

D = datetime.date


def _post(data=None, *, others=(), follow_ups=None):
    """The form's fields plus its rows, as the browser sends them (3 empty rows each by default)."""
    body = {"kind": "meeting", "date": "2026-03-02", "summary": "Working-level meeting.", "location": ""}
    body.update(data or {})
    rows = list(others) + [{}] * max(0, 3 - len(others))
    body.update({"others-TOTAL_FORMS": str(len(rows)), "others-INITIAL_FORMS": "0"})
    for n, row in enumerate(rows):
        body[f"others-{n}-name"] = row.get("name", "")
        body[f"others-{n}-organization"] = row.get("organization", "")
    if follow_ups is not None:
        rows = list(follow_ups) + [{}] * max(0, 3 - len(follow_ups))
        body.update({"followups-TOTAL_FORMS": str(len(rows)), "followups-INITIAL_FORMS": "0"})
        for n, row in enumerate(rows):
            for key in ("title", "owner", "due_on"):
                body[f"followups-{n}-{key}"] = row.get(key, "")
    return body


class _Markup(HTMLParser):
    """Ids, labels' targets and form controls of a page."""

    def __init__(self):
        super().__init__()
        self.ids, self.label_for, self.controls = [], set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.controls.append(attrs)


def _assert_valid_form_markup(page: str) -> None:
    markup = _Markup()
    markup.feed(page)
    duplicates = {i for i in markup.ids if markup.ids.count(i) > 1}
    assert not duplicates, duplicates
    unlabelled = [c.get("name") for c in markup.controls
                  if c.get("id") not in markup.label_for and c.get("type") != "checkbox"
                  and not c.get("aria-label")]
    assert not unlabelled, unlabelled


def test_an_engagement_about_two_projects_is_on_both_project_pages(client, viewer, editor):
    coast, port = ProjectFactory(title="Coast guard training"), ProjectFactory(title="Port security")
    engagement = engagement_create(
        by=editor, projects=[coast, port], date=D(2026, 3, 2), kind="working_group", summary="Joint working group.",
        other_participants=[{"name": "Maria Santos", "organization": "Philippine Coast Guard"}])
    client.force_login(viewer)
    for project, other in ((coast, port), (port, coast)):
        page = client.get(f"/projects/{project.pk}/").content.decode()
        item = re.search(rf'<li data-testid="engagement-{engagement.pk}">(.*?)</li>', page, re.S).group(1)
        assert "Working group" in item and "Joint working group." in item
        assert f"Also about:</span> <a href=\"/projects/{other.pk}/\">{other.title}</a>" in item
        assert "Maria Santos (Philippine Coast Guard)" in item
    listed = client.get("/engagements/").content.decode()
    assert listed.count(f'data-testid="engagement-row-{engagement.pk}"') == 1
    assert "Coast guard training</a>; <a" in listed


def test_a_b2b_engagement_lists_its_industry_organisations(client, viewer, editor):
    project = ProjectFactory()
    shipyards = [OrganizationFactory(name="Hanwha Ocean", side="industry"),
                 OrganizationFactory(name="Austal USA", side="industry")]
    engagement = engagement_create(by=editor, projects=[project], date=D(2026, 4, 1), kind="b2b",
                                   summary="Shipyards met the coast guard.", industry_organizations=shipyards)
    client.force_login(viewer)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert re.search(rf'data-testid="industry-organizations-{engagement.pk}">Austal USA, Hanwha Ocean<', page)
    assert "Business-to-business meeting" in page
    detail = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert re.search(r'data-testid="industry-organizations">Austal USA, Hanwha Ocean<', detail)
    assert "B2B: Austal USA, Hanwha Ocean" in client.get("/engagements/").content.decode()


def test_logging_from_the_project_page_with_others_and_follow_ups(client, editor, us_lead_poc, rok_lead_poc):
    project, other = ProjectFactory(title="Coast guard training"), ProjectFactory(title="Port security")
    client.force_login(editor)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    _assert_valid_form_markup(page)
    assert 'name="followups-0-title"' in page and 'name="others-2-organization"' in page
    response = client.post(f"/projects/{project.pk}/engagements/", _post(
        {"projects": [other.pk], "participants": [us_lead_poc.pk], "kind": "visit", "summary": "Yard visit"},
        others=[{"name": "Maria Santos", "organization": "Philippine Coast Guard"}],
        follow_ups=[{"title": "Send the draft MOU", "owner": us_lead_poc.pk, "due_on": "2026-04-01"},
                    {"title": "Book the venue", "owner": rok_lead_poc.pk, "due_on": "2026-04-15"}]), follow=True)
    assert response.redirect_chain[-1][0] == f"/projects/{project.pk}/#engagements"
    assert "Engagement logged with 2 follow-up action(s)." in response.content.decode()
    engagement = Engagement.objects.get()
    assert set(engagement.projects.all()) == {project, other}
    assert engagement.other_participants == [{"name": "Maria Santos", "organization": "Philippine Coast Guard"}]
    actions = ActionItem.objects.filter(engagement=engagement).order_by("due_on")
    assert [(a.title, a.owner, a.project) for a in actions] == [
        ("Send the draft MOU", us_lead_poc, project), ("Book the venue", rok_lead_poc, project)]
    detail = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert "Send the draft MOU" in detail and "Book the venue" in detail  # its follow-ups, with "Done"


def test_a_bad_follow_up_row_is_named_beside_its_field_and_nothing_is_saved(client, editor, us_lead_poc):
    project = ProjectFactory(start_date=D(2026, 3, 1))
    client.force_login(editor)
    response = client.post(f"/projects/{project.pk}/engagements/", _post(
        follow_ups=[{"title": "Fine", "owner": us_lead_poc.pk, "due_on": "2026-04-01"},
                    {"title": "Too early", "owner": us_lead_poc.pk, "due_on": "2026-02-01"},
                    {"title": "", "owner": us_lead_poc.pk, "due_on": ""}]))
    assert response.status_code == 400
    follow_ups = response.context["engagement_form"].follow_ups
    assert follow_ups.forms[2].errors == {"title": ["Say what is to be done."], "due_on": ["Give a due date."]}
    page = response.content.decode()
    assert "<details open>" in page  # the form stays open with its messages
    assert 'id="log-engagement"' in page and 'id="form-errors"' in page  # at the form, its summary on top
    assert Engagement.all_objects.count() == 0 and ActionItem.all_objects.count() == 0
    # The same rows without the empty-titled one: the service's rule lands on row 2's due date.
    response = client.post(f"/projects/{project.pk}/engagements/", _post(
        follow_ups=[{"title": "Fine", "owner": us_lead_poc.pk, "due_on": "2026-04-01"},
                    {"title": "Too early", "owner": us_lead_poc.pk, "due_on": "2026-02-01"}]))
    assert response.status_code == 400
    row = response.context["engagement_form"].follow_ups.forms[1]
    assert row.errors == {"due_on": ["The due date cannot be before the project's start (2026-03-01)."]}
    assert "The due date cannot be before the project&#x27;s start (2026-03-01)." in response.content.decode()
    assert Engagement.all_objects.count() == 0 and ActionItem.all_objects.count() == 0


def test_bad_input_on_the_form_names_the_field_and_saves_nothing(client, editor, lead):
    deleted = ProjectFactory(title="Closed survey")
    project_soft_delete(project=deleted, by=lead)
    retired = PointOfContactFactory(full_name="Pat Retired", active=False)
    shipyard = OrganizationFactory(name="Hanwha Ocean", side="industry")
    client.force_login(editor)
    response = client.post("/engagements/new/", _post(
        {"date": "0001-01-01", "projects": [deleted.pk], "participants": [retired.pk],
         "industry_organizations": [shipyard.pk]},
        others=[{"organization": "Philippine Coast Guard"}]))
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"date", "projects", "participants"}
    assert form.others.forms[0].errors == {"name": ["Give the person's name (or clear the organisation)."]}
    page = response.content.decode()
    assert "Nothing was saved. Please correct the fields marked below." in page
    # Organisations on anything but a B2B meeting: the service says so beside the field, which then shows.
    response = client.post("/engagements/new/", _post({"industry_organizations": [shipyard.pk]}))
    assert response.status_code == 400
    assert response.context["form"].errors["industry_organizations"][0].startswith(
        "Only a business-to-business meeting lists")
    assert 'class="form-section b2b-only has-error"' in response.content.decode()
    assert Engagement.all_objects.count() == 0


def test_log_edit_and_delete_on_the_engagement_pages(client, editor, viewer, us_lead_poc):
    project = ProjectFactory(title="Coast guard training")
    shipyard = OrganizationFactory(name="Hanwha Ocean", side="industry")
    client.force_login(editor)
    form_page = client.get("/engagements/new/", {"project": project.pk})
    assert form_page.context["form"]["projects"].value() == [project.pk]
    _assert_valid_form_markup(form_page.content.decode())
    response = client.post(f"/engagements/new/?project={project.pk}", _post(
        {"kind": "b2b", "projects": [project.pk], "industry_organizations": [shipyard.pk],
         "partner_countries": [country("PH").pk]}), follow=True)
    engagement = Engagement.objects.get()
    assert response.redirect_chain[-1][0] == f"/engagements/{engagement.pk}/"
    assert list(engagement.industry_organizations.all()) == [shipyard]
    edit = client.get(f"/engagements/{engagement.pk}/edit/").content.decode()
    assert 'name="version" value="1"' in edit and 'value="Working-level meeting."' not in edit
    # Edited elsewhere meanwhile: the stale form is refused and says so.
    engagement_update(engagement=engagement, by=editor, summary="Changed elsewhere.")
    stale = client.post(f"/engagements/{engagement.pk}/edit/", _post(
        {"version": "1", "kind": "meeting", "summary": "Mine", "industry_organizations": []}))
    assert stale.status_code == 409 and "Someone else changed this engagement" in stale.content.decode()
    saved = client.post(f"/engagements/{engagement.pk}/edit/", _post(
        {"version": "2", "kind": "meeting", "summary": "Minutes added.", "projects": [project.pk]},
        others=[{"name": "Maria Santos", "organization": "PCG"}]), follow=True)
    assert "Engagement saved." in saved.content.decode()
    engagement.refresh_from_db()
    assert (engagement.kind, engagement.summary, engagement.version) == ("meeting", "Minutes added.", 3)
    assert engagement.other_participants == [{"name": "Maria Santos", "organization": "PCG"}]
    assert engagement.industry_organizations.count() == 0
    # A viewer sees no edit or delete button and may not open the forms.
    client.force_login(viewer)
    detail = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert f"/engagements/{engagement.pk}/edit/" not in detail and f"/engagements/{engagement.pk}/delete/" not in detail
    for url in ("/engagements/new/", f"/engagements/{engagement.pk}/edit/", f"/engagements/{engagement.pk}/delete/"):
        assert client.get(url).status_code == 403, url
    client.force_login(editor)
    assert "Delete the Meeting of" in client.get(f"/engagements/{engagement.pk}/delete/").content.decode()
    deleted = client.post(f"/engagements/{engagement.pk}/delete/", {"version": "3"}, follow=True)
    assert "deleted. An administrator can restore it." in deleted.content.decode()
    assert client.get(f"/engagements/{engagement.pk}/").status_code == 404
    assert "Minutes added." not in client.get(f"/projects/{project.pk}/").content.decode()


def test_the_list_filters_by_kind_project_poc_country_and_dates(client, viewer, editor):
    fiji_project = ProjectFactory(title="Fiji patrol")
    fiji_project.partner_countries.set([country("FJ")])
    other = ProjectFactory(title="Cyber")
    poc = PointOfContactFactory(full_name="Jordan Lee")
    a = engagement_create(by=editor, projects=[fiji_project], date=D(2026, 1, 10), kind="meeting", summary="A")
    b = engagement_create(by=editor, projects=[other], date=D(2026, 2, 10), kind="b2b", summary="B",
                          participants=[poc], partner_countries=["VN"])
    c = engagement_create(by=editor, date=D(2025, 12, 1), kind="call", summary="C", partner_countries=["FJ"])
    client.force_login(viewer)

    def listed(**params):
        response = client.get("/engagements/", params)
        assert response.status_code == 200
        return [e.pk for e in response.context["engagements"]]

    assert listed() == [b.pk, a.pk, c.pk]  # newest first
    assert listed(kind="b2b") == [b.pk]
    assert listed(project=fiji_project.pk) == [a.pk]
    assert listed(participant=poc.pk) == [b.pk]
    assert listed(country="FJ") == [a.pk, c.pk]  # its project's country, or its own
    assert listed(country="VN") == [b.pk]
    assert listed(date_after="2026-01-01", date_before="2026-01-31") == [a.pk]
    htmx = client.get("/engagements/", {"kind": "call"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    assert "<html" not in htmx.content.decode() and "1 engagement" in htmx.content.decode()
    page = client.get("/engagements/").content.decode()
    _assert_valid_form_markup(page)
    assert '<a href="/engagements/" aria-current="page">Engagements</a>' in page
    client.cookies["django_language"] = "ko"
    korean = client.get("/engagements/", {"kind": "b2b"}).content.decode()
    assert "협의 활동 1건" in korean and "기업 간(B2B) 회의" in korean and "시작일" in korean


@pytest.mark.parametrize("count", [10, 1000])
def test_the_list_issues_the_same_number_of_queries_for_10_and_1000_engagements(client, viewer, count):
    engagements = _many_engagements(count)
    assert Engagement.objects.count() == len(engagements) == count
    client.force_login(viewer)
    client.get("/engagements/")  # warm up: session, permissions cache
    with CaptureQueriesContext(_connection()) as queries:
        response = client.get("/engagements/")
    assert response.status_code == 200 and len(response.context["engagements"]) == min(count, 25)
    # savepoint + release (ATOMIC_REQUESTS), session, user, permissions (2), the filter form's choices
    # (projects, POCs, countries), count, page, projects, participants, industry organisations, countries
    assert len(queries) == 15, [q["sql"] for q in queries]


def _connection():
    from django.db import connection

    return connection


def _many_engagements(count):
    """``count`` engagements with two projects, a participant, an industry
    organisation and a country each (bulk, for speed)."""
    projects = [ProjectFactory(title="One"), ProjectFactory(title="Two")]
    poc = PointOfContactFactory()
    shipyard = OrganizationFactory(side="industry")
    engagements = Engagement.objects.bulk_create([
        Engagement(date=D(2026, 1, 1) + datetime.timedelta(days=i % 300), kind="b2b", summary=f"E{i}",
                   other_participants=[{"name": f"Guest {i}", "organization": "PCG"}]) for i in range(count)])
    for field, targets in (("projects", projects), ("participants", [poc]), ("industry_organizations", [shipyard]),
                           ("partner_countries", [country("PH")])):
        through = getattr(Engagement, field).through
        source, target = getattr(Engagement, field).field.m2m_field_name(), \
            getattr(Engagement, field).field.m2m_reverse_field_name()
        through.objects.bulk_create([through(**{f"{source}_id": e.pk, f"{target}_id": t.pk})
                                     for e in engagements for t in targets])
    return engagements


def test_the_poc_page_lists_engagements_with_their_projects(client, viewer, editor):
    poc = PointOfContactFactory(full_name="Jordan Lee")
    coast, port = ProjectFactory(title="Coast guard training"), ProjectFactory(title="Port security")
    engagement = engagement_create(by=editor, projects=[coast, port], participants=[poc], date=D(2026, 3, 2),
                                   kind="visit", summary="Yard visit")
    engagement_create(by=editor, participants=[poc], date=D(2026, 3, 9), kind="call", summary="No project")
    client.force_login(viewer)
    page = client.get(f"/contacts/{poc.pk}/").content.decode()
    listing = re.search(r'data-testid="poc-engagements">(.*?)</ul>', page, re.S).group(1)
    assert f'<a href="/engagements/{engagement.pk}/">' in listing
    assert f'<a href="/projects/{coast.pk}/#engagements">Coast guard training</a>' in listing
    assert f'<a href="/projects/{port.pk}/#engagements">Port security</a>' in listing
    assert listing.count("<li>") == 2


def test_engagements_are_in_the_calendar_feed(client, viewer, editor):
    from icalendar import Calendar

    from scm_reports.services import calendar_token_for

    coast = ProjectFactory(title="Coast guard training")
    engagement = engagement_create(
        by=editor, projects=[coast], date=D(2026, 3, 2), kind="b2b", summary="Shipyards met the coast guard.",
        location="Manila", participants=[PointOfContactFactory(full_name="Jordan Lee")],
        other_participants=[{"name": "Maria Santos", "organization": "PCG"}])
    gone = engagement_create(by=editor, date=D(2026, 3, 3), kind="call", summary="Deleted call")
    engagement_delete(engagement=gone, by=editor)
    token = calendar_token_for(user=viewer)
    feed = client.get(f"/calendar/{token.token}.ics")
    assert feed.status_code == 200
    events = {str(e["uid"]): e for e in Calendar.from_ical(feed.content).walk("VEVENT")}
    event = events[f"engagement-{engagement.pk}@rcf-tracker"]
    assert str(event["summary"]) == "Business-to-business meeting: Coast guard training"
    assert str(event["location"]) == "Manila"
    assert event.decoded("dtstart") == D(2026, 3, 2) and event.decoded("dtend") == D(2026, 3, 3)
    assert "Shipyards met the coast guard." in str(event["description"])
    assert "Jordan Lee, Maria Santos (PCG)" in str(event["description"])
    assert f"/engagements/{engagement.pk}/" in str(event["description"])
    assert f"engagement-{gone.pk}@rcf-tracker" not in events
    # The same UID after an edit (the calendar updates the event); its SEQUENCE is the version.
    engagement_update(engagement=engagement, by=editor, location="Subic Bay")
    feed = client.get(f"/calendar/{token.token}.ics")
    again = {str(e["uid"]): e for e in Calendar.from_ical(feed.content).walk("VEVENT")}
    assert str(again[f"engagement-{engagement.pk}@rcf-tracker"]["location"]) == "Subic Bay"
    assert int(again[f"engagement-{engagement.pk}@rcf-tracker"]["sequence"]) == 2


def test_deleted_projects_stay_linked_when_an_engagement_is_edited(client, editor, lead):
    live, gone = ProjectFactory(title="Live"), ProjectFactory(title="Gone")
    engagement = engagement_create(by=editor, projects=[live, gone], date=D(2026, 3, 2), kind="call", summary="C")
    project_soft_delete(project=gone, by=lead)
    client.force_login(editor)
    response = client.post(f"/engagements/{engagement.pk}/edit/", _post(
        {"version": "1", "kind": "call", "summary": "Edited", "projects": [live.pk]}))
    assert response.status_code == 302
    assert set(CooperativeProject.all_objects.filter(engagements=engagement)) == {live, gone}

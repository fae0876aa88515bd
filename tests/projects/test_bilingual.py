"""Bilingual records: a project's optional Korean title and summary are shown
to Korean readers, the English ones to others, each falling back to the other
when empty, on the pages, the SCM report, the exports and the calendar feed;
search finds both languages; the API and its sync feed carry both fields."""

import csv
import datetime
import io

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils.translation import override
from icalendar import Calendar
from openpyxl import load_workbook
from rest_framework.test import APIClient

from projects import services as project_services
from projects.models import Concurrence, CooperativeProject
from scm_reports.models import SCMCycle
from scm_reports.services import concurrence_reminders_send
from tests.api.conftest import issue_key, settle
from tests.factories import PointOfContactFactory, area, country

pytestmark = pytest.mark.django_db

D = datetime.date
NOW = datetime.datetime(2026, 3, 1, 3, 0, tzinfo=datetime.UTC)
KO = {"HTTP_ACCEPT_LANGUAGE": "ko"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
TITLE_KO = "해양경찰 해양영역인식 훈련"
SUMMARY_KO = "동남아 해양경찰을 위한 해양영역인식 교육."


@pytest.fixture
def api_client():
    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {issue_key(user)}")
        return client

    return make


@pytest.fixture
def bilingual(make_project):
    return make_project(title="Coast guard MDA training", title_ko=TITLE_KO,
                        summary="Training for partner coast guards.", summary_ko=SUMMARY_KO)


def _h1(html: str) -> str:
    return html.split("<h1>", 1)[1].split("</h1>", 1)[0]


def _page(client, user, path, headers=EN, **params):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        response = client.get(path, params, **headers)
    assert response.status_code == 200, response.content[:500]
    return response


# --- Pages: the reader's language, else the other ---------------------------------


def test_the_detail_page_shows_the_readers_language(client, viewer, bilingual):
    english = _page(client, viewer, f"/projects/{bilingual.pk}/").content.decode()
    assert _h1(english) == "Coast guard MDA training"
    assert "Training for partner coast guards." in english and SUMMARY_KO not in english
    korean = _page(client, viewer, f"/projects/{bilingual.pk}/", KO).content.decode()
    assert '<html lang="ko">' in korean
    assert _h1(korean) == TITLE_KO
    assert SUMMARY_KO in korean and "Training for partner coast guards." not in korean


def test_an_english_only_project_shows_english_to_korean_readers_and_vice_versa(client, viewer, make_project):
    english_only = make_project(title="Patrol boat MRO", summary="Maintenance and repair.")
    korean_summary_only = make_project(title="Cyber range", summary="", summary_ko=SUMMARY_KO)
    korean = _page(client, viewer, f"/projects/{english_only.pk}/", KO).content.decode()
    assert _h1(korean) == "Patrol boat MRO" and "Maintenance and repair." in korean
    # A Korean-only summary is what an English reader sees rather than nothing.
    english = _page(client, viewer, f"/projects/{korean_summary_only.pk}/").content.decode()
    assert SUMMARY_KO in english
    # The English title is required (the framework's common record); a Korean
    # one missing or blank falls back to it, and an empty English one to Korean.
    with override("en"):
        assert CooperativeProject(title="", title_ko=TITLE_KO).localized_title == TITLE_KO
    with override("ko"):
        assert CooperativeProject(title="Only English").localized_title == "Only English"
        assert str(CooperativeProject(title="T", title_ko=TITLE_KO)) == TITLE_KO


def test_the_list_pipeline_and_poc_page_show_the_korean_title_to_korean_readers(
        client, viewer, lead, bilingual, advance, us_lead_poc):
    korean = _page(client, viewer, "/projects/", KO).content.decode()
    assert TITLE_KO in korean and "Coast guard MDA training" not in korean
    english = _page(client, viewer, "/projects/").content.decode()
    assert "Coast guard MDA training" in english and TITLE_KO not in english
    assert TITLE_KO in _page(client, viewer, f"/contacts/{us_lead_poc.pk}/", KO).content.decode()
    advance(bilingual, "under_review", "prioritized")
    dashboard = _page(client, lead, "/", KO).content.decode()
    assert TITLE_KO in dashboard and "Coast guard MDA training" not in dashboard


def test_the_form_has_both_languages_with_the_korean_fields_marked(client, editor, bilingual):
    html = _page(client, editor, f"/projects/{bilingual.pk}/edit/").content.decode()
    assert 'name="title_ko"' in html and 'name="summary_ko"' in html
    for name in ("title_ko", "summary_ko"):
        tag = html.split(f'name="{name}"', 1)[0].rsplit("<", 1)[1] + html.split(f'name="{name}"', 1)[1].split(">")[0]
        assert 'lang="ko"' in tag, tag
    assert TITLE_KO in html and SUMMARY_KO in html


def test_the_form_saves_the_korean_fields_and_refuses_control_characters(
        client, editor, bilingual, us_lead_poc, rok_lead_poc):
    client.force_login(editor)
    data = {
        "title": bilingual.title, "summary": bilingual.summary, "priority_area": area().pk,
        "partner_countries": [country("PH").pk], "lead_side": "joint", "us_lead_poc": us_lead_poc.pk,
        "rok_lead_poc": rok_lead_poc.pk, "external_id": "",
        "version": bilingual.version,
    }
    response = client.post(f"/projects/{bilingual.pk}/edit/", {
        **data, "title_ko": "해양\x1b[31m훈련", "summary_ko": "개요\x07"})
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"title_ko", "summary_ko"}
    assert "control character" in str(form.errors["title_ko"]).lower()
    assert CooperativeProject.objects.get(pk=bilingual.pk).title_ko == TITLE_KO  # nothing saved

    response = client.post(f"/projects/{bilingual.pk}/edit/", {
        **data, "title_ko": "새 제목", "summary_ko": "첫 줄\n둘째 줄"})
    assert response.status_code == 302
    stored = CooperativeProject.objects.get(pk=bilingual.pk)
    assert (stored.title_ko, stored.summary_ko) == ("새 제목", "첫 줄\n둘째 줄")


# --- Search --------------------------------------------------------------------------


def test_a_korean_fragment_finds_the_project_on_the_list_and_the_api(client, viewer, api_client, bilingual,
                                                                     make_project):
    make_project(title="Cyber range for partners")
    for fragment in ("훈련", "동남아"):  # in the Korean title only; in the Korean summary only
        found = _page(client, viewer, "/projects/", q=fragment).context["projects"]
        assert [p.pk for p in found] == [bilingual.pk], fragment
        body = api_client(viewer).get("/api/v1/projects/", {"search": fragment}).json()
        assert [p["id"] for p in body["results"]] == [bilingual.pk], fragment
    assert not _page(client, viewer, "/projects/", q="사이버").context["projects"]


def test_the_admin_shows_and_searches_the_korean_title(client, django_user_model, bilingual, make_project):
    make_project(title="Cyber range for partners")
    root = django_user_model.objects.create_superuser("root", "root@example.org", "pw-for-tests-1")
    client.force_login(root)
    response = client.get("/admin/projects/cooperativeproject/", {"q": "해양영역"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [bilingual]
    assert TITLE_KO in response.content.decode()
    change = client.get(f"/admin/projects/cooperativeproject/{bilingual.pk}/change/").content.decode()
    assert 'name="title_ko"' in change and SUMMARY_KO in change


# --- Reports, exports, calendar -------------------------------------------------------


@pytest.fixture
def ready_bilingual(bilingual, advance):
    SCMCycle.objects.create(number=58, year=2026, meeting_date=D(2026, 11, 5), location="Washington")
    return advance(bilingual, "under_review", "prioritized", "ready", ready_on=D(2026, 2, 1), today=NOW.date())


def test_the_scm_report_page_and_xlsx_use_the_readers_language(client, viewer, ready_bilingual):
    korean = _page(client, viewer, "/scm/2026/report/", KO).content.decode()
    assert TITLE_KO in korean and SUMMARY_KO in korean and "Coast guard MDA training" not in korean
    english = _page(client, viewer, "/scm/2026/report/").content.decode()
    assert "Coast guard MDA training" in english and TITLE_KO not in english
    book = load_workbook(io.BytesIO(_page(client, viewer, "/scm/2026/report.xlsx", KO).content))
    (row,) = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert row[1:3] == (TITLE_KO, SUMMARY_KO)


def test_the_project_exports_show_the_readers_title_and_carry_both(client, viewer, bilingual):
    book = load_workbook(io.BytesIO(_page(client, viewer, "/projects/export.xlsx", KO).content))
    header, row = list(book.active.iter_rows(values_only=True))
    assert header[1] == "제목" and row[1] == TITLE_KO
    # Issue 13 appended the import's columns (version, the lead POCs' e-mails) after the two titles.
    assert header[-5:-3] == ("영어 제목", "한국어 제목")
    assert row[-5:-3] == ("Coast guard MDA training", TITLE_KO)
    text = _page(client, viewer, "/projects/export.csv").content.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    assert header[1] == "Title" and row[1] == "Coast guard MDA training"
    assert header[-5:-3] == ["English title", "Korean title"] and row[-4] == TITLE_KO


def _meeting_description(client, viewer, headers=EN) -> str:
    url = _page(client, viewer, "/calendar/", headers).context["feed_url"]
    client.logout()  # calendar applications have no session
    with time_machine.travel(NOW, tick=False):
        response = client.get(url.replace("http://testserver", ""))
    assert response.status_code == 200
    events = {str(e.get("uid")): e for e in Calendar.from_ical(response.content).walk("VEVENT")}
    return str(events["scm-58-meeting@rcf-tracker"].get("description"))


def test_the_calendar_feed_lists_the_counting_projects_in_the_subscribers_language(client, viewer, ready_bilingual):
    korean = _meeting_description(client, viewer, KO)
    assert TITLE_KO in korean and "Coast guard MDA training" not in korean
    english = _meeting_description(client, viewer)
    assert "Coast guard MDA training" in english and TITLE_KO not in english


def test_a_calendar_address_with_an_unknown_language_is_refused_by_name(client, viewer, ready_bilingual):
    url = _page(client, viewer, "/calendar/").context["feed_url"].replace("http://testserver", "")
    response = client.get(url.split("?")[0], {"lang": "xx"})
    assert response.status_code == 400
    assert "xx" in response.content.decode() and "ko" in response.content.decode()


# --- API and sync ---------------------------------------------------------------------


def test_the_api_round_trips_both_languages(api_client, lead):
    client = api_client(lead)
    response = client.post("/api/v1/projects/", {
        "title": "Patrol boat MRO", "title_ko": "경비정 정비", "summary_ko": "정비와 수리.",
        "priority_area": "defense-industrial-cooperation", "lead_side": "joint"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["title_ko"], body["summary_ko"], body["summary"]) == ("경비정 정비", "정비와 수리.", "")
    url = f"/api/v1/projects/{body['id']}/"
    response = client.patch(url, {"title_ko": "경비정 유지보수"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.json()
    assert client.get(url).json()["title_ko"] == "경비정 유지보수"
    assert CooperativeProject.objects.get(pk=body["id"]).title_ko == "경비정 유지보수"
    # Left empty: an empty string, never null.
    response = client.post("/api/v1/projects/", {
        "title": "Cyber range", "priority_area": "defense-industrial-cooperation", "lead_side": "joint"},
        format="json")
    assert (response.json()["title_ko"], response.json()["summary_ko"]) == ("", "")


def test_the_api_refuses_control_characters_in_the_korean_fields_by_name(api_client, lead):
    response = api_client(lead).post("/api/v1/projects/", {
        "title": "Patrol boat MRO", "title_ko": "경비정\x1b[2J", "summary_ko": "정비\x07",
        "priority_area": "defense-industrial-cooperation", "lead_side": "joint"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"title_ko", "summary_ko"}
    assert not CooperativeProject.all_objects.exists()
    # The service refuses them too (admin, sync clients, commands all save through it).
    with pytest.raises(ValidationError) as refused:
        project_services.project_create(by=lead, title="X", title_ko="가\x1b나", priority_area=area(),
                                        lead_side="joint")
    assert "title_ko" in refused.value.message_dict


def test_the_openapi_schema_describes_both_fields(api_client, viewer):
    schema = api_client(viewer).get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    properties = schema.json()["components"]["schemas"]["Project"]["properties"]
    assert properties["title_ko"]["type"] == "string" and "Korean" in properties["title_ko"]["description"]
    assert properties["summary_ko"]["type"] == "string"


@pytest.mark.django_db(transaction=True)
def test_the_sync_feed_carries_both_fields_and_a_korean_edit(api_client, viewer, lead, make_project):
    project = make_project(title="Coast guard MDA training", title_ko=TITLE_KO, summary_ko=SUMMARY_KO)
    client = api_client(viewer)
    settle()
    body = client.get("/api/v1/projects/", {"since": ""}).json()
    (item,) = body["results"]
    assert (item["title_ko"], item["summary_ko"]) == (TITLE_KO, SUMMARY_KO)
    project_services.project_update(project=project, by=lead, title_ko="새 제목")
    settle()
    body = client.get("/api/v1/projects/", {"since": body["cursor"]}).json()
    assert [(i["id"], i["title_ko"]) for i in body["results"]] == [(project.pk, "새 제목")]


# --- E-mails ----------------------------------------------------------------------------


def test_a_reminder_e_mail_names_the_project_in_each_recipients_language(
        bilingual, advance, lead, rok_lead_poc, settings, mailoutbox):
    settings.RCF_JOINT_CONCURRENCE = True
    settings.RCF_AT_RISK_DAYS = 90
    SCMCycle.objects.create(number=58, year=2026, meeting_date=D(2026, 11, 5), location="Washington")
    rok_lead_poc.preferred_language = "ko"
    rok_lead_poc.save()
    english_reader = PointOfContactFactory(side="rok", is_lead=True, preferred_language="en")
    project = advance(bilingual, "under_review")
    proposal = project_services.project_transition(project=project, to="prioritized", by=lead, priority=2)
    assert isinstance(proposal, Concurrence)  # the ROK side has to concur: the reminder goes to them
    Concurrence.objects.filter(pk=proposal.pk).update(
        proposed_at=datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC))

    assert concurrence_reminders_send(today=D(2026, 10, 1)) == 2
    by_recipient = {m.to[0]: m for m in mailoutbox}
    korean, english = by_recipient[rok_lead_poc.email], by_recipient[english_reader.email]
    assert TITLE_KO in korean.subject and TITLE_KO in korean.body
    assert "Coast guard MDA training" not in korean.subject + korean.body
    assert "Coast guard MDA training" in english.subject and TITLE_KO not in english.subject + english.body

"""SCM numbers read right: "51st", "52nd", "53rd", "61st", "111th" in English,
"제51차" in Korean, wherever a number is shown (one function, rcf.ordinals,
and its template filter)."""

import datetime
import io

import pytest
import time_machine
from django.core import mail
from django.template import Context, Template
from django.utils import translation
from icalendar import Calendar
from openpyxl import load_workbook

from rcf.ordinals import scm_ordinal
from scm_reports.models import ReadinessFlag, SCMCycle
from scm_reports.services import readiness_flags_sync, readiness_notice_send

D = datetime.date
KO = {"HTTP_ACCEPT_LANGUAGE": "ko"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.mark.parametrize("number, english", [
    (1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (10, "10th"), (11, "11th"), (12, "12th"), (13, "13th"),
    (21, "21st"), (22, "22nd"), (23, "23rd"), (49, "49th"), (51, "51st"), (52, "52nd"), (53, "53rd"),
    (57, "57th"), (61, "61st"), (100, "100th"), (101, "101st"), (111, "111th"), (112, "112th"),
    (113, "113th"), (121, "121st"), (1011, "1011th"),
])
def test_english_ordinals(number, english):
    assert scm_ordinal(number, language="en") == english
    with translation.override("en"):
        assert scm_ordinal(number) == english


def test_korean_uses_je_cha_in_the_active_language_and_the_filter():
    assert scm_ordinal(51, language="ko") == "제51차"
    template = Template("{% load ordinals %}{{ n|scm_ordinal }}")
    with translation.override("ko"):
        assert scm_ordinal(52) == "제52차"
        assert template.render(Context({"n": 53})) == "제53차"
    with translation.override("en"):
        assert template.render(Context({"n": 53})) == "53rd"
        assert template.render(Context({"n": None})) == ""


@pytest.fixture
def scm_61(db):
    # A meeting still to come in 2029, the 61st, with the years between recorded.
    for number, year in ((58, 2026), (59, 2027), (60, 2028)):
        SCMCycle.objects.create(number=number, year=year, meeting_date=D(year, 11, 1), location="Seoul")
    return SCMCycle.objects.create(number=61, year=2029, meeting_date=D(2029, 11, 1), location="Washington")


@pytest.mark.django_db
def test_the_scm_list_dashboard_report_and_name_say_the_ordinal(client, viewer, scm_61):
    assert str(SCMCycle.objects.get(number=51)) == "51st SCM (2019)"
    with translation.override("ko"):
        assert str(SCMCycle.objects.get(number=52)) == "제52차 SCM (2020년)"
    with time_machine.travel(datetime.datetime(2029, 3, 1, 3, tzinfo=datetime.UTC), tick=False):
        client.force_login(viewer)  # a session of that day (it would have expired since today)
        listing = client.get("/scm/", **EN).content.decode()
        for text in ("51st", "52nd", "53rd", "61st"):
            assert f"<td>{text}</td>" in listing
        assert "51th" not in listing and "52th" not in listing
        assert "<td>제51차</td>" in client.get("/scm/", **KO).content.decode()

        assert "61st SCM" in client.get("/", **EN).content.decode()
        assert "제61차 SCM" in client.get("/", **KO).content.decode()

        assert "61st SCM (2029): cooperative projects" in client.get("/scm/2029/report/", **EN).content.decode()
        assert "제61차 SCM (2029년)" in client.get("/scm/2029/report/", **KO).content.decode()


@pytest.mark.django_db
def test_the_calendar_feed_and_the_report_export_say_the_ordinal(client, viewer, scm_61):
    with time_machine.travel(datetime.datetime(2029, 3, 1, 3, tzinfo=datetime.UTC), tick=False):
        client.force_login(viewer)  # a session of that day (it would have expired since today)
        url = client.get("/calendar/", **EN).context["feed_url"].replace("http://testserver", "")
        readiness_flags_sync(today=D(2029, 10, 1))  # 2029 at risk: a flag in the export
        book = load_workbook(io.BytesIO(client.get("/scm/2029/report.xlsx", **EN).content))
    events = {str(e.get("uid")): e for e in Calendar.from_ical(client.get(url, **EN).content).walk("VEVENT")}
    assert str(events["scm-61-meeting@rcf-tracker"].get("summary")).startswith("61st SCM")
    assert str(events["scm-58-meeting@rcf-tracker"].get("summary")).startswith("58th SCM")
    flags = [row[-1] for row in book["Flags"].iter_rows(min_row=2, values_only=True)]
    assert any(text.startswith("61st SCM on") for text in flags), flags


@pytest.mark.django_db
def test_the_notice_e_mail_says_the_ordinal(scm_61, us_lead_poc):
    us_lead_poc.email = "us.lead@example.org"
    us_lead_poc.save()
    readiness_flags_sync(today=D(2029, 10, 1))
    flag = ReadinessFlag.objects.get(year=2029, kind="at_risk")
    readiness_notice_send(flag_id=flag.pk, today=D(2029, 10, 1))
    (message,) = mail.outbox
    assert message.subject == "[RCF Tracker] 2029: readiness at risk (61st SCM)"
    assert "61st Security Consultative Meeting" in message.body and "61th" not in message.body

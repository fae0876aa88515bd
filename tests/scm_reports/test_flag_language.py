"""Flags and notices in the reader's language: a flag holds data (year, kind,
SCM, deadline, waiting projects) and is rendered when it is shown or sent; a
point of contact's preferred language decides the language of their e-mail."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import translation
from rest_framework.test import APIClient

from contacts.models import PointOfContact
from rcf.models import ApiToken
from scm_reports.models import ReadinessFlag
from scm_reports.services import readiness_flags_sync, readiness_notice_send
from tests.factories import OrganizationFactory, PointOfContactFactory

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 9, 1)  # 64 days before the 58th SCM's deadline (2026-11-04): at risk
NOW = datetime.datetime(2026, 9, 1, 3, 0, tzinfo=datetime.UTC)
KO = {"HTTP_ACCEPT_LANGUAGE": "ko"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

EN_AT_RISK = ("58th SCM on 5 Nov 2026 in Washington, readiness deadline 4 Nov 2026: 64 days left, and no "
              "project is ready yet.")
KO_AT_RISK = ("제58차 SCM(2026년 11월 5일, Washington), 준비 기한 2026년 11월 4일: "
              "64일 남았으며 아직 준비된 프로젝트가 없습니다.")


def test_a_flag_is_shown_in_korean_on_the_korean_dashboard_and_in_english_on_the_english_one(
        client, viewer, scm_2026):
    # The job runs in whatever language its worker has: the flag stores no sentence.
    with translation.override("ko"):
        readiness_flags_sync(today=TODAY)
    flag = ReadinessFlag.objects.get(year=2026, kind="at_risk")
    assert flag.detail == ""
    # An English sentence left by an earlier release is no longer shown.
    ReadinessFlag.objects.filter(pk=flag.pk).update(detail="OLD STORED SENTENCE")
    client.force_login(viewer)
    with time_machine.travel(NOW, tick=False):
        korean = client.get("/", **KO).content.decode()
        english = client.get("/", **EN).content.decode()
        report = client.get("/scm/2026/report/", **KO).content.decode()
    assert KO_AT_RISK in korean and EN_AT_RISK not in korean
    assert EN_AT_RISK in english and KO_AT_RISK not in english
    assert KO_AT_RISK in report
    assert "OLD STORED SENTENCE" not in korean + english + report

    # The API renders it in the request's language too, beside the data it comes from.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(user=viewer, name='t', read_only=True)[1]}")
    with time_machine.travel(NOW, tick=False):
        body = api.get(f"/api/v1/flags/{flag.pk}/", **KO).json()
    assert (body["detail"], body["deadline"], body["counting_projects"]) == (KO_AT_RISK, "2026-11-04", 0)

    # Rendered at display time: a day later it says one day less.
    with time_machine.travel(NOW + datetime.timedelta(days=1), tick=False):
        client.force_login(viewer)
        assert "63일 남았으며" in client.get("/", **KO).content.decode()


def test_an_unscheduled_flag_says_how_many_projects_wait_in_korean(client, viewer, ready_project):
    ready_project(D(2026, 2, 1), today=D(2026, 3, 1))
    readiness_flags_sync(today=D(2026, 3, 1))
    client.force_login(viewer)
    with time_machine.travel(datetime.datetime(2026, 3, 1, 3, tzinfo=datetime.UTC), tick=False):
        korean = client.get("/", **KO).content.decode()
        english = client.get("/", **EN).content.decode()
    assert "2026년 SCM이 등록되지 않아 목표 달성 여부를 판단할 수 없습니다. " \
           "준비된 프로젝트 1건이 2026년 SCM 등록을 기다리고 있습니다." in korean
    assert ("No SCM is recorded for 2026: the goal cannot be measured. "
            "1 ready project is waiting for the 2026 SCM to be recorded.") in english


def test_each_lead_poc_gets_the_notice_in_their_preferred_language(scm_2026, settings):
    settings.SITE_URL = "https://rcf.example.org"
    PointOfContactFactory(side="us", is_lead=True, email="us.lead@example.org")  # English unless set
    PointOfContactFactory(side="rok", is_lead=True, email="rok.lead@example.org", preferred_language="ko")
    PointOfContactFactory(side="rok", is_lead=True, email="rok.deputy@example.org", preferred_language="ko")
    with translation.override("ko"):  # the worker's language does not matter either
        readiness_flags_sync(today=TODAY)
    flag = ReadinessFlag.objects.get(year=2026, kind="at_risk")
    assert readiness_notice_send(flag_id=flag.pk, today=TODAY) == 3

    by_address = {m.to[0]: m for m in mail.outbox}
    assert len(mail.outbox) == 3
    korean = [m for m in mail.outbox if m.subject == "[RCF Tracker] 2026년 준비 상태: 위험 (제58차 SCM)"]
    english = [m for m in mail.outbox if m.subject == "[RCF Tracker] 2026: readiness at risk (58th SCM)"]
    assert sorted(m.to[0] for m in korean) == ["rok.deputy@example.org", "rok.lead@example.org"]
    assert [m.to[0] for m in english] == ["us.lead@example.org"]

    body = by_address["rok.lead@example.org"].body
    assert body.startswith("2026년 협력 프레임워크 목표의 상태: 위험.")
    for line in ("SCM: 제58차 한미안보협의회의(SCM), 2026년 11월 5일, Washington", "준비 기한: 2026년 11월 4일",
                 "남은 일수: 64", KO_AT_RISK, "대시보드: https://rcf.example.org/"):
        assert line in body, line
    assert "readiness" not in body.lower() and "Days left" not in body

    body = by_address["us.lead@example.org"].body
    assert "SCM: 58th Security Consultative Meeting, 5 Nov 2026, Washington" in body
    assert EN_AT_RISK in body and "준비" not in body
    # One Message-ID per notice, whatever the language.
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == 3


def test_the_preferred_language_is_one_of_the_sites_languages(editor):
    org = OrganizationFactory(side="rok", name="MND")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(user=editor, name='t')[1]}")
    made = client.post("/api/v1/contacts/", {"full_name": "Park Seo-yeon", "side": "rok", "organization": org.pk,
                                             "preferred_language": "ko"})
    assert made.status_code == 201, made.json()
    assert made.json()["preferred_language"] == "ko"
    assert PointOfContact.objects.get(pk=made.json()["id"]).preferred_language == "ko"
    default = client.post("/api/v1/contacts/", {"full_name": "Alex Morgan", "side": "us",
                                                "organization": OrganizationFactory(side="us").pk})
    assert default.json()["preferred_language"] == "en"

    refused = client.post("/api/v1/contacts/", {"full_name": "Other", "side": "rok", "organization": org.pk,
                                                "preferred_language": "fr"})
    assert refused.status_code == 400 and "preferred_language" in refused.json()
    # The database holds the rule too.
    with pytest.raises(IntegrityError), transaction.atomic():
        PointOfContact.objects.filter(pk=made.json()["id"]).update(preferred_language="fr")


def test_the_poc_form_offers_the_preferred_language(client, editor):
    client.force_login(editor)
    html = client.get("/contacts/new/", **EN).content.decode()
    assert 'name="preferred_language"' in html and '<option value="ko">Korean</option>' in html

"""The calendar feed as calendar applications fetch it (issue 13): with the
secret address alone, every few minutes. Its events are written in the
language of the subscription's owner (the language of their e-mails), not the
language a page happened to be in or the client's Accept-Language; it carries
an ETag and a Last-Modified, a repeat that names them gets 304 while nothing
changed, and any change (an event's text, the owner's language) gives 200 with
a new ETag. The validators come from the data, never from a cache, so every
web process (each with its own memory) gives the same ones."""

import datetime

import pytest
import time_machine
from icalendar import Calendar

from contacts.services import poc_preferences_update
from scm_reports.models import SCMCycle

pytestmark = pytest.mark.django_db

# After the fixtures' records are written (on the real clock): Last-Modified is the latest write.
NOW = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).replace(microsecond=0)
KO = {"HTTP_ACCEPT_LANGUAGE": "ko"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def scm_58(db):
    return SCMCycle.objects.create(number=58, year=2026, meeting_date=datetime.date(2026, 11, 5),
                                   location="Washington")


def _prefer(user, poc, language, *, at=None):
    with time_machine.travel(at or datetime.datetime.now(datetime.UTC), tick=at is None):
        poc.refresh_from_db()
        poc_preferences_update(poc=poc, by=user, preferred_language=language, weekly_digest=poc.weekly_digest)


def _feed_path(client, user, page_headers) -> str:
    """The address the calendar page gives ``user`` (the page in the language of ``page_headers``)."""
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        url = client.get("/calendar/", **page_headers).context["feed_url"]
    client.logout()  # calendar applications have no session
    return url.replace("http://testserver", "")


def _fetch(client, path, *, at=NOW, **headers):
    with time_machine.travel(at, tick=False):
        return client.get(path, **headers)


def _summaries(response) -> dict[str, str]:
    assert response.status_code == 200, response.content
    calendar = Calendar.from_ical(response.content)
    return {str(e.get("uid")): str(e.get("summary")) for e in calendar.walk("VEVENT")} | {
        "calendar-name": str(calendar.get("x-wr-calname"))}


def test_each_subscriber_reads_the_events_in_the_language_of_their_e_mails(
        client, scm_58, lead, us_lead_poc, rok_lead, rok_lead_poc):
    _prefer(lead, us_lead_poc, "en")
    _prefer(rok_lead, rok_lead_poc, "ko")
    # Each opened the calendar page in the other language, and the calendar application asks in it too:
    # neither decides.
    english_path = _feed_path(client, lead, KO)
    korean_path = _feed_path(client, rok_lead, EN)

    korean = _summaries(_fetch(client, korean_path, **EN))
    assert korean["scm-58-deadline@rcf-tracker"] == "제58차 SCM RCF 준비 완료 마감일"
    assert korean["scm-58-meeting@rcf-tracker"] == "제58차 SCM (Washington)"
    assert korean["scm-58-at-risk@rcf-tracker"].startswith("RCF: 준비 완료된 사업이 없으면")
    assert korean["calendar-name"] == "RCF Tracker: SCM 준비 현황"

    english = _summaries(_fetch(client, english_path, **KO))
    assert english["scm-58-deadline@rcf-tracker"] == "RCF readiness deadline for the 58th SCM"
    assert english["scm-58-meeting@rcf-tracker"] == "58th SCM (Washington)"
    assert english["calendar-name"] == "RCF Tracker: SCM readiness"

    # The owner changes the language of their e-mails: the same address follows.
    _prefer(lead, us_lead_poc, "ko")
    assert _summaries(_fetch(client, english_path))["scm-58-deadline@rcf-tracker"] == "제58차 SCM RCF 준비 완료 마감일"


def test_the_calendar_page_says_which_language_the_events_are_in(client, scm_58, rok_lead, rok_lead_poc, viewer):
    _prefer(rok_lead, rok_lead_poc, "ko")
    client.force_login(rok_lead)
    page = client.get("/calendar/", **EN)
    assert "?lang=" not in page.context["feed_url"]  # the profile decides, not the address
    html = page.content.decode()
    assert "Events are written in Korean, the language of your e-mails." in html and 'href="/profile/"' in html
    # A login without a point of contact has no e-mail language: the address keeps the page's.
    client.force_login(viewer)
    page = client.get("/calendar/", **KO)
    assert page.context["feed_url"].endswith("?lang=ko")
    assert "일정은 주소를 복사할 때 이 페이지의 언어였던 한국어로 작성됩니다." in page.content.decode()
    path = page.context["feed_url"].replace("http://testserver", "")
    client.logout()
    assert _summaries(_fetch(client, path, **EN))["scm-58-deadline@rcf-tracker"] == "제58차 SCM RCF 준비 완료 마감일"


def test_a_repeat_with_the_validators_gets_304_until_something_changes(client, scm_58, lead, us_lead_poc):
    _prefer(lead, us_lead_poc, "en")
    path = _feed_path(client, lead, EN)
    first = _fetch(client, path)
    assert first.status_code == 200
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"') and last_modified.endswith("GMT")

    # Minutes later, as a calendar application polls: the same bytes, the same validators.
    later = NOW + datetime.timedelta(minutes=5)
    again = _fetch(client, path, at=later)
    assert (again.status_code, again["ETag"], again["Last-Modified"]) == (200, etag, last_modified)
    assert again.content == first.content
    not_modified = _fetch(client, path, at=later, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified["ETag"] == etag
    assert _fetch(client, path, at=later, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304

    # An event changes (saved, as the services do): 200, a new ETag and a later Last-Modified.
    with time_machine.travel(later, tick=False):
        scm_58.location = "Seoul"
        scm_58.save()
    changed = _fetch(client, path, at=later, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert _summaries(changed)["scm-58-meeting@rcf-tracker"] == "58th SCM (Seoul)"
    assert _fetch(client, path, at=later, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 200
    assert _fetch(client, path, at=later, HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 304

    # The owner's language changes: every text changes, so does the ETag.
    _prefer(lead, us_lead_poc, "ko", at=later + datetime.timedelta(minutes=1))
    korean = _fetch(client, path, at=later, HTTP_IF_NONE_MATCH=changed["ETag"])
    assert korean.status_code == 200 and korean["ETag"] not in (etag, changed["ETag"])
    assert _summaries(korean)["scm-58-meeting@rcf-tracker"] == "제58차 SCM (Seoul)"


def test_every_web_process_gives_the_same_validators(client, scm_58, lead, us_lead_poc):
    """Without a shared cache each gunicorn worker has its own memory: the
    feed's ETag, Last-Modified and DTSTAMPs must not depend on which one
    answers, or a client would download everything again at each poll."""
    from django.core.cache import cache

    _prefer(lead, us_lead_poc, "en", at=NOW - datetime.timedelta(hours=1))
    path = _feed_path(client, lead, EN)
    first = _fetch(client, path)
    cache.clear()  # another worker, which has never served the feed
    other = _fetch(client, path, at=NOW + datetime.timedelta(minutes=7))
    assert (other["ETag"], other["Last-Modified"]) == (first["ETag"], first["Last-Modified"])
    assert other.content == first.content  # the DTSTAMPs too
    cache.clear()
    later = NOW + datetime.timedelta(minutes=14)
    assert _fetch(client, path, at=later, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert _fetch(client, path, at=later, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    # Last-Modified is the latest write the feed depends on: here the address, made when the page was opened.
    assert first["Last-Modified"] == f"{NOW:%a, %d %b %Y %H:%M:%S GMT}"


def test_a_client_sending_only_if_modified_since_sees_its_owner_switch_language(
        client, scm_58, lead, us_lead_poc, rok_lead, rok_lead_poc):
    from django.core.cache import cache

    cache.clear()  # a fresh start, whatever earlier tests served
    # Another subscriber already had the Korean feed a day before: that is not this subscription's moment.
    _prefer(rok_lead, rok_lead_poc, "ko", at=NOW - datetime.timedelta(days=2))
    _fetch(client, _feed_path(client, rok_lead, KO), at=NOW - datetime.timedelta(days=1))
    _prefer(lead, us_lead_poc, "en", at=NOW - datetime.timedelta(hours=1))
    path = _feed_path(client, lead, EN)
    first = _fetch(client, path)
    _prefer(lead, us_lead_poc, "ko", at=NOW + datetime.timedelta(minutes=2))
    again = _fetch(client, path, at=NOW + datetime.timedelta(minutes=5), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 200
    assert _summaries(again)["scm-58-meeting@rcf-tracker"] == "제58차 SCM (Washington)"


def test_a_client_sending_only_if_modified_since_sees_the_engagements_its_owner_may_now_see(
        client, scm_58, lead, us_lead_poc, rok_lead, rok_lead_poc):
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.core.cache import cache
    from django.test import RequestFactory

    from projects.models import Engagement
    from scm_reports import roles

    cache.clear()  # a fresh start, whatever earlier tests served
    with time_machine.travel(NOW - datetime.timedelta(days=3), tick=False):
        Engagement.objects.create(kind=Engagement._meta.get_field("kind").choices[0][0],
                                  date=datetime.date(2026, 6, 1), summary="Site visit")
    # A subscriber who may see the engagements had the English feed with them a day before.
    _prefer(lead, us_lead_poc, "en", at=NOW - datetime.timedelta(days=2))
    _fetch(client, _feed_path(client, lead, EN), at=NOW - datetime.timedelta(days=1))
    # A login who may see the SCMs but not the engagements.
    calendar_only = Group.objects.create(name="calendar only")
    calendar_only.permissions.add(Permission.objects.get(codename="view_scmcycle"))
    user = get_user_model().objects.create_user("calendar-only", password="x")
    user.groups.add(calendar_only)
    path = _feed_path(client, user, EN)
    first = _fetch(client, path)
    assert not any(uid.startswith("engagement-") for uid in _summaries(first))
    # An administrator gives them the viewer role in the admin (which logs the change).
    with time_machine.travel(NOW + datetime.timedelta(minutes=2), tick=False):
        roles.user_role_set(user=user, role=roles.VIEWER)
        request = RequestFactory().post("/admin/")
        request.user = get_user_model().objects.create_superuser("admin-x", password="x")
        admin.site._registry[get_user_model()].log_change(request, user, [{"changed": {"fields": ["Role"]}}])
    again = _fetch(client, path, at=NOW + datetime.timedelta(minutes=5), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 200
    assert any(uid.startswith("engagement-") for uid in _summaries(again))


def test_an_unknown_token_is_404_whatever_the_validators(client, scm_58, lead, us_lead_poc):
    path = _feed_path(client, lead, EN)
    etag = _fetch(client, path)["ETag"]
    assert _fetch(client, "/calendar/not-a-real-token.ics", HTTP_IF_NONE_MATCH=etag).status_code == 404

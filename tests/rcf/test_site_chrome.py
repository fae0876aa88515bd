"""The site's frame on every page (issue 12): one date format per language,
the header's search box and menu, toasts after htmx saves, the favicon, the
admin's name."""

import datetime

import pytest
from django.contrib import messages
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import translation

from rcf.templatetags.rcf_format import day, moment

pytestmark = pytest.mark.django_db


def test_a_date_reads_the_same_way_to_both_sides_and_names_the_time_zone():
    moment_utc = datetime.datetime(2026, 11, 23, 12, 5, tzinfo=datetime.UTC)
    with translation.override("en"):
        assert day(datetime.date(2026, 11, 3)) == '<time datetime="2026-11-03">3 Nov 2026</time>'
        # The framework's time zone (Asia/Seoul): 21:05 KST, never "11/23/2026 9:05 p.m."
        assert moment(moment_utc) == '<time datetime="2026-11-23T21:05+09:00">23 Nov 2026, 21:05 KST</time>'
    with translation.override("ko"):
        assert day(datetime.date(2026, 11, 3)) == '<time datetime="2026-11-03">2026년 11월 3일</time>'
        assert moment(moment_utc) == '<time datetime="2026-11-23T21:05+09:00">2026년 11월 23일 21:05 KST</time>'
    assert day(None) == "" and day("") == ""


def test_a_project_page_shows_one_date_format_in_each_language(client, make_project):
    project = make_project(start_date=datetime.date(2026, 3, 2))
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=False))
    from django.contrib.auth.models import Group

    from scm_reports.roles import VIEWER

    user = UserFactory(username="chrome-viewer")
    user.groups.set([Group.objects.get(name=VIEWER)])
    client.force_login(user)
    english = client.get(f"/projects/{project.pk}/").content.decode()
    assert "2 Mar 2026" in english and "03/02/2026" not in english and "March 2, 2026" not in english
    client.cookies["django_language"] = "ko"
    korean = client.get(f"/projects/{project.pk}/").content.decode()
    assert "2026년 3월 2일" in korean


def test_every_signed_in_page_has_the_search_box_and_the_whole_menu(client, viewer):
    client.force_login(viewer)
    html = client.get("/").content.decode()
    assert 'role="search"' in html and 'id="site-search"' in html and 'aria-keyshortcuts="/"' in html
    for href in ("/projects/", "/actions/", "/engagements/", "/contacts/", "/scm/", "/calendar/", "/api/v1/docs/"):
        assert f'href="{href}"' in html, href
    docs = client.get("/api/v1/docs/").content.decode()
    assert 'class="site-header"' in docs and 'id="swagger-ui"' in docs  # the way back is there


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.ico")


def test_the_admin_says_whose_it_is(client, administrator):
    client.force_login(administrator)
    html = client.get("/admin/").content.decode()
    assert "RCF Tracker administration" in html and "Django administration" not in html


def test_messages_queued_by_an_htmx_save_come_back_as_a_toast():
    from rcf.middleware import HtmxMessagesMiddleware

    def view(request):
        messages.success(request, "Priority saved: 1st in the pipeline.")
        return HttpResponse("<tr></tr>")

    request = RequestFactory().post("/pipeline/1/priority/", HTTP_HX_REQUEST="true")
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django_htmx.middleware import HtmxDetails

    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    request.htmx = HtmxDetails(request)
    response = HtmxMessagesMiddleware(view)(request)
    import json

    assert json.loads(response["HX-Trigger"]) == {
        "rcfToast": {"value": [{"message": "Priority saved: 1st in the pipeline.", "level": "success"}]}}
    # Shown once: marked as read, so MessageMiddleware keeps nothing for the next full page.
    assert request._messages.used

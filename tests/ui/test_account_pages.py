"""The account, detail and delete pages (issue 12): errors in a summary that takes the focus and
links the fields, delete pages that say what happens with Cancel as the secondary action, detail
lists that put labels above values on a phone, and the Korean of all of it."""

import datetime
import re
from pathlib import Path

import pytest
from django.urls import reverse

from projects.models import ActionItem, Engagement
from projects.services import engagement_create
from tests.factories import PointOfContactFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _summary(html):
    match = re.search(r'<div class="error-summary form-errors" id="form-errors" tabindex="-1" data-error-summary'
                      r'.*?</div>', html, re.S)
    assert match, "no error summary"
    return match.group(0)


def test_a_wrong_password_shows_a_summary_that_takes_the_focus(client):
    html = client.post(reverse("login"), {"username": "nobody", "password": "wrong"}).content.decode()
    summary = _summary(html)
    assert "You are not signed in." in summary
    assert "Please enter a correct username and password" in summary
    assert 'role="alert"' not in html  # the summary is focused instead (rcf.js); no second announcement


def test_a_failed_password_change_links_each_field_in_error_and_offers_cancel(client, lead):
    client.force_login(lead)
    html = client.post(reverse("password_change"), {"old_password": "wrong", "new_password1": "x",
                                                      "new_password2": "y"}).content.decode()
    summary = _summary(html)
    assert "Nothing was saved" in summary
    assert 'href="#id_old_password"' in summary and 'href="#id_new_password2"' in summary
    assert f'<a class="button secondary" href="{reverse("profile")}">Cancel</a>' in html


def test_the_password_change_done_page_leads_back(client, lead):
    client.force_login(lead)
    html = client.get(reverse("password_change_done")).content.decode()
    assert "Your password was changed." in html and f'href="{reverse("profile")}"' in html


def test_the_two_factor_set_up_has_cancel_as_a_secondary_action(client, lead):
    client.force_login(lead)
    html = client.get(reverse("two_factor_setup")).content.decode()
    assert f'<a class="button secondary" href="{reverse("two_factor")}">Cancel</a>' in html
    assert 'style="' not in html.split("<main", 1)[1]  # the page's own CSS, no inline styles
    wrong = client.post(reverse("two_factor_setup"), {"code": "000000"}).content.decode()
    assert 'href="#id_code"' in _summary(wrong)


def _engagement(lead, us_lead_poc):
    return engagement_create(kind="meeting", date=datetime.date(2026, 3, 2),
                             summary="Working-level meeting on the exercise.", participants=[us_lead_poc], by=lead)


def test_the_engagement_delete_page_says_what_happens_and_cancel_is_secondary(client, lead, us_lead_poc):
    engagement = _engagement(lead, us_lead_poc)
    client.force_login(lead)
    html = client.get(reverse("engagements:delete", args=[engagement.pk])).content.decode()
    assert "Delete the Meeting of 2 Mar 2026?" in html or "Delete the meeting of" in html.lower()
    assert "Working-level meeting on the exercise." in html
    assert html.count('<li>it') == 3  # the list of consequences
    assert "an administrator can restore it" in html
    assert '<button class="danger" type="submit">Delete the engagement</button>' in html
    detail = reverse("engagements:detail", args=[engagement.pk])
    assert f'<a class="button secondary" href="{detail}">Cancel</a>' in html
    client.cookies["django_language"] = "ko"
    korean = client.get(reverse("engagements:delete", args=[engagement.pk])).content.decode()
    assert "협의 활동 삭제" in korean and "관리자가 복원할 수 있습니다" in korean and "If you delete it" not in korean


def test_the_action_delete_page_says_what_happens_and_cancel_is_secondary(client, lead, us_lead_poc):
    action = ActionItem.objects.create(title="Send the paperwork", owner=us_lead_poc,
                                       due_on=datetime.date(2026, 4, 1))
    client.force_login(lead)
    html = client.get(reverse("actions:delete", args=[action.pk])).content.decode()
    assert "Delete the action?" in html and "“Send the paperwork”" in html
    assert "Owner: " in html and '<time datetime="2026-04-01">1 Apr 2026</time>' in html
    assert "is no longer reminded of it" in html
    assert f'<a class="button secondary" href="{reverse("actions:list")}">Cancel</a>' in html
    client.cookies["django_language"] = "ko"
    korean = client.get(reverse("actions:delete", args=[action.pk])).content.decode()
    assert "이 조치를 삭제하시겠습니까?" in korean and "담당자: " in korean and "Owner:" not in korean


def test_detail_lists_put_labels_above_values_on_a_phone():
    css = (ROOT / "static" / "css" / "pages.css").read_text()
    narrow = css[css.index("@media (max-width: 40rem)"):]
    assert re.search(r"dl\.fields \{ grid-template-columns: 1fr;", narrow)
    assert "pages.css" in (ROOT / "templates" / "base.html").read_text()


def test_the_engagement_and_contact_pages_show_dates_one_way(client, lead, us_lead_poc):
    engagement = _engagement(lead, us_lead_poc)
    client.force_login(lead)
    page = client.get(reverse("engagements:detail", args=[engagement.pk])).content.decode()
    assert '<dl class="fields">' in page and "2 Mar 2026" in page
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{4}\b|[AP]\.M\.|a\.m\.|p\.m\.", page)
    poc = client.get(reverse("contacts:poc_detail", args=[us_lead_poc.pk])).content.decode()
    assert '<time datetime="2026-03-02">2 Mar 2026</time>' in poc
    assert Engagement.objects.filter(pk=engagement.pk).exists()


def test_a_poc_without_an_e_mail_address_shows_a_dash_on_the_contact_page(client, lead):
    poc = PointOfContactFactory(email="")
    client.force_login(lead)
    html = client.get(reverse("contacts:poc_detail", args=[poc.pk])).content.decode()
    assert re.search(r"<dt>E-mail</dt><dd>—</dd>", html)

"""The profile page (issue 11): a signed-in user sees who they are and changes
their own point of contact's e-mail preferences, and nobody else's."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from contacts.models import PointOfContact
from contacts.services import poc_preferences_update
from tests.factories import PointOfContactFactory

pytestmark = pytest.mark.django_db


def _form(record, **changes):
    """The form as the page shows it for ``record``, with ``changes`` (None: leave the field out)."""
    data = {"poc": record.pk, "version": record.version, "preferred_language": record.preferred_language}
    if record.weekly_digest:
        data["weekly_digest"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_lead_poc_sees_their_profile_and_changes_their_preferences(client, lead, us_lead_poc):
    client.force_login(lead)
    page = client.get("/profile/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Jordan Lee" in html and "Lead POC" in html
    assert 'href="/accounts/password_change/"' in html and 'href="/accounts/two-factor/"' in html
    assert 'name="preferred_language"' in html and 'name="weekly_digest"' in html and "checked" in html
    assert 'href="/profile/"' in html  # the user menu links to it

    version, history = us_lead_poc.version, us_lead_poc.history.count()
    response = client.post("/profile/", _form(us_lead_poc, preferred_language="ko", weekly_digest=None))
    assert response.status_code == 302 and response.url == "/profile/"
    us_lead_poc.refresh_from_db()
    assert (us_lead_poc.preferred_language, us_lead_poc.weekly_digest) == ("ko", False)
    assert us_lead_poc.version == version + 1
    assert "Your preferences are saved." in client.get("/profile/").content.decode()

    # And back on: the weekly digest goes to them again.
    client.post("/profile/", _form(us_lead_poc, weekly_digest="on"))
    us_lead_poc.refresh_from_db()
    assert us_lead_poc.weekly_digest is True and us_lead_poc.history.count() == history + 2
    assert us_lead_poc.history.first().history_user == lead


def test_a_user_cannot_change_another_pocs_preferences(client, lead, us_lead_poc, rok_lead_poc):
    client.force_login(lead)
    before = (rok_lead_poc.preferred_language, rok_lead_poc.weekly_digest, rok_lead_poc.version)
    own_version = us_lead_poc.version
    crafted = _form(rok_lead_poc, preferred_language="ko", weekly_digest=None)
    assert client.post("/profile/", crafted).status_code == 403
    rok_lead_poc.refresh_from_db()
    assert (rok_lead_poc.preferred_language, rok_lead_poc.weekly_digest, rok_lead_poc.version) == before
    us_lead_poc.refresh_from_db()
    assert us_lead_poc.version == own_version  # their own record was not touched either

    assert client.post("/profile/", _form(us_lead_poc, poc=987654)).status_code == 404


def test_only_the_preferences_change_whatever_else_is_posted(client, lead, us_lead_poc):
    client.force_login(lead)
    client.post("/profile/", _form(us_lead_poc, preferred_language="ko", full_name="Someone Else",
                                   is_lead="", active="", email="other@example.org", side="rok"))
    us_lead_poc.refresh_from_db()
    assert us_lead_poc.preferred_language == "ko"
    assert (us_lead_poc.full_name, us_lead_poc.is_lead, us_lead_poc.active, us_lead_poc.side) == (
        "Jordan Lee", True, True, "us")
    assert us_lead_poc.email != "other@example.org"


def test_an_unknown_language_is_refused_naming_the_field(client, lead, us_lead_poc):
    client.force_login(lead)
    response = client.post("/profile/", _form(us_lead_poc, preferred_language="fr"))
    assert response.status_code == 400
    assert "Nothing was saved" in response.content.decode()
    assert response.context["form"].errors["preferred_language"]
    us_lead_poc.refresh_from_db()
    assert us_lead_poc.preferred_language == "en"


def test_a_change_made_meanwhile_is_not_overwritten(client, lead, us_lead_poc):
    client.force_login(lead)
    stale = _form(us_lead_poc, preferred_language="ko")
    us_lead_poc.title = "Director"
    us_lead_poc.save()  # an editor saved the record meanwhile (version 2)
    response = client.post("/profile/", stale)
    assert response.status_code == 409
    assert "changed meanwhile" in response.content.decode()
    us_lead_poc.refresh_from_db()
    assert us_lead_poc.preferred_language == "en"


def test_a_user_with_no_linked_poc_sees_why_and_cannot_post(client, viewer, us_lead_poc):
    client.force_login(viewer)
    html = client.get("/profile/").content.decode()
    assert "Your login is not linked to a point of contact" in html
    assert 'name="weekly_digest"' not in html
    assert client.post("/profile/", _form(us_lead_poc, weekly_digest=None)).status_code == 403
    us_lead_poc.refresh_from_db()
    assert us_lead_poc.weekly_digest is True


def test_a_linked_poc_who_is_not_a_lead_is_told_the_digest_is_for_leads(client, viewer):
    PointOfContactFactory(side="us", full_name="Alex Officer", user=viewer)
    client.force_login(viewer)
    html = client.get("/profile/").content.decode()
    assert "Alex Officer" in html and 'name="weekly_digest"' in html
    assert "The weekly digest goes to active lead POCs" in html


def test_the_page_is_in_korean_for_a_korean_reader(client, lead):
    client.force_login(lead)
    client.cookies["django_language"] = "ko"
    html = client.get("/profile/", headers={"accept-language": "ko"}).content.decode()
    assert "내 프로필" in html and "이메일 설정" in html and "주간 요약 받기" in html


def test_anonymous_visitors_go_to_sign_in_and_a_post_needs_the_csrf_token(client, lead, us_lead_poc):
    response = client.get("/profile/")
    assert response.status_code == 302 and "/accounts/login/" in response.url

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(lead)
    assert strict.post("/profile/", _form(us_lead_poc, preferred_language="ko")).status_code == 403
    us_lead_poc.refresh_from_db()
    assert us_lead_poc.preferred_language == "en"


def test_the_service_refuses_anyone_but_the_linked_user(lead, rok_lead, us_lead_poc):
    with pytest.raises(PermissionDenied):
        poc_preferences_update(poc=us_lead_poc, by=rok_lead, preferred_language="ko", weekly_digest=False)
    with pytest.raises(PermissionDenied):
        poc_preferences_update(poc=us_lead_poc, by=None, preferred_language="ko", weekly_digest=False)
    assert PointOfContact.objects.get(pk=us_lead_poc.pk).preferred_language == "en"
    poc_preferences_update(poc=us_lead_poc, by=lead, preferred_language="ko", weekly_digest=False)
    assert PointOfContact.objects.get(pk=us_lead_poc.pk).weekly_digest is False

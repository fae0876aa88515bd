"""Findings of the hostile review of the issue 9 hardening: each test failed before its fix."""

import pytest
from axes.models import AccessAttempt

from scm_reports import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"


# --- A username longer than the lockout table's column is a form error, not a 500 -------------
# Django's sign-in form does not enforce the username's max_length before authenticating, and
# django-axes wrote the whole name into AccessAttempt.username (varchar 255): on PostgreSQL an
# anonymous POST of a 300-character username answered 500, on the site's login and the admin's.


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_a_very_long_username_is_a_failed_sign_in_not_a_server_error(client, url):
    long_name = "x" * 300
    response = client.post(url, {"username": long_name, "password": "wrong", "next": "/"})
    assert response.status_code == 200
    assert AccessAttempt.objects.filter(username=long_name[:255]).exists()


def test_a_very_long_username_still_counts_toward_the_lockout(client, settings):
    long_name = "y" * 400
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": long_name, "password": "wrong"})
    assert client.post("/accounts/login/", {"username": long_name, "password": "wrong"}).status_code == 429


# --- Two-factor sign-in is required of whoever is an administrator now, not at sign-in --------
# Whether a session owed a second factor was decided once, at sign-in. A viewer signed in
# without two-factor sign-in and promoted to administrator (or made superuser) while signed in
# used the admin with the password alone, though production requires two-factor sign-in of
# every administrator.


def test_a_user_promoted_to_administrator_while_signed_in_must_set_up_two_factor(client, settings):
    settings.RCF_REQUIRE_2FA_FOR_ADMINS = True
    user = UserFactory(username="soon-admin")
    roles.user_role_set(user=user, role=roles.VIEWER)
    user.set_password(PASSWORD)
    user.save()
    assert client.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    assert client.get("/").status_code == 200  # a viewer: optional

    roles.user_role_set(user=user, role=roles.ADMINISTRATOR)  # by a superuser, elsewhere

    for url in ("/admin/", "/admin/auth/user/", "/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/two-factor/setup/"), url


# --- An odd value in an admin list filter is the admin's "invalid filter" page, not a 500 ------
# The admin accepts any lookup on a model's own fields in the query string; a year outside what
# Python can represent (``?created_at__year=-1``, ``=99999999999999999999``) raised ValueError or
# OverflowError while the list was counted: a 500 for any staff member who typed or followed it.


@pytest.mark.parametrize("url", [
    "/admin/projects/cooperativeproject/?created_at__year=-1",
    "/admin/projects/engagement/?date__year=99999999999999999999",
    "/admin/contacts/pointofcontact/?created_at__year=99999999999999999999",
    "/admin/scm_reports/scmcycle/?meeting_date__year=-1",
    "/admin/scm_reports/readinessflag/?raised_at__year=-1",
    "/admin/rcf/outboxmessage/?created_at__year=99999999999999999999",
    "/admin/auth/user/?date_joined__year=-1",
])
def test_an_impossible_year_in_an_admin_filter_is_no_server_error(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 302 and response["Location"].endswith("?e=1"), response.status_code
    assert admin_client.get(response["Location"]).status_code == 200


# --- Reference data edited in the admin refuses control characters and out-of-bound dates -----
# Administrators edit priority areas and partner countries in the admin; those forms had neither
# the text nor the date checks every other form has (a name with U+0001, member since 0001-01-01).


def _admin_form(record):
    from django.forms.models import model_to_dict

    return {k: ("" if v is None else v) for k, v in model_to_dict(record).items()}


@pytest.mark.parametrize("field, value", [("name", "Bad\x01name"), ("name_ko", "\x1b[31m"),
                                          ("member_since", "0001-01-01"), ("member_since", "9999-12-31")])
def test_the_country_admin_refuses_control_characters_and_out_of_bound_dates(admin_client, field, value):
    from rcf.models import PartnerCountry

    country = PartnerCountry.objects.exclude(member_since=None).order_by("pk").first()
    before = _admin_form(country)
    response = admin_client.post(f"/admin/rcf/partnercountry/{country.pk}/change/", {**before, field: value})
    assert response.status_code == 200, response.status_code
    assert response.context["adminform"].form.errors.get(field), response.context["adminform"].form.errors
    country.refresh_from_db()
    assert _admin_form(country) == before


@pytest.mark.parametrize("field", ["name", "name_ko", "description"])
def test_the_priority_area_admin_refuses_control_characters(admin_client, field):
    from rcf.models import PriorityArea

    area = PriorityArea.objects.order_by("pk").first()
    before = _admin_form(area)
    response = admin_client.post(f"/admin/rcf/priorityarea/{area.pk}/change/", {**before, field: "a\x0bb"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors.get(field)
    area.refresh_from_db()
    assert _admin_form(area) == before

"""Signing in: lockout after wrong passwords or codes (django-axes), and two-factor sign-in with
an authenticator app and recovery codes (django-otp), on the site's login page and the admin's."""

import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.management import call_command
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from rcf import mfa
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"
SITE_LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
LOCKED_TEXT = "Too many failed sign-ins"


def sign_in(client, username, password=PASSWORD, *, url=SITE_LOGIN, **extra):
    data = {"username": username, "password": password}
    if url == ADMIN_LOGIN:
        data["next"] = "/admin/"
    return client.post(url, data, **extra)


def signed_in_as(client):
    return client.session.get("_auth_user_id")


def code_for(device):
    """The 6 digits the user's app shows now (time-machine moves the clock totp() reads)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.fixture
def enrolled(client):
    """A user who has set up two-factor sign-in through the pages; returns (user, recovery codes)."""

    def enrol(user):
        client.force_login(user)
        page = client.get("/accounts/two-factor/setup/")
        assert page.status_code == 200
        device = TOTPDevice.objects.get(user=user, confirmed=False)
        response = client.post("/accounts/two-factor/setup/", {"code": code_for(device)})
        assert response.status_code == 200, response.content.decode()
        codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
        client.logout()
        return codes

    return enrol


# --- Lockout ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [SITE_LOGIN, ADMIN_LOGIN])
def test_forty_wrong_passwords_then_the_right_one_is_refused(client, url):
    user = UserFactory(username="target", is_staff=True, is_superuser=True)
    statuses = [sign_in(client, user.username, f"guess-{i}", url=url).status_code for i in range(40)]
    # The first four are ordinary form errors; from the fifth on the address is locked.
    assert statuses[:4] == [200] * 4
    assert set(statuses[4:]) == {429}
    response = sign_in(client, user.username, url=url)
    assert response.status_code == 429
    assert LOCKED_TEXT in response.content.decode()
    assert signed_in_as(client) is None
    assert client.get("/").status_code == 302


def test_the_lockout_page_says_when_to_try_again_in_the_sites_own_page(client, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    UserFactory(username="forgetful")
    for i in range(5):
        response = sign_in(client, "forgetful", f"wrong-{i}")
    page = response.content.decode()
    assert response.status_code == 429
    assert 15 * 60 - 5 <= int(response["Retry-After"]) <= 15 * 60
    assert "Try again after" in page and "(in about 15 minutes)" in page
    assert "ask an administrator to unlock" in page
    assert '<header class="site-header">' in page  # the site's styled page, not a bare text
    korean = sign_in(client, "forgetful", "wrong", HTTP_ACCEPT_LANGUAGE="ko")
    assert "로그인 시도가 너무 많이 실패했습니다" in korean.content.decode()


def test_one_address_is_locked_across_usernames_but_other_addresses_are_not(client, settings):
    settings.RCF_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 20
    UserFactory(username="real-user")
    for i in range(20):
        # Each username only once: no (username, address) pair comes near its limit of 5.
        assert sign_in(client, f"nobody-{i}", "guess", REMOTE_ADDR="203.0.113.7").status_code in (200, 429)
    refused = sign_in(client, "real-user", REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429 and signed_in_as(client) is None
    allowed = sign_in(client, "real-user", REMOTE_ADDR="198.51.100.4")
    assert allowed.status_code == 302 and signed_in_as(client) is not None


def test_a_user_locked_from_one_address_can_still_sign_in_from_another(client):
    UserFactory(username="traveller")
    for i in range(6):
        sign_in(client, "traveller", f"wrong-{i}", REMOTE_ADDR="203.0.113.8")
    assert sign_in(client, "traveller", REMOTE_ADDR="203.0.113.8").status_code == 429
    assert sign_in(client, "traveller", REMOTE_ADDR="198.51.100.5").status_code == 302


def test_a_correct_password_after_the_cool_off_signs_in(client, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    UserFactory(username="patient")
    for i in range(5):
        sign_in(client, "patient", f"wrong-{i}")
    assert sign_in(client, "patient").status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=14), tick=False):
        assert sign_in(client, "patient").status_code == 429  # (and that attempt started the wait again)
    with time_machine.travel(timezone.now() + timedelta(minutes=30), tick=False):
        response = sign_in(client, "patient")
    assert response.status_code == 302 and signed_in_as(client) is not None


def test_an_administrator_unlocks_a_user_in_the_admin(client, administrator):
    UserFactory(username="locked-out")
    for i in range(5):
        sign_in(client, "locked-out", f"wrong-{i}")
    assert sign_in(client, "locked-out").status_code == 429

    admin_client = type(client)()
    admin_client.force_login(administrator)
    listing = admin_client.get("/admin/axes/accessattempt/", {"q": "locked-out"})
    assert listing.status_code == 200, "the administrator role needs axes.view/delete_accessattempt"
    assert "locked-out" in listing.content.decode()
    ids = list(AccessAttempt.objects.filter(username="locked-out").values_list("pk", flat=True))
    response = admin_client.post("/admin/axes/accessattempt/", {
        "action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="locked-out").exists()

    assert sign_in(client, "locked-out").status_code == 302


def test_an_operator_unlocks_a_user_with_the_documented_command(client):
    UserFactory(username="locked-out")
    for i in range(5):
        sign_in(client, "locked-out", f"wrong-{i}")
    assert sign_in(client, "locked-out").status_code == 429
    call_command("axes_reset_username", "locked-out")
    assert sign_in(client, "locked-out").status_code == 302


def test_lockout_is_counted_in_the_database_not_per_process(client):
    UserFactory(username="counted")
    for i in range(3):
        sign_in(client, "counted", f"wrong-{i}")
    assert AccessAttempt.objects.get(username="counted").failures_since_start == 3


# --- Two-factor sign-in -------------------------------------------------------------------


def test_a_user_enrols_with_a_qr_code_and_a_code_from_the_app_and_gets_ten_recovery_codes(client, viewer):
    client.force_login(viewer)
    page = client.get("/accounts/two-factor/setup/")
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=viewer, confirmed=False)
    assert "<svg" in html and "<img" not in html  # inline, nothing loaded from elsewhere
    assert mfa.app_device_secret(device) in html

    wrong = client.post("/accounts/two-factor/setup/", {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert wrong.status_code == 400 and "That code is not right" in wrong.content.decode()
    assert not mfa.has_two_factor(viewer)

    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        response = client.post("/accounts/two-factor/setup/", {"code": code_for(device)})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    assert len(set(codes)) == 10
    assert "no-store" in response["Cache-Control"]
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=viewer).count() == 10
    assert client.get("/accounts/two-factor/").status_code == 200
    assert "10 unused recovery codes" in client.get("/accounts/two-factor/").content.decode()


def test_signing_in_needs_the_code_and_a_wrong_code_is_refused(client, viewer, enrolled):
    enrolled(viewer)
    device = TOTPDevice.objects.get(user=viewer, confirmed=True)
    later = timezone.now() + timedelta(minutes=2)
    with time_machine.travel(later, tick=False):
        response = sign_in(client, viewer.username)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/two-factor/verify/")
        # The password alone reaches nothing: every page sends to the code step.
        blocked = client.get("/projects/")
        assert blocked.status_code == 302 and blocked["Location"].startswith("/accounts/two-factor/verify/")
        assert client.get("/api/v1/projects/").status_code == 403
        right = code_for(device)
        wrong = "123456" if right != "123456" else "654321"
        refused = client.post("/accounts/two-factor/verify/", {"code": wrong, "next": "/projects/"})
        assert refused.status_code == 400 and "That code is not right" in refused.content.decode()
        assert client.get("/projects/").status_code == 302
    with time_machine.travel(later + timedelta(seconds=40), tick=False):
        accepted = client.post("/accounts/two-factor/verify/", {"code": code_for(device), "next": "/projects/"})
        assert accepted.status_code == 302 and accepted["Location"] == "/projects/"
        assert client.get("/projects/").status_code == 200


def test_a_code_cannot_be_used_twice(client, viewer, enrolled):
    enrolled(viewer)
    device = TOTPDevice.objects.get(user=viewer, confirmed=True)
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=False):
        code = code_for(device)
        sign_in(client, viewer.username)
        assert client.post("/accounts/two-factor/verify/", {"code": code}).status_code == 302
        client.logout()
        sign_in(client, viewer.username)
        assert client.post("/accounts/two-factor/verify/", {"code": code}).status_code == 400


def test_a_recovery_code_works_once(client, viewer, enrolled):
    codes = enrolled(viewer)
    sign_in(client, viewer.username)
    response = client.post("/accounts/two-factor/verify/", {"code": codes[0].upper()})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.logout()
    sign_in(client, viewer.username)
    assert client.post("/accounts/two-factor/verify/", {"code": codes[0]}).status_code == 400
    assert client.get("/").status_code == 302
    assert StaticToken.objects.filter(device__user=viewer).count() == 9


def test_wrong_codes_count_toward_the_lockout(client, viewer, enrolled):
    enrolled(viewer)
    sign_in(client, viewer.username)
    statuses = [client.post("/accounts/two-factor/verify/", {"code": f"{i:06d}"}).status_code for i in range(1, 6)]
    assert statuses[:4] == [400] * 4 and statuses[4] == 429
    # The session is ended and the password is refused too until the lockout ends.
    assert signed_in_as(client) is None
    assert sign_in(client, viewer.username).status_code == 429


def test_the_admin_needs_the_code_from_a_user_with_a_device(client, django_user_model, enrolled):
    root = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    codes = enrolled(root)
    response = sign_in(client, "root", url=ADMIN_LOGIN)
    assert response.status_code == 302
    admin = client.get("/admin/")
    assert admin.status_code == 302 and admin["Location"] == "/accounts/two-factor/verify/?next=%2Fadmin%2F"
    assert client.get("/admin/auth/user/").status_code == 302
    assert client.post("/accounts/two-factor/verify/", {"code": codes[1], "next": "/admin/"})["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_session_that_skipped_the_code_is_held_at_the_code_step(client, viewer, enrolled):
    enrolled(viewer)
    client.force_login(viewer)  # any way of signing in, not just the login page
    assert client.get("/").status_code == 302
    assert client.get("/accounts/two-factor/setup/").status_code == 302  # cannot replace the app either


def test_in_production_an_administrator_without_a_device_is_sent_to_set_it_up(client, settings, administrator,
                                                                                viewer):
    settings.RCF_REQUIRE_2FA_FOR_ADMINS = True
    response = sign_in(client, administrator.username)
    assert response["Location"].startswith("/accounts/two-factor/setup/")
    for url in ("/", "/admin/", "/projects/"):
        sent = client.get(url)
        assert sent.status_code == 302 and sent["Location"].startswith("/accounts/two-factor/setup/"), url
    setup = client.get("/accounts/two-factor/setup/")
    assert setup.status_code == 200
    device = TOTPDevice.objects.get(user=administrator, confirmed=False)
    assert client.post("/accounts/two-factor/setup/", {"code": code_for(device)}).status_code == 200
    assert client.get("/admin/").status_code == 200
    # ... and cannot turn it off again.
    client.post("/accounts/two-factor/disable/", {"password": PASSWORD})
    assert mfa.has_two_factor(administrator)

    # Optional for everyone else.
    other = type(client)()
    sign_in(other, viewer.username)
    assert other.get("/").status_code == 200


def test_production_mode_requires_two_factor_for_administrators_by_default():
    from django.conf import settings

    assert settings.RCF_REQUIRE_2FA_FOR_ADMINS is (settings.DJANGO_ENV == "production")


def test_a_user_turns_two_factor_off_with_the_password(client, viewer, enrolled):
    codes = enrolled(viewer)
    sign_in(client, viewer.username)
    client.post("/accounts/two-factor/verify/", {"code": codes[0]})
    wrong = client.post("/accounts/two-factor/disable/", {"password": "not-it"})
    assert wrong.status_code == 400 and mfa.has_two_factor(viewer)
    empty = client.post("/accounts/two-factor/disable/", {})
    assert empty.status_code == 400 and "Type your password or a code" in empty.content.decode()
    assert client.post("/accounts/two-factor/disable/", {"password": PASSWORD}).status_code == 302
    assert not mfa.has_two_factor(viewer)
    client.logout()
    assert sign_in(client, viewer.username)["Location"] == "/"


def test_new_recovery_codes_replace_the_old_ones(client, viewer, enrolled):
    codes = enrolled(viewer)
    sign_in(client, viewer.username)
    client.post("/accounts/two-factor/verify/", {"code": codes[0]})
    response = client.post("/accounts/two-factor/recovery-codes/")
    new_codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    client.logout()
    sign_in(client, viewer.username)
    assert client.post("/accounts/two-factor/verify/", {"code": codes[1]}).status_code == 400
    # django-otp makes the next try wait a moment after a wrong code (1 s, then doubling).
    assert client.post("/accounts/two-factor/verify/", {"code": new_codes[0]}).status_code == 400
    with time_machine.travel(timezone.now() + timedelta(seconds=2), tick=False):
        assert client.post("/accounts/two-factor/verify/", {"code": new_codes[0]}).status_code == 302


def test_setting_up_two_factor_signs_the_user_out_everywhere_else(client, viewer):
    elsewhere = type(client)()
    sign_in(elsewhere, viewer.username)
    assert elsewhere.get("/").status_code == 200
    client.force_login(viewer)
    client.get("/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=viewer, confirmed=False)
    assert client.post("/accounts/two-factor/setup/", {"code": code_for(device)}).status_code == 200
    assert client.get("/").status_code == 200  # this session was verified by the code
    assert elsewhere.get("/").status_code == 302  # the password-only session is over


def test_after_a_lost_phone_an_operator_prints_a_one_time_code(client, viewer, enrolled):
    import io

    enrolled(viewer)
    out = io.StringIO()
    call_command("addstatictoken", viewer.username, stdout=out)
    code = out.getvalue().strip()
    sign_in(client, viewer.username)
    assert client.post("/accounts/two-factor/verify/", {"code": code}).status_code == 302
    assert client.get("/accounts/two-factor/setup/").status_code == 200  # and sets up the new phone


def test_a_forged_forwarded_address_does_not_dodge_the_lockout(client, settings):
    UserFactory(username="target")
    for i in range(6):
        sign_in(client, "target", f"wrong-{i}", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    assert sign_in(client, "target", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_behind_the_proxy_the_forwarded_address_counts_and_garbage_is_no_error(client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    UserFactory(username="target")
    for i in range(5):
        sign_in(client, "target", f"wrong-{i}", HTTP_X_FORWARDED_FOR="192.0.2.10")
    assert sign_in(client, "target", HTTP_X_FORWARDED_FOR="192.0.2.10").status_code == 429
    assert sign_in(client, "target", HTTP_X_FORWARDED_FOR="not-an-address").status_code == 302
    assert AccessAttempt.objects.filter(ip_address="192.0.2.10").exists()


def test_wrong_current_passwords_on_the_password_change_page_count_toward_the_lockout(client):
    """A stolen session must not allow guessing the password without limit (and then changing it)."""
    user = UserFactory(username="session-thief-target")
    user.set_password(PASSWORD)
    user.save()
    client.force_login(user)
    url = "/accounts/password_change/"
    attempt = {"new_password1": "A-new-pass-2026!", "new_password2": "A-new-pass-2026!"}
    statuses = [client.post(url, {**attempt, "old_password": f"guess-{i}"}).status_code for i in range(5)]
    assert statuses[:4] == [200] * 4 and statuses[4] == 429
    # Signed out, and the right current password does not change it now either.
    assert client.post(url, {**attempt, "old_password": PASSWORD}).status_code in (302, 429)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert sign_in(client, user.username).status_code == 429


def test_the_admin_password_change_goes_to_the_guarded_page(client, administrator):
    client.force_login(administrator)
    response = client.get("/admin/password_change/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password_change/"

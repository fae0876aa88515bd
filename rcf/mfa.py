"""Two-factor sign-in: an authenticator app (TOTP) and one-time recovery codes (django-otp).

A user has two-factor sign-in once they hold a confirmed device. The authenticator app is a
``TOTPDevice`` (confirmed when the user types a code from it), the recovery codes one
``StaticDevice`` holding ``RECOVERY_CODE_COUNT`` codes, each removed when used.
"""

import re
from base64 import b32encode

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import devices_for_user, user_has_device
from django_otp import verify_token as otp_verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"

_APP_CODE = re.compile(r"^\d{6}$")
_RECOVERY_CODE = re.compile(r"^[a-z2-7]{8}$")


def two_factor_required(user) -> bool:
    """Must ``user`` sign in with a second factor? Administrators - whoever can open the admin or
    manage users - and superusers, when ``RCF_REQUIRE_2FA_FOR_ADMINS`` is on (production)."""
    if not settings.RCF_REQUIRE_2FA_FOR_ADMINS or not user.is_authenticated:
        return False
    return user.is_superuser or user.is_staff or user.has_perm("auth.change_user")


def has_two_factor(user) -> bool:
    return user.is_authenticated and user_has_device(user, confirmed=True)


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def app_device_pending(*, user) -> TOTPDevice:
    """The authenticator-app device being set up (unconfirmed), made on first call. A confirmed
    device stays in force until the new one is confirmed (a new phone replaces the old one)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def app_device_qr_svg(device: TOTPDevice) -> str:
    """The ``otpauth://`` address as an inline SVG QR code (no outside resource: the CSP forbids it)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title=_("QR code to scan"))


def app_device_secret(device: TOTPDevice) -> str:
    """The secret as authenticator apps ask for it when typed in: base32 in groups of four."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def app_device_confirm(*, user, code: str) -> list[str]:
    """Confirm the pending authenticator app with a code from it; returns fresh recovery codes.

    Raises ValidationError (field ``code``) when the code is wrong. Any earlier app device of the
    user is removed: the new one replaces it."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
    code = _normalise(code)
    if device is None:
        raise ValidationError({"code": _("Start the set-up again: no authenticator app is waiting for a code.")})
    if not _APP_CODE.match(code) or not device.verify_token(code):
        raise ValidationError({"code": _("That code is not right. Type the 6 digits your app shows now.")})
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return recovery_codes_replace(user=user)


@transaction.atomic
def recovery_codes_replace(*, user) -> list[str]:
    """Replace the user's recovery codes with ``RECOVERY_CODE_COUNT`` new ones (returned once;
    the old ones stop working)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        codes.add(StaticToken.random_token())
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return sorted(codes)


def second_factor_verify(*, user, code: str):
    """The confirmed device that accepts ``code`` (6 digits from the app, or an unused recovery
    code, which is then used up), or None. django-otp slows down repeated wrong codes per device."""
    code = _normalise(code)
    if _APP_CODE.match(code):
        candidates = TOTPDevice.objects.devices_for_user(user, confirmed=True)
    elif _RECOVERY_CODE.match(code):
        candidates = StaticDevice.objects.devices_for_user(user, confirmed=True)
    else:
        return None
    for device in candidates:
        verified = otp_verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified
    return None


def other_sessions_end(*, user, keep: str | None) -> int:
    """Sign ``user`` out of every session but ``keep``: once two-factor sign-in is set up, a
    session opened with the password alone must not go on. Database sessions only (the
    default); returns how many were ended."""
    if settings.SESSION_ENGINE not in ("django.contrib.sessions.backends.db",
                                       "django.contrib.sessions.backends.cached_db"):
        return 0
    from django.contrib.auth import SESSION_KEY as USER_ID_KEY
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).exclude(session_key=keep).iterator():
        if session.get_decoded().get(USER_ID_KEY) == str(user.pk):
            ended.append(session.session_key)
    if settings.SESSION_ENGINE.endswith("cached_db"):
        from django.contrib.sessions.backends.cached_db import SessionStore

        for key in ended:
            SessionStore(session_key=key).delete()
    else:
        Session.objects.filter(session_key__in=ended).delete()
    return len(ended)


@transaction.atomic
def two_factor_disable(*, user) -> None:
    """Remove every device of the user (the app and the recovery codes)."""
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()


def _normalise(code: str) -> str:
    # People copy codes with spaces ("123 456") or type recovery codes in capitals.
    return re.sub(r"[\s-]", "", code or "").lower()

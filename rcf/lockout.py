"""Sign-in lockout (django-axes, configured in settings ``AXES_*``).

Failed sign-ins are counted per (username, address) and per address. django-axes compares one
count with one limit, so the handler below reports the larger of the two counts, each measured
against its own limit: an address that reached its own (higher) limit counts as locked.
"""

import math

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render
from django.utils import timezone

from . import api_policies


class LoginLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with two limits: ``AXES_FAILURE_LIMIT`` for a username from one
    address, ``RCF_LOGIN_FAILURE_LIMIT_PER_ADDRESS`` for an address whatever usernames it tries."""

    def get_failures(self, request, credentials=None) -> int:
        attempts = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        username = get_client_username(request, credentials)
        by_user = _failures(attempts.filter(username=username))
        by_address = _failures(attempts)
        user_limit = settings.AXES_FAILURE_LIMIT
        address_limit = max(settings.RCF_LOGIN_FAILURE_LIMIT_PER_ADDRESS, 1)
        # Scaled onto the user limit: reaches it exactly when the address reaches its own.
        return max(by_user, by_address * user_limit // address_limit)


def _failures(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def client_address(request) -> str | None:
    """The client's address for the per-address count: the same rule as the API's throttles
    (``X-Forwarded-For`` believed only behind ``TRUSTED_PROXY_COUNT`` proxies)."""
    return api_policies.client_address(request) or None


def _username_field() -> str:
    return getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")


def client_username(request, credentials=None) -> str | None:
    """The username a sign-in was tried with, as django-axes stores and counts it: cut to the
    length of its column. Django's sign-in form passes a username of any length on to
    ``authenticate``, and a longer one failed the insert (a 500 on PostgreSQL) for anyone."""
    if credentials:
        username = credentials.get(_username_field())
    else:
        username = getattr(request, "data", request.POST).get(_username_field())
    if not isinstance(username, str):
        return username
    return username[: AccessAttempt._meta.get_field("username").max_length]


def lockout_response(request, original_response=None, credentials=None):
    """The lockout page: the site's own, saying when to try again (429 with Retry-After)."""
    cool_off = get_cool_off(request)
    context = {"retry_at": None, "minutes": None}
    response_headers = {}
    if cool_off:
        started = getattr(request, "axes_attempt_time", None) or timezone.now()
        retry_at = started + cool_off
        seconds = max(math.ceil((retry_at - timezone.now()).total_seconds()), 1)
        context = {"retry_at": retry_at, "minutes": math.ceil(seconds / 60)}
        response_headers["Retry-After"] = str(seconds)
    status = getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429)
    response = render(request, "accounts/locked_out.html", context, status=status)
    for name, value in response_headers.items():
        response[name] = value
    return response

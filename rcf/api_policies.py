"""The API policies ``REST_FRAMEWORK`` names: authentication, permission,
throttles, parser, pagination.

They live apart from ``rcf.api`` because DRF imports its default classes
while ``rest_framework.views`` is still loading (``APIView``'s class body
reads them): a module that imports DRF's views, as ``rcf.api`` must, would
import itself half-initialised. So nothing here may import
``rest_framework.views``, ``viewsets``, ``generics`` or ``decorators``,
directly or through ``rcf.api``.
"""

from __future__ import annotations

import io
import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, pagination, parsers, permissions, status, throttling
from rest_framework.authentication import TokenAuthentication
from rest_framework.settings import api_settings

from .models import ApiToken

logger = logging.getLogger(__name__)

# --- Parsing -----------------------------------------------------------------------------


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


class LimitedJSONParser(parsers.JSONParser):
    """JSON bodies up to ``RCF_API_MAX_BODY_BYTES`` (413 beyond). Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` does not apply here: DRF reads the stream
    itself. The limit holds also when no Content-Length is sent."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.RCF_API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(_("The request body is larger than %(limit)d bytes.") % {"limit": limit})
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge(_("The request body is larger than %(limit)d bytes.") % {"limit": limit})
        return super().parse(io.BytesIO(body), media_type, parser_context)


# --- Authentication, permissions, throttles --------------------------------------------------


class ApiTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>`` with an ``rcf.ApiToken``; ``request.auth``
    is the token, so permissions can see whether it is read-only."""

    model = ApiToken

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(key_digest=ApiToken.digest(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token


class RolePermission(permissions.BasePermission):
    """Signed in, allowed by the token, and holding the model permissions the
    view asks for (``view.get_required_permissions``)."""

    message = _("Your role does not allow this.")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method not in permissions.SAFE_METHODS and getattr(request.auth, "read_only", False):
            raise exceptions.PermissionDenied(_("This API token is read-only."))
        required = view.get_required_permissions(request) if hasattr(view, "get_required_permissions") else ()
        return user.has_perms(required)


class _RateFromSettings:
    """Read the rate when the throttle is made, not when DRF was imported, so
    a change of ``REST_FRAMEWORK`` (an override in a test) applies.

    The counts live in the cache (Redis). If Redis is down the request is let
    through and the failure logged: rate limiting is a protection, and losing
    it for a while must not take the API down with it."""

    def allow_request(self, request, view):
        from redis.exceptions import RedisError

        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as exc:
            logger.warning("API throttle skipped: the cache is unreachable (%s).", exc)
            return True

    def get_rate(self):
        rates = api_settings.DEFAULT_THROTTLE_RATES or {}
        if self.scope not in rates:
            raise ImproperlyConfigured(f"No throttle rate set for scope {self.scope!r}")
        return rates[self.scope]


class UserRateThrottle(_RateFromSettings, throttling.UserRateThrottle):
    pass


class AnonRateThrottle(_RateFromSettings, throttling.AnonRateThrottle):
    pass


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"

    @property
    def max_page_size(self):
        return settings.RCF_API_MAX_PAGE_SIZE

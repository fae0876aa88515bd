"""Signed webhooks: what changed in the tracker, pushed to the URLs administrators subscribe.

* **Emission.** A service calls ``webhook_emit(event=..., instance=...)`` inside
  the transaction of its change, after the record (and its many-to-many
  fields) is saved. One ``WebhookDelivery`` row is written per active endpoint
  subscribed to the event, with the payload as it is then, and one coalesced
  outbox message wakes delivery: a change rolled back sends nothing, a change
  committed always leaves its deliveries, and the web request never touches
  the network or the broker.
* **Payload.** ``{"id", "event", "occurred_at", "resource", "url", "data"}``:
  ``data`` is the record as ``GET /api/v1/<resource>/<id>/`` shows it (the
  API's own serializer, registered by each app from its ``AppConfig.ready``:
  this app never imports the apps to its right), or the sync feed's tombstone
  for a deleted record. ``url`` is the record's API address under
  ``SITE_URL``.
* **Signing.** Standard Webhooks: ``webhook-id``, ``webhook-timestamp`` and
  ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of id.timestamp.body>``);
  during a secret rotation's overlap, one signature per secret, separated by
  a space.
* **Delivery.** ``webhooks_deliver_due`` (the outbox handler, and beat every
  ``RCF_WEBHOOK_POLL_SECONDS`` for retries) claims one endpoint at a time
  (a lease, so two workers never send one endpoint's queue) and sends its
  oldest undelivered message first; nothing later goes to that endpoint until
  it succeeds, so each endpoint sees the events in the order they happened.
  A 2xx answer is delivered; anything else is retried with exponential
  back-off until ``RCF_WEBHOOK_RETRY_HOURS`` after the first attempt, then the
  endpoint is disabled and its administrator e-mailed. At least once:
  receivers deduplicate by ``webhook-id``.
* **Outbound safety (SSRF).** With ``RCF_WEBHOOK_REQUIRE_PUBLIC`` (production)
  a URL must be https and its host must resolve only to public addresses,
  unless ``RCF_WEBHOOK_ALLOW_PRIVATE`` names the host or network; checked when
  an endpoint is saved and again before every attempt, and the connection
  goes to the very address that was checked (no second lookup to rebind).
  Redirects are never followed.
"""

from __future__ import annotations

import base64
import datetime
import http.client
import ipaddress
import json
import logging
import secrets as secrets_module
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone, translation
from django.utils.encoding import iri_to_uri
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from standardwebhooks.webhooks import Webhook

from .models import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from .outbox import outbox_enqueue, outbox_register

logger = logging.getLogger(__name__)

Status = WebhookDeliveryStatus

# Every event the tracker sends, in the order of the documentation.
EVENTS = (
    "project.created",
    "project.updated",
    "project.deleted",
    "project.restored",
    "project.transitioned",
    "concurrence.proposed",
    "concurrence.resolved",
    "presentation.recorded",
    "presentation.updated",
    "presentation.deleted",
    "presentation.restored",
    "action.created",
    "action.updated",
    "action.deleted",
    "action.restored",
    "action.overdue",
    "engagement.created",
    "engagement.updated",
    "engagement.deleted",
    "engagement.restored",
    "readiness_flag.raised",
    "readiness_flag.resolved",
)

# The outbox topic that wakes delivery (rcf.outbox).
WEBHOOK_TOPIC = "rcf.webhooks.deliver"
# The outbox topic of the e-mail telling an administrator their endpoint was disabled.
DISABLED_TOPIC = "rcf.webhooks.disabled"

USER_AGENT = "RCF-Tracker-Webhooks/1"
_RESPONSE_EXCERPT = 500


# --- What each app registers -------------------------------------------------------------


@dataclass
class _Resource:
    name: str
    serializer: object  # a serializer class, or its dotted path (imported when first used)
    basename: str

    def serializer_class(self):
        if isinstance(self.serializer, str):
            self.serializer = import_string(self.serializer)
        return self.serializer


_RESOURCES: dict[type, _Resource] = {}
_BULK: dict[type, object] = {}


def webhook_register(*, model, resource: str, serializer, basename: str | None = None) -> None:
    """Say how a record of ``model`` is shown in payloads: ``serializer`` (a
    class or a dotted path) is the API's serializer of the resource, and
    ``basename`` the API route's (``api:<basename>-detail``, default
    ``resource``). Called from the owning app's ``AppConfig.ready``."""
    _RESOURCES[model] = _Resource(name=resource, serializer=serializer, basename=basename or resource)


def _resource_of(instance) -> _Resource:
    for klass in type(instance).__mro__:
        if klass in _RESOURCES:
            return _RESOURCES[klass]
    raise ImproperlyConfigured(f"{type(instance).__name__} is not registered for webhooks (webhook_register)")


def _utc(value: datetime.datetime) -> str:
    text = value.astimezone(datetime.UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _tombstone(instance) -> dict:
    """A deleted record, as the sync feed shows it."""
    external_id = getattr(instance, "external_id", None)
    return {"id": instance.pk, "external_id": external_id or None, "deleted": True,
            "deleted_at": _utc(instance.deleted_at)}


def webhook_representation(instance) -> dict:
    """The record as the API shows it (read again from the database, so it is
    what the change wrote), or its tombstone when it is deleted."""
    from .serializers import BulkRepresentation

    resource = _resource_of(instance)
    model = type(instance)
    manager = getattr(model, "all_objects", model._default_manager)
    current = manager.get(pk=instance.pk)
    if getattr(current, "deleted_at", None) is not None:
        return _tombstone(current)
    serializer_class = resource.serializer_class()
    # Texts rendered for the reader (a flag's sentence) in the site's language, as an API client without
    # Accept-Language reads them.
    with translation.override(settings.LANGUAGE_CODE):
        if serializer_class not in _BULK:
            try:
                _BULK[serializer_class] = BulkRepresentation(serializer_class)
            except (ImproperlyConfigured, FieldDoesNotExist):
                _BULK[serializer_class] = None  # method fields: DRF's own to_representation
        bulk = _BULK[serializer_class]
        data = bulk.one(current.pk) if bulk is not None else serializer_class(current).data
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _record_url(resource: _Resource, pk) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        path = reverse(f"api:{resource.basename}-detail", args=[pk])
    except NoReverseMatch:
        return None
    return settings.SITE_URL.rstrip("/") + path


def webhook_subscribed_events() -> set[str]:
    """The events some active endpoint receives (one query; a job skips the work of the others)."""
    found = set()
    for events in WebhookEndpoint.objects.filter(is_active=True).values_list("events", flat=True):
        if isinstance(events, list):
            found.update(events)
    return found


def webhook_subscribed(event: str) -> bool:
    """Whether any active endpoint receives ``event``."""
    return event in webhook_subscribed_events()


def new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


# Keys of a representation that every save moves, whether anything changed or not.
_VOLATILE_KEYS = frozenset({"version", "updated_at", "updated_by"})


def webhook_before(event: str, instance) -> dict | None:
    """The record as payloads show it before a change (call it before the
    change, pass it to ``webhook_emit(before=...)``, which then sends nothing
    when the change changed nothing); None when no endpoint receives
    ``event`` (nothing to compare, no work)."""
    if not webhook_subscribed(event):
        return None
    return webhook_representation(instance)


def _same(before: dict, after: dict) -> bool:
    return ({k: v for k, v in before.items() if k not in _VOLATILE_KEYS}
            == {k: v for k, v in after.items() if k not in _VOLATILE_KEYS})


def webhook_emit(*, event: str, instance, extra: dict | None = None, dedupe_key: str = "",
                 occurred_at: datetime.datetime | None = None, before: dict | None = None) -> int:
    """Queue ``event`` about ``instance`` for every active endpoint subscribed
    to it. Call it inside the change's ``transaction.atomic()``, after the
    change is saved. ``extra`` adds keys to the payload beside ``data`` (a
    transition's from and to). With ``dedupe_key``, an endpoint gets the event
    about one record and key once only (``action.overdue`` of one due date).
    With ``before`` (``webhook_before``), nothing is sent when the record
    reads as it did (an update that changed nothing).
    Returns the number of deliveries queued."""
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}")
    endpoints = [endpoint_id for endpoint_id, events in
                 WebhookEndpoint.objects.filter(is_active=True).values_list("id", "events")
                 if isinstance(events, list) and event in events]
    if endpoints and dedupe_key:
        sent = set(WebhookDelivery.objects.filter(endpoint_id__in=endpoints, event=event, dedupe_key=dedupe_key)
                   .values_list("endpoint_id", flat=True))
        endpoints = [endpoint_id for endpoint_id in endpoints if endpoint_id not in sent]
    if not endpoints:
        return 0
    resource = _resource_of(instance)
    data = webhook_representation(instance)
    if before is not None and _same(before, data):
        return 0
    occurred_at = occurred_at or timezone.now()
    envelope = {
        "event": event,
        "occurred_at": _utc(occurred_at),
        "resource": resource.name,
        "url": _record_url(resource, instance.pk),
        **(extra or {}),
        "data": data,
    }
    rows = []
    for endpoint_id in endpoints:
        webhook_id = new_webhook_id()
        rows.append(WebhookDelivery(
            endpoint_id=endpoint_id, event=event, webhook_id=webhook_id, resource=resource.name,
            object_id=str(instance.pk), payload={"id": webhook_id, **envelope}, dedupe_key=dedupe_key,
            occurred_at=occurred_at, next_attempt_at=occurred_at,
        ))
    # With a dedupe key, a second emission is skipped by the unique constraint (never an error that
    # would break the caller's transaction).
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=bool(dedupe_key))
    webhook_wake()
    return len(rows)


def webhook_wake() -> None:
    """Ask a worker to send what is due, through the outbox (in the caller's transaction)."""
    outbox_enqueue(topic=WEBHOOK_TOPIC, coalesce_key="all")


# --- Outbound safety (SSRF) --------------------------------------------------------------


class UnsafeDestination(Exception):
    """The URL may not be called (not https, or a non-public address)."""


def _allowed_entries() -> tuple[set[str], list]:
    hosts, networks = set(), []
    for entry in settings.RCF_WEBHOOK_ALLOW_PRIVATE:
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            hosts.add(entry.lower().rstrip("."))
    return hosts, networks


def _address_kind(address) -> str | None:
    """Why ``address`` is not a public one (a label), or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        else:
            # 6to4 (2002::/16) and Teredo (2001::/32) carry an IPv4 address that relays route to: that one
            # must be public too.
            embedded = [address.sixtofour] if address.sixtofour is not None else list(address.teredo or ())
            for inner in embedded:
                kind = _address_kind(inner)
                if kind is not None:
                    return kind
    checks = (
        ("is_loopback", _("a loopback address")),
        ("is_link_local", _("a link-local address")),
        ("is_multicast", _("a multicast address")),
        ("is_unspecified", _("an unspecified address")),
        ("is_private", _("a private address")),
        ("is_reserved", _("a reserved address")),
    )
    for attribute, label in checks:
        if getattr(address, attribute):
            return str(label)
    if not address.is_global:
        return str(_("not a public address"))
    return None


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestination(_("The host %(host)s does not resolve to any address.") % {"host": host}) from exc
    addresses = []
    for info in infos:
        address = info[4][0].split("%")[0]  # an IPv6 zone index is not part of the address
        if address not in addresses:
            addresses.append(address)
    return addresses


def _check_addresses(host: str, addresses: list[str]) -> None:
    allowed_hosts, allowed_networks = _allowed_entries()
    if host.lower().rstrip(".") in allowed_hosts:
        return
    for text in addresses:
        address = ipaddress.ip_address(text)
        if any(address.version == network.version and address in network for network in allowed_networks):
            continue
        kind = _address_kind(address)
        if kind is not None:
            raise UnsafeDestination(
                _("%(host)s resolves to %(address)s, %(kind)s: webhooks are sent to public addresses only "
                  "(RCF_WEBHOOK_ALLOW_PRIVATE can allow a host or network).")
                % {"host": host, "address": text, "kind": kind}
            )


def _split_url(url: str):
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeDestination(_("Give an absolute http:// or https:// URL."))
    if parts.username is not None or parts.password is not None:
        raise UnsafeDestination(_("Leave the user name and password out of the URL: receivers check the "
                                  "signature instead."))
    try:
        port = parts.port
    except ValueError as exc:
        raise UnsafeDestination(_("The URL's port is not a number from 1 to 65535.")) from exc
    if port == 0:
        raise UnsafeDestination(_("The URL's port is not a number from 1 to 65535."))
    return parts, scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def redacted_url(url: str) -> str:
    """``url`` without its query (which may hold a token), for logs and e-mails."""
    parts = urlsplit(url)
    return parts._replace(query="…" if parts.query else "", fragment="").geturl()


def _destination(url: str) -> tuple[object, str, str, int, list[str]]:
    """The URL's parts and the addresses to connect to, after the safety checks
    (``UnsafeDestination`` naming what is wrong)."""
    parts, scheme, host, port = _split_url(url)
    enforce = settings.RCF_WEBHOOK_REQUIRE_PUBLIC
    if enforce and scheme != "https":
        raise UnsafeDestination(_("Use an https:// URL: webhooks are sent over https only."))
    addresses = _resolve(host, port)
    if enforce:
        _check_addresses(host, addresses)
    return parts, scheme, host, port, addresses


def webhook_url_problems(url: str) -> list[str]:
    """What is wrong with ``url`` as a webhook endpoint (empty: nothing).
    Outside production a host that does not resolve is accepted (a receiver
    that is not running yet)."""
    try:
        _split_url(url)
        if settings.RCF_WEBHOOK_REQUIRE_PUBLIC:
            _destination(url)
    except UnsafeDestination as exc:
        return [str(exc)]
    return []


# --- Secrets and signing -----------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets_module.token_bytes(32)).decode()


def signing_secrets(endpoint: WebhookEndpoint, *, now: datetime.datetime) -> list[str]:
    """The secrets that sign now: the current one, and during a rotation's overlap the previous one too."""
    found = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        found.append(endpoint.previous_secret)
    return found


def sign(*, secrets: list[str], webhook_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header: ``v1,<signature>`` per secret, space-separated."""
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)
    return " ".join(Webhook(secret).sign(webhook_id, moment, body) for secret in secrets)


# --- Managing endpoints (the admin and the API call these) ------------------------------------


def _events_problems(events) -> list[str]:
    if not isinstance(events, list | tuple) or not all(isinstance(e, str) for e in events):
        return [_("Give a list of event names.")]
    if not events:
        return [_("Choose at least one event.")]
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        return [_("Unknown event: %(names)s. Known events: %(known)s.")
                % {"names": ", ".join(unknown), "known": ", ".join(EVENTS)}]
    return []


def webhook_endpoint_check(*, url: str | None = None, events=None) -> dict[str, list[str]]:
    errors = {}
    if url is not None:
        problems = webhook_url_problems(url)
        if problems:
            errors["url"] = problems
    if events is not None:
        problems = _events_problems(events)
        if problems:
            errors["events"] = problems
    return errors


_ENDPOINT_FIELDS = ("url", "events", "description", "admin_email", "is_active")


def _ordered_events(events) -> list[str]:
    return [e for e in EVENTS if e in set(events)]


@transaction.atomic
def webhook_endpoint_create(*, url: str, events, by=None, description: str = "", admin_email: str = "",
                            is_active: bool = True) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint; returns it and its secret (shown once: keep it).
    ``ValidationError`` naming the field: an unsafe URL, unknown events."""
    errors = webhook_endpoint_check(url=url, events=events)
    endpoint = WebhookEndpoint(
        url=url, events=_ordered_events(events) if not errors.get("events") else [], description=description,
        admin_email=admin_email or (getattr(by, "email", "") or ""), is_active=is_active,
        created_by=by if getattr(by, "pk", None) else None, secret=new_secret(),
    )
    try:
        endpoint.full_clean(exclude=["events", "secret"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            if field not in errors:
                errors[field] = messages
    if errors:
        raise ValidationError(errors)
    endpoint.save()
    return endpoint, endpoint.secret


def _lock(endpoint: WebhookEndpoint, expected_version: int | None) -> WebhookEndpoint:
    """The endpoint, locked for this transaction; ``VersionConflict`` when it
    moved past ``expected_version``."""
    from .services import VersionConflict

    current = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if expected_version is not None and current.version != expected_version:
        raise VersionConflict(current)
    return current


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, by=None, expected_version: int | None = None,
                            **data) -> WebhookEndpoint:
    """Change an endpoint's URL, events, description, e-mail or active flag.
    Turning a disabled endpoint back on clears why it was disabled, and its
    waiting deliveries go out again, oldest first."""
    unknown = set(data) - set(_ENDPOINT_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be set.")] for name in sorted(unknown)})
    endpoint = _lock(endpoint, expected_version)
    new_url = "url" in data and data["url"] != endpoint.url
    errors = webhook_endpoint_check(url=data["url"] if new_url else None, events=data.get("events"))
    if errors:
        raise ValidationError(errors)
    if new_url:
        # A new URL: messages waiting for the old one get a whole retry period again.
        _queue(endpoint.pk).update(first_attempt_at=None)
        endpoint.failing_since = None
    reactivated = data.get("is_active") is True and not endpoint.is_active
    for name, value in data.items():
        setattr(endpoint, name, _ordered_events(value) if name == "events" else value)
    if reactivated:
        endpoint.disabled_reason = ""
        endpoint.disabled_at = None
        endpoint.failing_since = None
    elif data.get("is_active") is False and endpoint.disabled_at is None:
        endpoint.disabled_at = timezone.now()
    endpoint.full_clean(exclude=["events", "secret"])
    endpoint.version += 1
    endpoint.save()
    if reactivated:
        # The message it gave up on (what got the endpoint disabled) goes out again first, with a new retry
        # period, then the others kept waiting, oldest first.
        WebhookDelivery.objects.filter(endpoint=endpoint, status=Status.GAVE_UP).update(
            status=Status.PENDING, first_attempt_at=None, next_attempt_at=timezone.now())
        webhook_wake()
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, expected_version: int | None = None) -> None:
    """Remove an endpoint and its delivery log (what it had not received is not sent)."""
    _lock(endpoint, expected_version).delete()


@transaction.atomic
def webhook_secret_rotate(*, endpoint: WebhookEndpoint, now: datetime.datetime | None = None,
                          expected_version: int | None = None) -> str:
    """A new secret (returned: shown once). The previous one keeps signing
    beside it for ``RCF_WEBHOOK_ROTATION_OVERLAP_HOURS``, so a receiver can
    switch to the new one without rejecting a message meanwhile."""
    now = now or timezone.now()
    endpoint = _lock(endpoint, expected_version)
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        raise ValidationError(
            _("The secret was rotated recently and the previous one still signs until %(until)s: rotate again "
              "after that (rotating now would stop the original secret at once, before receivers switch).")
            % {"until": _utc(endpoint.previous_secret_expires_at)})
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + datetime.timedelta(hours=settings.RCF_WEBHOOK_ROTATION_OVERLAP_HOURS)
    endpoint.secret = new_secret()
    endpoint.version += 1
    endpoint.save(update_fields=["previous_secret", "previous_secret_expires_at", "secret", "version",
                                 "updated_at"])
    return endpoint.secret


@transaction.atomic
def webhook_redeliver(*, delivery: WebhookDelivery, now: datetime.datetime | None = None) -> WebhookDelivery:
    """Send a delivery again (same ``webhook-id``, so a receiver that has it
    already can tell), as soon as a worker is free and before anything newer
    for its endpoint. A delivery still waiting is simply made due now."""
    now = now or timezone.now()
    delivery = WebhookDelivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
    if not delivery.endpoint.is_active:
        raise ValidationError(_("The endpoint is disabled: turn it back on first."))
    if delivery.status in (Status.DELIVERED, Status.GAVE_UP):
        delivery.first_attempt_at = None  # a new retry period
        delivery.delivered_at = None
    delivery.status = Status.PENDING if delivery.status != Status.FAILED else Status.FAILED
    delivery.next_attempt_at = now
    delivery.save(update_fields=["status", "next_attempt_at", "first_attempt_at", "delivered_at"])
    webhook_wake()
    return delivery


# --- Delivering ----------------------------------------------------------------------------


def _backoff(attempts: int) -> datetime.timedelta:
    """30 s after the first failure, doubling, at most two hours apart."""
    return datetime.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 2 * 3600))


def _lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.RCF_OUTBOX_LEASE_SECONDS)


def _queue(endpoint_id: int):
    return WebhookDelivery.objects.filter(endpoint_id=endpoint_id, status__in=[Status.PENDING, Status.FAILED])


def _claim_endpoint(*, now: datetime.datetime, skip: set[int]) -> WebhookEndpoint | None:
    """Claim an active endpoint with something due and no live claim on it
    (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, then a conditional
    UPDATE that only one worker can win)."""
    due = WebhookDelivery.objects.filter(endpoint_id=OuterRef("pk"), status__in=[Status.PENDING, Status.FAILED],
                                         next_attempt_at__lte=now)
    candidates = (
        WebhookEndpoint.objects.filter(is_active=True)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .filter(Exists(due)).exclude(pk__in=skip).order_by("id")
    )
    for _attempt in range(5):
        with transaction.atomic():
            rows = candidates.select_for_update(skip_locked=True) \
                if connection.features.has_select_for_update_skip_locked else candidates
            endpoint = rows.first()
            if endpoint is None:
                return None
            claimed = WebhookEndpoint.objects.filter(pk=endpoint.pk, locked_until=endpoint.locked_until).update(
                locked_until=now + _lease())
        if claimed:
            endpoint.refresh_from_db()
            return endpoint
        skip = {*skip, endpoint.pk}
    return None


def _post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    """POST ``body`` to ``url``, connecting to an address that passed the
    safety checks (never resolving the name a second time). Returns the status
    and the start of the answer. Redirects are not followed.

    ``timeout`` bounds the whole attempt (connecting, TLS, sending, the answer),
    not each read: a receiver dribbling its answer a byte at a time is cut off
    when the time is up (a watchdog shuts the socket down), so an attempt never
    outlives the endpoint's claim."""
    parts, scheme, host, port, addresses = _destination(url)
    # A path or query that is not ASCII (an IRI) is sent percent-encoded, as a browser would.
    path = iri_to_uri((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        opened: list[socket.socket] = []
        timed_out = threading.Event()

        def pinned(target, connect_timeout=None, source_address=None, _address=address, _opened=opened):
            sock = socket.create_connection((_address, target[1]), max(deadline - time.monotonic(), 0.001),
                                            source_address)
            _opened.append(sock)
            return sock

        def cut_off(_opened=opened, _timed_out=timed_out):
            _timed_out.set()
            for sock in _opened:
                try:
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)  # wakes a blocked read in the other thread
                except OSError:
                    pass

        if scheme == "https":
            conn = http.client.HTTPSConnection(host, port, timeout=remaining, context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(host, port, timeout=remaining)
        conn._create_connection = pinned  # the TLS check and the Host header still use the URL's host name
        watchdog = threading.Timer(remaining, cut_off)
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            excerpt = response.read(_RESPONSE_EXCERPT).decode("utf-8", "replace")
            if timed_out.is_set():
                raise TimeoutError(f"no complete answer within {timeout:g} s")
            return response.status, excerpt
        except (OSError, http.client.HTTPException) as exc:
            if timed_out.is_set():
                raise TimeoutError(f"no complete answer within {timeout:g} s") from exc
            if opened:
                raise  # connected, then the exchange failed: not a reason to try the next address
            last_error = exc  # not connected (refused, unreachable, timed out): the next address
        finally:
            watchdog.cancel()
            conn.close()
    if last_error is not None:
        raise last_error
    raise TimeoutError(f"no address answered within {timeout:g} s") if addresses else OSError("no address")


class ClaimLost(Exception):
    """The endpoint's claim ran out and another worker may hold it now: write nothing more."""


@transaction.atomic
def _record_attempt(delivery: WebhookDelivery, endpoint: WebhookEndpoint, *, now: datetime.datetime,
                    code: int | None, error: str, duration_ms: int) -> bool:
    """Write the attempt's outcome, only while this worker still holds the
    endpoint's claim (``endpoint.locked_until`` as it claimed or renewed it);
    ``ClaimLost`` otherwise, so a worker whose claim lapsed never overwrites
    what the next holder wrote."""
    held = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint.pk, locked_until=endpoint.locked_until)
    if endpoint.locked_until is None or not held.exists():
        raise ClaimLost(endpoint.pk)
    delivered = code is not None and 200 <= code < 300
    first = delivery.first_attempt_at or now
    values = {"attempts": delivery.attempts + 1, "first_attempt_at": first, "last_attempt_at": now,
              "response_code": code, "duration_ms": duration_ms, "last_error": error[:2000]}
    if delivered:
        values.update(status=Status.DELIVERED, delivered_at=now, last_error="")
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**values)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return True
    deadline = first + datetime.timedelta(hours=settings.RCF_WEBHOOK_RETRY_HOURS)
    if now >= deadline:
        values.update(status=Status.GAVE_UP)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**values)
        _disable(endpoint, now=now, error=values["last_error"], since=first)
        return False
    values.update(status=Status.FAILED, next_attempt_at=min(now + _backoff(values["attempts"]), deadline))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**values)
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=first)
    return False


def _attempt(delivery: WebhookDelivery, endpoint: WebhookEndpoint, *, now: datetime.datetime) -> bool:
    started = time.monotonic()
    code, error = None, ""
    try:
        body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"))
        timestamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": delivery.webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secrets=signing_secrets(endpoint, now=now), webhook_id=delivery.webhook_id,
                                      timestamp=timestamp, body=body),
        }
        code, excerpt = _post(endpoint.url, body=body.encode(), headers=headers,
                              timeout=settings.RCF_WEBHOOK_TIMEOUT_SECONDS)
        if 300 <= code < 400:
            error = f"HTTP {code}: redirects are not followed; give the final URL."
        elif not 200 <= code < 300:
            error = f"HTTP {code}: {excerpt}".strip()
    except UnsafeDestination as exc:
        error = str(exc)
    except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, TLS, a broken answer
        error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # anything else (a URL http.client refuses…): a failed attempt, never a crash
        logger.exception("Webhook %s to endpoint %s: unexpected error", delivery.webhook_id, endpoint.pk)
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    if error:
        logger.warning("Webhook %s to %s (attempt %d) failed: %s", delivery.webhook_id, redacted_url(endpoint.url),
                       delivery.attempts + 1, error)
    return _record_attempt(delivery, endpoint, now=now, code=code, error=error, duration_ms=duration_ms)


def _disabled_reason(*, now: datetime.datetime, since: datetime.datetime, error: str) -> str:
    """Why an endpoint was disabled, in the active language."""
    return _("Disabled on %(now)s: deliveries failed for %(hours)s hours (since %(since)s). Last error: "
             "%(error)s") % {"now": _utc(now), "hours": f"{settings.RCF_WEBHOOK_RETRY_HOURS:g}",
                            "since": _utc(since), "error": error}


def _disable(endpoint: WebhookEndpoint, *, now: datetime.datetime, error: str, since: datetime.datetime) -> None:
    with translation.override(settings.LANGUAGE_CODE):  # kept in the site's language, as other records are
        reason = _disabled_reason(now=now, since=since, error=error)
    disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False, disabled_reason=reason, disabled_at=now, version=F("version") + 1)
    if disabled:
        logger.error("Webhook endpoint %s (%s) disabled: %s", endpoint.pk, redacted_url(endpoint.url), reason)
        # The e-mail goes through the outbox, in this transaction: retried until the mail server takes it.
        outbox_enqueue(topic=DISABLED_TOPIC, payload={"endpoint": endpoint.pk, "now": now.isoformat(),
                                                      "since": since.isoformat(), "error": error})


def _recipient(endpoint: WebhookEndpoint) -> tuple[str, str]:
    """Who is told that ``endpoint`` was disabled, and in which language (their POC's, else the site's)."""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ObjectDoesNotExist

    creator = endpoint.created_by if endpoint.created_by_id else None
    address = endpoint.admin_email or (creator.email if creator is not None else "")
    user = creator if creator is not None and (not endpoint.admin_email
                                              or creator.email.lower() == endpoint.admin_email.lower()) else None
    if user is None and address:
        user = get_user_model().objects.filter(email__iexact=address).order_by("id").first()
    language = settings.LANGUAGE_CODE
    try:
        poc = user.point_of_contact if user is not None else None
    except (ObjectDoesNotExist, AttributeError):
        poc = None
    if poc is not None and getattr(poc, "preferred_language", ""):
        language = poc.preferred_language
    return address, language


def _tell_administrator(payload: dict) -> None:
    """The outbox handler of DISABLED_TOPIC: e-mail the endpoint's administrator (or the site's ADMINS)
    that it was disabled. A mail server that refuses raises: the outbox tries again later."""
    from django.core.mail import mail_admins, send_mail
    from django.urls import reverse

    from .marking import marked_email_body

    endpoint = WebhookEndpoint.objects.filter(pk=payload["endpoint"]).select_related("created_by").first()
    if endpoint is None:
        return  # deleted since: nobody to tell about it
    recipient, language = _recipient(endpoint)
    link = settings.SITE_URL.rstrip("/") + reverse("admin:rcf_webhookendpoint_change", args=[endpoint.pk])
    url = redacted_url(endpoint.url)
    with translation.override(language):
        reason = _disabled_reason(now=datetime.datetime.fromisoformat(payload["now"]),
                                  since=datetime.datetime.fromisoformat(payload["since"]), error=payload["error"])
        subject = _("[RCF Tracker] Webhook endpoint disabled: %(url)s") % {"url": url}
        body = marked_email_body("\n".join([
            _("The webhook endpoint %(url)s has been disabled.") % {"url": url}, "", reason, "",
            _("Its undelivered messages are kept; events that happen while it is disabled are not queued for it. "
              "Once the receiver works again, turn the endpoint back on: the kept messages are then sent, oldest "
              "first."), link,
        ]))
    if recipient:
        send_mail(subject, body, None, [recipient])
    else:
        mail_admins(subject, body)


def _send_queue(endpoint: WebhookEndpoint, *, now: datetime.datetime | None, until: float, counts: dict) -> None:
    """Send ``endpoint``'s due deliveries oldest first; stop at the first failure (order)."""
    while time.monotonic() < until:
        moment = now or timezone.now()  # each attempt signed with its own time
        head = _queue(endpoint.pk).order_by("id").first()
        if head is None or head.next_attempt_at > moment:
            return
        if _attempt(head, endpoint, now=moment):
            counts["delivered"] += 1
        else:
            counts["failed"] += 1
            return
        # Renew the claim before the next attempt (stop if it lapsed: another worker has the queue now).
        renewed = (now or timezone.now()) + _lease()
        if not WebhookEndpoint.objects.filter(pk=endpoint.pk, locked_until=endpoint.locked_until).update(
                locked_until=renewed):
            return
        endpoint.locked_until = renewed
        endpoint.refresh_from_db(fields=["is_active", "secret", "previous_secret", "previous_secret_expires_at",
                                         "url"])
        if not endpoint.is_active:
            return


def webhooks_deliver_due(*, now: datetime.datetime | None = None, time_budget: float | None = None) -> dict:
    """Send what is due, endpoint by endpoint, each endpoint's oldest first,
    for at most ``time_budget`` seconds (default: the outbox drain's). An
    endpoint whose sending fails in any unforeseen way is logged and skipped:
    it never stops the others. ``now`` (tests) fixes the clock for the run."""
    budget = settings.RCF_OUTBOX_DRAIN_BUDGET_SECONDS if time_budget is None else time_budget
    until = time.monotonic() + budget
    counts = {"delivered": 0, "failed": 0, "endpoints": 0}
    seen: set[int] = set()
    while time.monotonic() < until:
        moment = now or timezone.now()
        endpoint = _claim_endpoint(now=moment, skip=seen)
        if endpoint is None:
            break
        seen.add(endpoint.pk)
        counts["endpoints"] += 1
        try:
            _send_queue(endpoint, now=now, until=until, counts=counts)
        except ClaimLost:
            logger.warning("Webhook endpoint %s: the claim ran out during an attempt; its outcome is not "
                           "recorded (the next holder sends the message again)", endpoint.pk)
        except Exception:  # one endpoint's trouble never stops the others
            logger.exception("Webhook endpoint %s: sending its queue failed", endpoint.pk)
            counts["failed"] += 1
        finally:
            WebhookEndpoint.objects.filter(pk=endpoint.pk, locked_until=endpoint.locked_until).update(
                locked_until=None)
    return counts


def webhooks_purge(*, now: datetime.datetime | None = None) -> int:
    """Remove from the log the messages delivered, or given up on, more than
    ``RCF_WEBHOOK_KEEP_DAYS`` ago (beat runs it, not every delivery run).
    A message given up on by an endpoint that is still disabled stays: it is
    sent when the endpoint is turned back on. Returns the number removed."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.RCF_WEBHOOK_KEEP_DAYS)
    # "Once" markers (action.overdue) stay, or an action overdue for long would be announced again.
    delivered = WebhookDelivery.objects.filter(status=Status.DELIVERED, delivered_at__lt=cutoff, dedupe_key="")
    gave_up = WebhookDelivery.objects.filter(status=Status.GAVE_UP, last_attempt_at__lt=cutoff, dedupe_key="",
                                             endpoint__is_active=True)
    return delivered.delete()[0] + gave_up.delete()[0]


def _handle_wake(payload: dict) -> None:
    """The outbox handler of WEBHOOK_TOPIC (run by rcf.tasks.outbox_drain): hand the sending to the worker
    pool, so the drain's other messages never wait on a receiver."""
    from .tasks import webhooks_deliver

    webhooks_deliver.delay()


outbox_register(topic=WEBHOOK_TOPIC, handler=_handle_wake)
outbox_register(topic=DISABLED_TOPIC, handler=_tell_administrator)

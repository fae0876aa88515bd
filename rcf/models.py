"""The framework's own taxonomy (priority areas, partner countries) and the
base every record that staff or sync clients write is built on."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class LiveQuerySet(models.QuerySet):
    def live(self):
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)


class LiveManager(models.Manager.from_queryset(LiveQuerySet)):
    """Soft-deleted records are hidden from every normal query."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class TrackedModel(models.Model):
    """A record users and sync clients write.

    * ``version`` starts at 1 and grows by one on every change; it is the
      optimistic-locking token (ETag, the edit form's hidden field).
    * Nothing is ever hard-deleted by users: ``deleted_at`` marks a soft
      delete, so sync clients can be told about it and an administrator can
      restore it.
    """

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, editable=False)
    # Stamped by a database trigger on every insert and update (rcf.sync):
    # the writing transaction's id on PostgreSQL, a write counter on SQLite.
    # Sync clients page through changes in (sync_txid, id) order.
    sync_txid = models.BigIntegerField(default=0, editable=False)

    objects = LiveManager()
    all_objects = LiveQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # A service that has already claimed the next version with a
        # conditional UPDATE (rcf.services.claim_version) sets the flag so the
        # version is not bumped twice.
        if not self._state.adding and not getattr(self, "_version_claimed", False):
            self.version += 1
        self._version_claimed = False
        super().save(*args, **kwargs)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class SyncEpoch(models.Model):
    """One row: which database the ``sync_txid`` stamps belong to (see
    ``rcf.sync``). When the database turns up in another PostgreSQL cluster
    or as another database (a restore), the epoch number grows, sync cursors
    of the earlier epoch answer 410, and ``txid_offset`` keeps new stamps
    above every restored one. Maintained by the database's own functions;
    never edited by hand."""

    epoch = models.PositiveIntegerField(_("epoch"), default=1)
    # pg_control_system().system_identifier and the database's OID; empty on
    # SQLite, whose file carries its own write counter wherever it is copied.
    system_identifier = models.BigIntegerField(_("system identifier"), null=True, blank=True)
    database_oid = models.BigIntegerField(_("database OID"), null=True, blank=True)
    txid_offset = models.BigIntegerField(_("transaction id offset"), default=0)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sync epoch")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="sync_epoch_single_row"),
            models.CheckConstraint(condition=Q(txid_offset__gte=0), name="sync_epoch_offset_not_negative"),
        ]

    def __str__(self):
        return str(self.epoch)


class PriorityArea(models.Model):
    """One of the six priority areas named by the framework (seeded, fixed)."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_ko = models.CharField(_("Korean name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("priority area")
        verbose_name_plural = _("priority areas")

    def __str__(self):
        return self.localized_name

    @property
    def localized_name(self) -> str:
        from django.utils.translation import get_language

        if (get_language() or "").startswith("ko") and self.name_ko:
            return self.name_ko
        return self.name


class CountryGroup(models.TextChoices):
    ASEAN = "asean", _("ASEAN")
    PACIFIC_ISLANDS = "pacific_islands", _("Pacific Island countries")
    LIKE_MINDED = "like_minded", _("Like-minded partners")
    OTHER = "other", _("Other")


# The two groups the framework asks to focus on.
FOCUS_GROUPS = (CountryGroup.ASEAN, CountryGroup.PACIFIC_ISLANDS)


class PartnerCountry(models.Model):
    """A partner country (ISO 3166-1). The grouping is editable data, not code."""

    iso2 = models.CharField(_("ISO alpha-2 code"), max_length=2, unique=True)
    iso3 = models.CharField(_("ISO alpha-3 code"), max_length=3, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_ko = models.CharField(_("Korean name"), max_length=100, blank=True)
    group = models.CharField(_("group"), max_length=20, choices=CountryGroup.choices, db_index=True)
    member_since = models.DateField(
        _("member since"),
        null=True,
        blank=True,
        help_text=_("Date the country joined its group, where that matters (e.g. ASEAN)."),
    )

    class Meta:
        ordering = ["group", "name"]
        verbose_name = _("partner country")
        verbose_name_plural = _("partner countries")
        constraints = [
            models.CheckConstraint(
                condition=Q(iso2__regex=r"^[A-Z]{2}$"), name="country_iso2_uppercase_alpha2"
            ),
            models.CheckConstraint(
                condition=Q(iso3__regex=r"^[A-Z]{3}$"), name="country_iso3_uppercase_alpha3"
            ),
            models.CheckConstraint(
                condition=Q(group__in=CountryGroup.values), name="country_group_valid"
            ),
        ]

    def __str__(self):
        return self.localized_name

    @property
    def localized_name(self) -> str:
        from django.utils.translation import get_language

        if (get_language() or "").startswith("ko") and self.name_ko:
            return self.name_ko
        return self.name

    def is_member_on(self, day) -> bool:
        return self.member_since is None or self.member_since <= day


class Side(models.TextChoices):
    """The two sides of the alliance, each naming its own points of contact."""

    US = "us", _("U.S.")
    ROK = "rok", _("ROK")


__all__ = [
    "CountryGroup",
    "FOCUS_GROUPS",
    "LiveManager",
    "LiveQuerySet",
    "PartnerCountry",
    "PriorityArea",
    "Side",
    "TrackedModel",
]


class SyncClock(models.Model):
    """One row: the write counter that stamps ``sync_txid`` on SQLite, where
    writers are serialised and so commit in the order they write."""

    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "sync clock"

    def __str__(self):
        return str(self.value)


# Imported here, not at the top, so this section stays self-contained (sync API, issue 6).
from django.conf import settings  # noqa: E402


class ApiToken(models.Model):
    """A key a sync client sends as ``Authorization: Token <key>``.

    A user may hold several (one per client system), each revocable on its
    own in the admin. Only a SHA-256 digest of the key is stored: the key is
    shown once, when it is issued (``manage.py create_api_token``), so a copy
    of the database does not hand out working credentials. The keys are 256
    random bits, so a fast digest is enough (no password hashing needed).

    A read-only token can never write, whatever its user's role may do.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100, blank=True, help_text=_("Which client system uses it."))
    key_prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    key_digest = models.CharField(_("key digest"), max_length=64, unique=True, editable=False)
    read_only = models.BooleanField(
        _("read-only"), default=False, help_text=_("A read-only token can never write, whatever the user's role.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["user", "-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        label = self.name or _("token")
        return f"{label} ({self.key_prefix}…)"

    @staticmethod
    def digest(key: str) -> str:
        import hashlib

        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user, name: str = "", read_only: bool = False) -> tuple["ApiToken", str]:
        """Create a token; returns it and the key, which is not stored anywhere."""
        import secrets

        key = secrets.token_hex(32)
        token = cls.objects.create(
            user=user, name=name, read_only=read_only, key_prefix=key[:8], key_digest=cls.digest(key)
        )
        return token, key


from django.utils import timezone  # noqa: E402  (this section stays self-contained, issue 9)


class OutboxMessage(models.Model):
    """Work to do after a change, written in the change's own transaction (a
    transactional outbox, issue 9).

    A web request never talks to the broker: it records what must happen
    (``rcf.outbox.outbox_enqueue``) and commits; a worker drains the table
    (``rcf.tasks.outbox_drain``, run by beat every few seconds). A change
    that commits always leaves its row, one that rolls back never does, and
    a row survives a broker outage or a worker killed mid-run: a claimed
    row whose lease ran out is claimed again.

    States: *pending* (``done_at`` and ``locked_until`` empty), *claimed*
    (``locked_until`` set: a worker is on it until then), *done*
    (``done_at`` set; kept a few days for the record, then purged).
    """

    topic = models.CharField(_("topic"), max_length=100)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    # Rows of one topic with the same key are one piece of work while
    # pending: a second enqueue before a worker claims the first adds nothing.
    coalesce_key = models.CharField(_("coalesce key"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    available_at = models.DateTimeField(_("available at"), default=timezone.now)
    locked_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = ["available_at", "id"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            # The drain's claim query reads only the few rows not yet done.
            models.Index(
                fields=["available_at", "id"], condition=Q(done_at__isnull=True), name="outbox_undone"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "coalesce_key"],
                condition=Q(done_at__isnull=True, locked_until__isnull=True) & ~Q(coalesce_key=""),
                name="outbox_one_pending_per_key",
            ),
        ]

    def __str__(self):
        return f"{self.topic} #{self.pk}"


# --- Webhooks (issue 13; the service is rcf.webhooks) ------------------------------------


class WebhookEndpoint(models.Model):
    """A URL administrators subscribe to events of the tracker (rcf.webhooks).

    Every delivery is signed as the Standard Webhooks specification says,
    with ``secret`` (``whsec_`` + base64 of 32 random bytes, shown once, when
    the endpoint is created or the secret rotated). After a rotation the
    previous secret signs too, beside the new one, until
    ``previous_secret_expires_at``, so receivers can switch without losing a
    message. The secrets are kept as they are: signing needs them.

    An endpoint that has failed for longer than ``RCF_WEBHOOK_RETRY_HOURS``
    is disabled (``is_active`` off, ``disabled_reason`` says why) and its
    administrator e-mailed; its undelivered messages wait until it is turned
    back on.
    """

    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list, help_text=_("The event names it receives."))
    secret = models.CharField(_("secret"), max_length=100, editable=False)
    previous_secret = models.CharField(_("previous secret"), max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(_("previous secret valid until"), null=True, blank=True,
                                                      editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.TextField(_("why it was disabled"), blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)
    admin_email = models.EmailField(
        _("administrator's e-mail"), blank=True,
        help_text=_("Told when the endpoint is disabled after failing (default: whoever created it)."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # A worker sending this endpoint's queue holds it until then (one sender per
    # endpoint keeps the order; a worker that died is taken over when it runs out).
    locked_until = models.DateTimeField(_("claimed until"), null=True, blank=True, editable=False)
    # Grows by one on every change (the API's ETag and If-Match, as on the records).
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self):
        return self.url


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    FAILED = "failed", _("Failed, will retry")
    DELIVERED = "delivered", _("Delivered")
    GAVE_UP = "gave_up", _("Gave up")


class WebhookDelivery(models.Model):
    """One event for one endpoint, written in the transaction of the change
    (so a change rolled back sends nothing), and its delivery log.

    ``webhook_id`` is the message id receivers deduplicate by: the same on
    every attempt and on a redelivery."""

    endpoint = models.ForeignKey(WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE,
                                 related_name="deliveries")
    event = models.CharField(_("event"), max_length=64)
    webhook_id = models.CharField(_("webhook id"), max_length=64, unique=True)
    resource = models.CharField(_("resource"), max_length=64)
    object_id = models.CharField(_("record id"), max_length=64)
    payload = models.JSONField(_("payload"))
    # "action.overdue" of one action and due date goes out once per endpoint.
    dedupe_key = models.CharField(max_length=200, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=WebhookDeliveryStatus.choices,
                              default=WebhookDeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    first_attempt_at = models.DateTimeField(_("first attempt at"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            # Each endpoint's queue: its oldest delivery not yet done.
            models.Index(fields=["endpoint", "id"], condition=Q(status__in=["pending", "failed"]),
                         name="webhook_delivery_queue"),
            # The purge of old messages (rcf.webhooks.webhooks_purge).
            models.Index(fields=["delivered_at"], condition=Q(status="delivered"), name="webhook_delivery_purge"),
            models.Index(fields=["last_attempt_at"], condition=Q(status="gave_up"),
                         name="webhook_delivery_purge_gave_up"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event", "dedupe_key"], condition=~Q(dedupe_key=""),
                                    name="webhook_delivery_once"),
            models.CheckConstraint(condition=Q(status__in=WebhookDeliveryStatus.values),
                                   name="webhook_delivery_status_valid"),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint_id} ({self.webhook_id})"


class ImportRunStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for the worker")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    APPLYING = "applying", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


class ImportRun(models.Model):
    """One spreadsheet import from a page (rcf.import_jobs): the dry run, then
    on request the import, each run by a Celery task in the background.

    The uploaded file waits in ``RCF_IMPORT_DIR`` under ``stored_name`` (random);
    ``result`` is the last run's report (counts, the first rows' plans, the
    errors). Progress while a run's transaction is open is not in this row (it
    would be invisible until the commit) but in a file beside the upload."""

    kind = models.CharField(_("kind"), max_length=20)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(_("file name"), max_length=200)
    language = models.CharField(_("language"), max_length=10, blank=True,
                                help_text=_("The uploader's: the run's messages are in it."))
    stored_name = models.CharField(_("stored file"), max_length=64, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=ImportRunStatus.choices,
                              default=ImportRunStatus.QUEUED)
    apply_requested_at = models.DateTimeField(_("import requested at"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    rows_total = models.PositiveIntegerField(_("rows in the file"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        indexes = [models.Index(fields=["created_by", "kind", "-created_at"], name="import_run_mine")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ImportRunStatus.values), name="import_run_status_valid"),
        ]

    def __str__(self):
        return f"{self.kind} import {self.pk} ({self.status})"


class ExportRunStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for the worker")
    RUNNING = "running", _("Being made")
    DONE = "done", _("Ready to download")
    FAILED = "failed", _("Failed")


class ExportRun(models.Model):
    """One export made in the background (rcf.export_jobs, issue 14): a large
    CSV or XLSX, or the SCM report's PDF. ``params`` are what the worker needs
    to make it again (the page's filters, a year); the finished file waits in
    ``RCF_EXPORT_DIR`` under ``stored_name`` (random) for its owner only."""

    kind = models.CharField(_("kind"), max_length=30)
    fmt = models.CharField(_("format"), max_length=10)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   on_delete=models.CASCADE, related_name="+")
    language = models.CharField(_("language"), max_length=10, blank=True,
                                help_text=_("The requester's: the file and the e-mail are in it."))
    file_name = models.CharField(_("file name"), max_length=200)
    stored_name = models.CharField(_("stored file"), max_length=64, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=ExportRunStatus.choices,
                              default=ExportRunStatus.QUEUED)
    stage = models.CharField(_("stage"), max_length=20, blank=True)
    rows_total = models.PositiveIntegerField(_("rows in all"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    seen_at = models.DateTimeField(_("last seen on its page"), null=True, blank=True)
    mailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("export run")
        verbose_name_plural = _("export runs")
        indexes = [models.Index(fields=["created_by", "-created_at"], name="export_run_mine")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ExportRunStatus.values), name="export_run_status_valid"),
        ]

    def __str__(self):
        return f"{self.kind} export {self.pk} ({self.status})"

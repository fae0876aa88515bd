"""SCM cycles: the annual Security Consultative Meeting each readiness year
is measured against. The date is stored per year, never assumed."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rcf.models import TrackedModel
from rcf.validators import date_bounds_q, date_in_bounds, year_bounds_q, year_validators
from rcf.validators import no_control_characters as plain_text
from rcf.validators import no_control_characters_multiline as multiline_text


class SCMCycle(TrackedModel):
    number = models.PositiveSmallIntegerField(_("SCM number"))
    year = models.PositiveSmallIntegerField(_("year"), validators=year_validators())
    meeting_date = models.DateField(_("meeting date"), validators=[date_in_bounds])
    location = models.CharField(_("location"), max_length=200, blank=True, validators=[plain_text])
    readiness_deadline = models.DateField(
        _("readiness deadline"),
        null=True,
        blank=True,
        help_text=_("Leave empty for the day before the meeting."),
        validators=[date_in_bounds],
    )
    notes = models.TextField(_("notes"), blank=True, validators=[multiline_text])

    history = HistoricalRecords()

    class Meta:
        ordering = ["year"]
        indexes = [models.Index(fields=["sync_txid", "id"], name="scmcycle_sync")]
        verbose_name = _("SCM cycle")
        verbose_name_plural = _("SCM cycles")
        constraints = [
            models.UniqueConstraint(
                fields=["number"],
                condition=Q(deleted_at__isnull=True),
                name="scm_unique_live_number",
                violation_error_message=_("An SCM with this number is already recorded."),
            ),
            models.UniqueConstraint(
                fields=["year"],
                condition=Q(deleted_at__isnull=True),
                name="scm_unique_live_year",
                violation_error_message=_("An SCM is already recorded for this year."),
            ),
            models.CheckConstraint(
                condition=Q(year=ExtractYear("meeting_date")),
                name="scm_year_is_meeting_year",
                violation_error_message=_("The year must be the year of the meeting date."),
            ),
            models.CheckConstraint(
                condition=Q(readiness_deadline__isnull=True)
                | Q(readiness_deadline__lte=F("meeting_date")),
                name="scm_deadline_not_after_meeting",
                violation_error_message=_("The readiness deadline cannot be after the meeting."),
            ),
            # rcf.validators: the years 1950-2100 (a clear message comes from the fields' validators first).
            models.CheckConstraint(condition=date_bounds_q("meeting_date"), name="scm_meeting_date_in_bounds"),
            models.CheckConstraint(condition=date_bounds_q("readiness_deadline", nullable=True),
                                   name="scm_deadline_in_bounds"),
            models.CheckConstraint(condition=year_bounds_q("year"), name="scm_year_in_bounds"),
        ]

    def __str__(self):
        from rcf.ordinals import scm_ordinal

        return _("%(ordinal)s SCM (%(year)s)") % {"ordinal": scm_ordinal(self.number), "year": self.year}

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.meeting_date and self.year and self.meeting_date.year != self.year:
            raise ValidationError({"meeting_date": _("The meeting date must fall in the SCM's year.")})
        if self.readiness_deadline and self.meeting_date and self.readiness_deadline > self.meeting_date:
            raise ValidationError({"readiness_deadline": _("The readiness deadline cannot be after the meeting.")})


class PresentationOutcome(models.TextChoices):
    """What the ministers decided on a project presented at an SCM."""

    ENDORSED = "endorsed", _("Endorsed")
    NOTED = "noted", _("Noted")
    DEFERRED = "deferred", _("Deferred")
    DECLINED = "declined", _("Declined")


class SCMPresentation(TrackedModel):
    """A project presented (or reported on again) at one SCM, and what was
    decided there: the record the next year's work starts from. Written by
    ``scm_reports.services.presentation_record`` only, which also takes the
    lifecycle step the decision means (presented; back to prioritised after a
    deferral, to under review after a decline)."""

    scm_cycle = models.ForeignKey(SCMCycle, verbose_name=_("SCM"), on_delete=models.PROTECT,
                                  related_name="presentations")
    project = models.ForeignKey("projects.CooperativeProject", verbose_name=_("project"), on_delete=models.PROTECT,
                                related_name="scm_presentations")
    outcome = models.CharField(_("outcome"), max_length=20, choices=PresentationOutcome.choices)
    note = models.TextField(_("decision note"), blank=True, validators=[multiline_text])
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["scm_cycle__year", "id"]
        indexes = [models.Index(fields=["sync_txid", "id"], name="presentation_sync")]
        verbose_name = _("SCM presentation")
        verbose_name_plural = _("SCM presentations")
        constraints = [
            # Deleted rows (tombstones) keep theirs, so a corrected record can be entered again.
            models.UniqueConstraint(
                fields=["project", "scm_cycle"],
                condition=Q(deleted_at__isnull=True),
                name="presentation_once_per_project_and_scm",
                violation_error_message=_("This project's presentation at this SCM is already recorded."),
            ),
            models.CheckConstraint(condition=Q(outcome__in=PresentationOutcome.values),
                                   name="presentation_outcome_valid"),
        ]

    def __str__(self):
        return f"{self.scm_cycle}: {self.project} ({self.get_outcome_display()})"


class FlagKind(models.TextChoices):
    MISSED = "missed", _("Missed")
    AT_RISK = "at_risk", _("At risk")
    UNSCHEDULED = "unscheduled", _("Unscheduled")


class ReadinessFlag(models.Model):
    """A year in which the framework's goal is at risk, missed, or cannot be
    measured (no SCM recorded). Flags are resolved, never deleted: together
    they are the history of the commitment."""

    year = models.PositiveSmallIntegerField(_("year"), db_index=True)
    scm_cycle = models.ForeignKey(
        SCMCycle, verbose_name=_("SCM"), null=True, blank=True, on_delete=models.PROTECT, related_name="flags"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=FlagKind.choices)
    raised_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # What the flag says is rendered from these fields in the reader's
    # language when it is shown or e-mailed (scm_reports.flag_text), never
    # stored as a sentence.
    deadline = models.DateField(_("readiness deadline"), null=True, blank=True)
    counting_projects = models.PositiveIntegerField(
        _("ready projects waiting"), default=0,
        help_text=_("For a year with no SCM recorded: the ready projects waiting for it (kept current while open)."),
    )
    # English sentences written before issue 10; kept for the record, no longer shown or written.
    detail = models.TextField(_("detail (English text of earlier releases)"), blank=True, editable=False)
    notified_at = models.DateTimeField(
        _("lead POCs notified at"), null=True, blank=True,
        help_text=_("Set once every active lead POC has been sent the notice."),
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("readiness flag")
        verbose_name_plural = _("readiness flags")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "kind"],
                condition=Q(resolved_at__isnull=True),
                name="flag_one_open_per_year_and_kind",
                violation_error_message=_("This year already has an open flag of this kind."),
            ),
            models.CheckConstraint(condition=Q(kind__in=FlagKind.values), name="flag_kind_valid"),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("raised_at")),
                name="flag_resolved_after_raised",
            ),
        ]

    def __str__(self):
        return f"{self.year} {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class ReadinessNotice(models.Model):
    """One e-mail to one lead POC about one flag. The unique pair is what
    makes a retried or concurrent notice task send each e-mail at most once
    per attempt; every attempt is committed before the e-mail goes out, and
    all carry the same Message-ID (``message_id``), so the copy a crashed
    attempt may already have delivered is recognisable and deduplicable."""

    flag = models.ForeignKey(ReadinessFlag, on_delete=models.PROTECT, related_name="notices")
    point_of_contact = models.ForeignKey(
        "contacts.PointOfContact", on_delete=models.PROTECT, related_name="readiness_notices"
    )
    email = models.EmailField()
    # Empty until the mail server has accepted the e-mail.
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set when the mail server refused this address for good: the notice is
    # settled (no retry would help) and the refusal is kept for the record.
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # While set and in the future, one worker is sending this e-mail; a worker
    # that died leaves it to run out.
    sending_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["flag", "point_of_contact"], name="notice_once_per_flag_and_poc")
        ]

    def __str__(self):
        return f"{self.flag} → {self.email}"

    @property
    def message_id(self) -> str:
        """The same on every attempt: mail systems drop a second copy."""
        from urllib.parse import urlsplit

        from django.conf import settings

        domain = urlsplit(settings.SITE_URL).hostname or settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ")
        return f"<readiness-notice-{self.flag_id}-{self.point_of_contact_id}@{domain or 'rcf-tracker'}>"


def _new_calendar_token() -> str:
    import secrets

    return secrets.token_urlsafe(32)


class CalendarToken(models.Model):
    """A user's secret for subscribing to the SCM calendar feed. Calendar
    applications cannot sign in, so the URL itself is the credential; the
    user can rotate it, which makes the old URL answer 404."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_token")
    token = models.CharField(max_length=64, unique=True, default=_new_calendar_token)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("calendar token")

    def __str__(self):
        return f"{self.user} calendar"


class WeeklyDigest(models.Model):
    """One weekly digest e-mail to one lead POC for one week (the unique pair
    makes a second beat run, or a retry, send nothing twice)."""

    poc = models.ForeignKey(
        "contacts.PointOfContact", verbose_name=_("lead POC"), on_delete=models.CASCADE, related_name="+"
    )
    week_of = models.DateField(_("week of"), help_text=_("The Monday of the digest's week (Seoul time)."))
    email = models.EmailField(_("e-mail"))
    language = models.CharField(_("language"), max_length=10)
    item_counts = models.JSONField(_("items"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["-week_of", "poc_id"]
        verbose_name = _("weekly digest")
        verbose_name_plural = _("weekly digests")
        constraints = [models.UniqueConstraint(fields=["poc", "week_of"], name="weekly_digest_once_a_week")]

    def __str__(self):
        return f"{self.poc_id} {self.week_of}"

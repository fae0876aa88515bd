"""Cooperative projects under the framework, their lifecycle and the
coordination engagements logged against them."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from contacts.models import Organization, PointOfContact
from rcf.models import PartnerCountry, PriorityArea, TrackedModel
from rcf.validators import date_bounds_q, date_in_bounds, validate_other_participants, year_bounds_q, year_validators
from rcf.validators import no_control_characters as plain_text
from rcf.validators import no_control_characters_multiline as multiline_text


class ProjectStatus(models.TextChoices):
    CONCEPT = "concept", _("Concept")
    UNDER_REVIEW = "under_review", _("Under review")
    PRIORITIZED = "prioritized", _("Prioritised")
    READY = "ready", _("Ready")
    PRESENTED = "presented", _("Presented")
    IN_IMPLEMENTATION = "in_implementation", _("In implementation")
    COMPLETED = "completed", _("Completed")
    ON_HOLD = "on_hold", _("On hold")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Where ready_on must be set, and where it must be empty. A project on hold or
# withdrawn keeps the ready_on it had: set if it had been presented, empty if not.
STATUSES_WITH_READY_ON = (
    ProjectStatus.READY,
    ProjectStatus.PRESENTED,
    ProjectStatus.IN_IMPLEMENTATION,
    ProjectStatus.COMPLETED,
)
STATUSES_WITHOUT_READY_ON = (
    ProjectStatus.CONCEPT,
    ProjectStatus.UNDER_REVIEW,
    ProjectStatus.PRIORITIZED,
)
FINAL_STATUSES = (ProjectStatus.COMPLETED, ProjectStatus.WITHDRAWN)


class LeadSide(models.TextChoices):
    US = "us", _("U.S.")
    ROK = "rok", _("ROK")
    JOINT = "joint", _("Joint")


class Currency(models.TextChoices):
    USD = "USD", _("U.S. dollar (USD)")
    KRW = "KRW", _("Korean won (KRW)")


def _in_reader_language(english: str, korean: str) -> str:
    from django.utils.translation import get_language

    if (get_language() or "").startswith("ko"):
        return korean or english
    return english or korean


def external_id_field():
    """The identifier a sync client gives a record (rcf.api: create by
    external_id, refuse a duplicate); unique when set (external_id_unique)."""
    return models.CharField(
        _("external id"), max_length=200, blank=True, default="", db_default="", validators=[plain_text],
        help_text=_("Identifier given by a sync client; unique when set."),
    )


def external_id_unique(prefix: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["external_id"], condition=~Q(external_id=""), name=f"{prefix}_unique_external_id",
        violation_error_message=_("A record with this external id already exists."),
    )


def _by(label, name="+"):
    """created_by / updated_by: set by the services, never by a form."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=label, null=True, blank=True, editable=False,
        on_delete=models.SET_NULL, related_name=name,
    )


DERIVED_PROJECT_FIELDS = ("current_health", "current_health_on")


class CooperativeProject(TrackedModel):
    title = models.CharField(_("title"), max_length=300, validators=[plain_text])
    summary = models.TextField(_("summary"), blank=True, validators=[multiline_text])
    # Optional Korean versions; pages show the reader's language and fall back
    # to the other (localized_title, localized_summary). db_default: the column
    # is added without a table rebuild (SQLite would drop the table's triggers).
    title_ko = models.CharField(
        _("Korean title"), max_length=300, blank=True, default="", db_default="", validators=[plain_text]
    )
    summary_ko = models.TextField(
        _("Korean summary"), blank=True, default="", db_default="", validators=[multiline_text]
    )
    channel = models.CharField(
        _("government channel"),
        max_length=200,
        blank=True,
        validators=[plain_text],
        help_text=_("The government channel through which the concept was presented."),
    )
    priority_area = models.ForeignKey(
        PriorityArea,
        verbose_name=_("primary priority area"),
        on_delete=models.PROTECT,
        related_name="primary_projects",
    )
    additional_areas = models.ManyToManyField(
        PriorityArea, verbose_name=_("other priority areas"), blank=True, related_name="touching_projects"
    )
    partner_countries = models.ManyToManyField(
        PartnerCountry, verbose_name=_("partner countries"), blank=True, related_name="projects"
    )
    lead_side = models.CharField(_("lead side"), max_length=5, choices=LeadSide.choices)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ProjectStatus.choices,
        default=ProjectStatus.CONCEPT,
        editable=False,  # moves only through projects.services.project_transition
        db_index=True,
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("1 = highest, 5 = lowest; set by lead POCs when prioritising."),
    )
    us_lead_poc = models.ForeignKey(
        PointOfContact,
        verbose_name=_("U.S. lead POC"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="us_led_projects",
    )
    rok_lead_poc = models.ForeignKey(
        PointOfContact,
        verbose_name=_("ROK lead POC"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rok_led_projects",
    )
    industry_partners = models.ManyToManyField(
        Organization,
        verbose_name=_("industry partners (B2B)"),
        blank=True,
        related_name="industry_projects",
        limit_choices_to={"side": "industry"},
        help_text=_("Companies connected business-to-business through this project."),
    )
    complementary_efforts = models.TextField(
        _("complementary efforts"),
        blank=True,
        validators=[multiline_text],
        help_text=_("What like-minded countries are doing in the region that this project complements."),
    )
    complemented_partners = models.ManyToManyField(
        PartnerCountry,
        verbose_name=_("like-minded partners complemented"),
        blank=True,
        related_name="complemented_by_projects",
    )
    # The public-sector and industry resources: ResourceLine (by side, fiscal year and kind).
    target_year = models.PositiveSmallIntegerField(
        _("target SCM year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(2024), MaxValueValidator(2100)],
    )
    ready_on = models.DateField(
        _("ready on"), null=True, blank=True, editable=False, db_index=True, validators=[date_in_bounds]
    )
    start_date = models.DateField(_("start date"), null=True, blank=True, validators=[date_in_bounds])
    end_date = models.DateField(_("end date"), null=True, blank=True, validators=[date_in_bounds])
    external_id = models.CharField(
        _("external id"),
        max_length=200,
        blank=True,
        default="",
        validators=[plain_text],
        help_text=_("Identifier given by a sync client; unique when set."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # The latest live progress update's health and date (issue 14), NULL without one: kept by the progress
    # update services in the same transaction (projects.services.current_health_refresh), so the dashboard's
    # "projects in implementation" panel reads an index, not every project's updates. Never written by save().
    current_health = models.CharField(  # noqa: DJ001 - NULL with the date: no update yet (a Health value else)
        _("latest health"), max_length=10, null=True, blank=True, editable=False)
    current_health_on = models.DateField(_("latest update"), null=True, blank=True, editable=False)

    history = HistoricalRecords(
        m2m_fields=[additional_areas, partner_countries, industry_partners, complemented_partners],
        excluded_fields=list(DERIVED_PROJECT_FIELDS),
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("cooperative project")
        verbose_name_plural = _("cooperative projects")
        permissions = [
            ("prioritize_cooperativeproject", _("Can set priority and move projects to and beyond prioritised")),
            ("restore_cooperativeproject", _("Can restore deleted projects")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="project_unique_external_id",
                violation_error_message=_("A project with this external id already exists."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(start_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="project_end_not_before_start",
                violation_error_message=_("The end date cannot be before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(priority__isnull=True) | Q(priority__gte=1, priority__lte=5),
                name="project_priority_1_to_5",
                violation_error_message=_("Priority must be between 1 (highest) and 5."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=ProjectStatus.values), name="project_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(lead_side__in=LeadSide.values), name="project_lead_side_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status__in=STATUSES_WITH_READY_ON, ready_on__isnull=False)
                    | Q(status__in=STATUSES_WITHOUT_READY_ON, ready_on__isnull=True)
                    | Q(status__in=[ProjectStatus.ON_HOLD, ProjectStatus.WITHDRAWN])
                ),
                name="project_ready_on_matches_status",
                violation_error_message=_("The ready date does not match the project's status."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[ProjectStatus.PRIORITIZED, ProjectStatus.READY])
                | Q(priority__isnull=False),
                name="project_prioritized_has_priority",
                violation_error_message=_("A prioritised project needs a priority."),
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="project_version_positive"),
            # rcf.validators: the years 1950-2100 (a clear message comes from the fields' validators first).
            models.CheckConstraint(condition=date_bounds_q("start_date", nullable=True),
                                   name="project_start_date_in_bounds"),
            models.CheckConstraint(condition=date_bounds_q("end_date", nullable=True),
                                   name="project_end_date_in_bounds"),
            models.CheckConstraint(condition=date_bounds_q("ready_on", nullable=True),
                                   name="project_ready_on_in_bounds"),
        ]
        # The lifecycle rank projects.filters.SORTS orders by (concept first), for the indexes below.
        _lifecycle = models.Case(*[models.When(status=value, then=models.Value(rank))
                                   for rank, value in enumerate(ProjectStatus.values)],
                                 output_field=models.IntegerField())
        indexes = [
            models.Index(fields=["status", "priority"]),
            models.Index(fields=["sync_txid", "id"], name="project_sync"),
            # The readiness rule counts live projects by ready_on window.
            models.Index(
                fields=["ready_on"], condition=Q(deleted_at__isnull=True), name="project_live_ready_on"
            ),
            # Issue 14: the dashboard's pipeline (status, priority first, latest change first) and the
            # projects in implementation per latest health (oldest update first, then title) read in order.
            models.Index(fields=["status", "priority", "-updated_at", "id"], condition=Q(deleted_at__isnull=True),
                         name="project_live_pipeline"),
            models.Index(fields=["status", "current_health", "current_health_on", "title", "id"],
                         condition=Q(deleted_at__isnull=True), name="project_live_health"),
            # The readiness timeline's candidates: prioritised projects by priority, then title.
            models.Index(fields=["priority", "title", "id"],
                         condition=Q(deleted_at__isnull=True, status="prioritized"), name="project_live_candidates"),
            # Issue 14: the list's sorts (projects.filters.SORTS, the API's and the page's) read a page in index
            # order, each key as the ORDER BY writes it, the id last. The lifecycle rank is SORTS' CASE, written
            # the same way. "Priority, lowest first" and "Ready, newest first" sort NULLs last descending: their
            # indexes say so, which SQLite's CREATE INDEX cannot (migration 0015 makes them on PostgreSQL).
            # The status last in the lifecycle ones (after the id, so the order is the same) lets a page's ids be
            # read from the index alone. The SCM year (the readiness rule) has none; the priority area's order is
            # the joined table's, so its sort reads (area, title, id) whole, from the index, and sorts that.
            models.Index(fields=["updated_at", "id"], condition=Q(deleted_at__isnull=True),
                         name="project_live_updated"),
            models.Index(_lifecycle, F("updated_at").desc(), F("id").desc(), F("status"),
                         condition=Q(deleted_at__isnull=True), name="project_live_lifecycle"),
            models.Index(_lifecycle, F("updated_at"), F("id"), F("status"), condition=Q(deleted_at__isnull=True),
                         name="project_live_lifecycle_asc"),
            models.Index(fields=["priority_area", "title", "id"], condition=Q(deleted_at__isnull=True),
                         name="project_live_area_title"),
            models.Index(fields=["priority", "id"], condition=Q(deleted_at__isnull=True), name="project_live_priority"),
            models.Index(fields=["ready_on", "id"], condition=Q(deleted_at__isnull=True), name="project_live_ready_id"),
        ]

    def __str__(self):
        return self.localized_title

    def save(self, *args, **kwargs):
        # current_health and current_health_on belong to the progress update services: a project saved from
        # an object read before an update was posted must not write its stale copy back.
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            deferred = self.get_deferred_fields()  # as Django does: only what was loaded
            kwargs["update_fields"] = [f.attname for f in self._meta.concrete_fields
                                       if not f.primary_key and f.name not in DERIVED_PROJECT_FIELDS
                                       and f.attname not in deferred]
        super().save(*args, **kwargs)

    @property
    def localized_title(self) -> str:
        """The title in the reader's language (``get_language()``), else the other one."""
        return _in_reader_language(self.title, self.title_ko)

    @property
    def localized_summary(self) -> str:
        return _in_reader_language(self.summary, self.summary_ko)

    def clean(self):
        from django.core.exceptions import ValidationError

        errors = {}
        for field, side, message in (
            ("us_lead_poc", "us", _("The U.S. lead POC must be a point of contact of the U.S. side.")),
            ("rok_lead_poc", "rok", _("The ROK lead POC must be a point of contact of the ROK side.")),
        ):
            poc = getattr(self, field) if getattr(self, f"{field}_id") else None
            if poc is None:
                continue
            if poc.side != side:
                errors[field] = message
            elif poc.deleted_at is not None or not poc.active:
                errors[field] = _("%(name)s is no longer an active point of contact.") % {"name": poc.full_name}
        if errors:
            raise ValidationError(errors)


class ProjectTransition(models.Model):
    """One step of a project's lifecycle: who moved it, when, from, to, and why."""

    project = models.ForeignKey(
        CooperativeProject, on_delete=models.CASCADE, related_name="transitions"
    )
    from_status = models.CharField(_("from"), max_length=20, choices=ProjectStatus.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=ProjectStatus.choices)
    at = models.DateTimeField(_("at"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True, validators=[multiline_text])
    ready_on = models.DateField(_("ready on"), null=True, blank=True, validators=[date_in_bounds])

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("lifecycle step")
        verbose_name_plural = _("lifecycle steps")
        indexes = [models.Index(fields=["project", "-at"])]
        constraints = [
            models.CheckConstraint(condition=date_bounds_q("ready_on", nullable=True),
                                   name="transition_ready_on_in_bounds"),
        ]

    def __str__(self):
        return f"{self.project_id}: {self.from_status} → {self.to_status}"


class EngagementKind(models.TextChoices):
    MEETING = "meeting", _("Meeting")
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    WORKSHOP = "workshop", _("Workshop")
    WORKING_GROUP = "working_group", _("Working group")
    B2B = "b2b", _("Business-to-business meeting")
    EXERCISE = "exercise", _("Exercise")
    OTHER = "other", _("Other")


class Engagement(TrackedModel):
    """A coordination engagement the POCs log: a meeting, call, visit, working
    group or business-to-business meeting. It may concern several projects or
    none (an engagement with a partner before any project exists)."""

    projects = models.ManyToManyField(
        CooperativeProject, verbose_name=_("projects"), blank=True, related_name="engagements"
    )
    date = models.DateField(_("date"), validators=[date_in_bounds])
    kind = models.CharField(_("kind"), max_length=20, choices=EngagementKind.choices)
    summary = models.TextField(_("summary"), validators=[multiline_text])
    location = models.CharField(_("location"), max_length=200, blank=True, validators=[plain_text])
    participants = models.ManyToManyField(
        PointOfContact, verbose_name=_("participants"), blank=True, related_name="engagements"
    )
    # People outside the POC directory (partner governments, industry):
    # [{"name": ..., "organization": ...}], checked by
    # rcf.validators-style validate_other_participants.
    other_participants = models.JSONField(
        _("other participants"), default=list, blank=True, db_default=[],
        validators=[validate_other_participants],
        help_text=_("People outside the POC directory, each with their organisation."),
    )
    industry_organizations = models.ManyToManyField(
        Organization,
        verbose_name=_("industry organisations connected"),
        blank=True,
        related_name="b2b_engagements",
        limit_choices_to={"side": "industry"},
        help_text=_("For a business-to-business meeting: the companies it connected."),
    )
    partner_countries = models.ManyToManyField(
        PartnerCountry, verbose_name=_("partner countries"), blank=True, related_name="engagements"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    external_id = external_id_field()

    history = HistoricalRecords(m2m_fields=[projects, participants, industry_organizations, partner_countries])

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["sync_txid", "id"], name="engagement_sync")]
        verbose_name = _("engagement")
        verbose_name_plural = _("engagements")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EngagementKind.values), name="engagement_kind_valid"
            ),
            models.CheckConstraint(condition=date_bounds_q("date"), name="engagement_date_in_bounds"),
            external_id_unique("engagement"),
        ]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}"


class ConcurrenceStep(models.TextChoices):
    """The joint decisions: one side proposes, the other concurs."""

    PRIORITIZED = "prioritized", _("Prioritised")
    READY = "ready", _("Ready")


class ProposingSide(models.TextChoices):
    US = "us", _("U.S.")
    ROK = "rok", _("ROK")


# The project fields whose change while a proposal is open is shown on it:
# what the other side is asked to concur with.
CONCURRENCE_WATCHED_FIELDS = ("us_lead_poc", "rok_lead_poc", "partner_countries", "summary", "summary_ko")


class Concurrence(TrackedModel):
    """A lead POC's proposal to prioritise a project or declare it ready, and
    the other side's answer (projects.services: concurrence_*). Open while
    none of concurred_at, declined_at and withdrawn_at is set."""

    project = models.ForeignKey(
        CooperativeProject, verbose_name=_("project"), on_delete=models.PROTECT, related_name="concurrences"
    )
    step = models.CharField(_("step"), max_length=20, choices=ConcurrenceStep.choices)
    from_status = models.CharField(
        _("status when proposed"), max_length=20, choices=ProjectStatus.choices, editable=False,
        help_text=_("A proposal made for a project that has since moved is stale."),
    )
    project_version = models.PositiveIntegerField(_("project version when proposed"), editable=False)
    priority = models.PositiveSmallIntegerField(
        _("proposed priority"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    ready_on = models.DateField(
        _("proposed ready date"), null=True, blank=True, validators=[date_in_bounds],
        help_text=_("A backfill date; empty: the day the other side concurs."),
    )
    side = models.CharField(_("proposing side"), max_length=3, choices=ProposingSide.choices)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), null=True, on_delete=models.SET_NULL,
        related_name="+", editable=False,
    )
    proposer_poc = models.ForeignKey(
        PointOfContact, verbose_name=_("proposing lead POC"), null=True, on_delete=models.PROTECT,
        related_name="+", editable=False,
    )
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    note = models.TextField(_("note"), blank=True, validators=[multiline_text])
    concurred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("concurred by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+", editable=False,
    )
    concurred_at = models.DateTimeField(_("concurred at"), null=True, blank=True, editable=False)
    declined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("declined by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+", editable=False,
    )
    declined_at = models.DateTimeField(_("declined at"), null=True, blank=True, editable=False)
    withdrawn_at = models.DateTimeField(
        _("withdrawn at"), null=True, blank=True, editable=False,
        help_text=_("Withdrawn by the proposing side, or closed because the project moved on."),
    )
    response_note = models.TextField(
        _("reply note"), blank=True, validators=[multiline_text],
        help_text=_("Why it was declined (required), or a note with the concurrence."),
    )
    changes = models.JSONField(
        _("changes while open"), default=list, blank=True, editable=False,
        help_text=_("Changes to the project's lead POCs, partner countries or summary made while it was open."),
    )
    reminded_at = models.DateTimeField(
        _("reminder sent at"), null=True, blank=True, editable=False,
        help_text=_("When the other side's lead POCs were reminded of it (once per proposal)."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("concurrence")
        verbose_name_plural = _("concurrences")
        indexes = [models.Index(fields=["sync_txid", "id"], name="concurrence_sync")]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "step"],
                condition=Q(concurred_at__isnull=True, declined_at__isnull=True, withdrawn_at__isnull=True,
                            deleted_at__isnull=True),
                name="concurrence_one_open_per_project_step",
                violation_error_message=_("A proposal for this step of this project is already open."),
            ),
            models.CheckConstraint(condition=Q(step__in=ConcurrenceStep.values), name="concurrence_step_valid"),
            models.CheckConstraint(condition=Q(side__in=ProposingSide.values), name="concurrence_side_valid"),
            models.CheckConstraint(
                condition=Q(priority__isnull=True) | Q(priority__gte=1, priority__lte=5),
                name="concurrence_priority_1_to_5",
            ),
            models.CheckConstraint(
                condition=~Q(step=ConcurrenceStep.PRIORITIZED) | Q(priority__isnull=False, ready_on__isnull=True),
                name="concurrence_prioritized_has_priority",
            ),
            # At most one way of closing it.
            models.CheckConstraint(
                condition=(
                    Q(concurred_at__isnull=True, declined_at__isnull=True)
                    | Q(concurred_at__isnull=True, withdrawn_at__isnull=True)
                    | Q(declined_at__isnull=True, withdrawn_at__isnull=True)
                ),
                name="concurrence_closed_once",
            ),
            models.CheckConstraint(condition=date_bounds_q("ready_on", nullable=True),
                                   name="concurrence_ready_on_in_bounds"),
            models.CheckConstraint(condition=Q(version__gte=1), name="concurrence_version_positive"),
        ]

    def __str__(self):
        return f"{self.project_id}: {self.get_step_display()} ({self.get_side_display()})"

    @property
    def is_open(self) -> bool:
        return self.concurred_at is None and self.declined_at is None and self.withdrawn_at is None

    @property
    def state(self) -> str:
        if self.concurred_at:
            return "concurred"
        if self.declined_at:
            return "declined"
        if self.withdrawn_at:
            return "withdrawn"
        return "open"

    @property
    def awaited_side(self) -> str:
        return ProposingSide.ROK if self.side == ProposingSide.US else ProposingSide.US

    def awaiting_label(self):
        return (_("Awaiting ROK concurrence") if self.awaited_side == ProposingSide.ROK
                else _("Awaiting U.S. concurrence"))

    def change_entries(self) -> list[dict]:
        """The recorded changes, with the field's label in the reader's language."""
        entries = []
        for change in self.changes or []:
            try:
                label = CooperativeProject._meta.get_field(change.get("field", "")).verbose_name
            except Exception:  # noqa: BLE001 - a field renamed since: show its stored name
                label = change.get("field", "")
            entries.append({**change, "label": label})
        return entries


# --- Implementation tracking (issue 11) -------------------------------------------------


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class ActionItem(TrackedModel):
    """Something a POC has to do: a follow-up of an engagement, a step of a
    project's implementation, or a task on its own. ``done_on`` is set
    exactly when the status is done."""

    title = models.CharField(_("title"), max_length=300, validators=[plain_text])
    description = models.TextField(_("description"), blank=True, validators=[multiline_text])
    owner = models.ForeignKey(
        PointOfContact, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="actions"
    )
    project = models.ForeignKey(
        CooperativeProject, verbose_name=_("project"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="actions",
    )
    engagement = models.ForeignKey(
        Engagement, verbose_name=_("engagement"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="follow_up_actions",
    )
    due_on = models.DateField(_("due on"), validators=[date_in_bounds])
    status = models.CharField(
        _("status"), max_length=10, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    done_on = models.DateField(_("done on"), null=True, blank=True, validators=[date_in_bounds])
    external_id = external_id_field()
    created_by = _by(_("created by"))
    updated_by = _by(_("updated by"))

    history = HistoricalRecords()

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        indexes = [
            models.Index(fields=["sync_txid", "id"], name="action_sync"),
            # "Mine, overdue first" and the reminders: an owner's open actions by due date.
            models.Index(fields=["owner", "status", "due_on"], name="action_owner_open_due"),
            models.Index(fields=["project", "status"], name="action_project_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ActionStatus.values), name="action_status_valid"),
            models.CheckConstraint(
                condition=Q(status=ActionStatus.DONE, done_on__isnull=False)
                | (~Q(status=ActionStatus.DONE) & Q(done_on__isnull=True)),
                name="action_done_on_matches_status",
                violation_error_message=_("An action has a done date exactly when it is done."),
            ),
            models.CheckConstraint(condition=date_bounds_q("due_on"), name="action_due_on_in_bounds"),
            models.CheckConstraint(condition=date_bounds_q("done_on", nullable=True),
                                   name="action_done_on_in_bounds"),
            models.CheckConstraint(condition=Q(version__gte=1), name="action_version_positive"),
            external_id_unique("action"),
        ]

    def __str__(self):
        return self.title


class ActionReminder(models.Model):
    """One reminder e-mail to one owner on one day (the unique pair is what
    makes "never twice on a day" hold, even with two job runs at once):
    which actions and milestones it listed, and whether it went out."""

    poc = models.ForeignKey(
        PointOfContact, verbose_name=_("point of contact"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    email = models.EmailField(_("e-mail"))
    action_ids = models.JSONField(_("actions"), default=list)
    milestone_ids = models.JSONField(_("milestones"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["-day", "poc_id"]
        verbose_name = _("action reminder")
        verbose_name_plural = _("action reminders")
        constraints = [
            models.UniqueConstraint(fields=["poc", "day"], name="action_reminder_once_a_day"),
        ]

    def __str__(self):
        return f"{self.poc_id} {self.day}"


class Health(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    OFF_TRACK = "off_track", _("Off track")


# Worse health is a higher rank ("health worsened" in the digest).
HEALTH_RANK = {Health.ON_TRACK: 0, Health.AT_RISK: 1, Health.OFF_TRACK: 2}


class ProgressUpdate(TrackedModel):
    """A dated report on a project in implementation: its health and what happened."""

    project = models.ForeignKey(
        CooperativeProject, verbose_name=_("project"), on_delete=models.PROTECT, related_name="progress_updates"
    )
    date = models.DateField(_("date"), validators=[date_in_bounds])
    health = models.CharField(_("health"), max_length=10, choices=Health.choices)
    narrative = models.TextField(_("narrative"), validators=[multiline_text])
    next_steps = models.TextField(_("next steps"), blank=True, validators=[multiline_text])
    external_id = external_id_field()
    created_by = _by(_("by"))
    updated_by = _by(_("updated by"))

    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        indexes = [
            models.Index(fields=["sync_txid", "id"], name="progress_sync"),
            models.Index(fields=["project", "-date", "-id"], name="progress_project_latest"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(health__in=Health.values), name="progress_health_valid"),
            models.CheckConstraint(condition=date_bounds_q("date"), name="progress_date_in_bounds"),
            models.CheckConstraint(condition=Q(version__gte=1), name="progress_version_positive"),
            external_id_unique("progress"),
        ]

    def __str__(self):
        return f"{self.date} {self.get_health_display()}"


class Milestone(TrackedModel):
    """A dated step of a project's implementation; overdue while not done after ``due_on``."""

    project = models.ForeignKey(
        CooperativeProject, verbose_name=_("project"), on_delete=models.PROTECT, related_name="milestones"
    )
    title = models.CharField(_("title"), max_length=300, validators=[plain_text])
    due_on = models.DateField(_("due on"), validators=[date_in_bounds])
    done_on = models.DateField(_("done on"), null=True, blank=True, validators=[date_in_bounds])
    external_id = external_id_field()
    created_by = _by(_("created by"))
    updated_by = _by(_("updated by"))

    history = HistoricalRecords()

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        indexes = [
            models.Index(fields=["sync_txid", "id"], name="milestone_sync"),
            models.Index(fields=["project", "due_on"], name="milestone_project_due"),
        ]
        constraints = [
            models.CheckConstraint(condition=date_bounds_q("due_on"), name="milestone_due_on_in_bounds"),
            models.CheckConstraint(condition=date_bounds_q("done_on", nullable=True),
                                   name="milestone_done_on_in_bounds"),
            models.CheckConstraint(condition=Q(version__gte=1), name="milestone_version_positive"),
            external_id_unique("milestone"),
        ]

    def __str__(self):
        return self.title


class ResourceSide(models.TextChoices):
    US = "us", _("U.S.")
    ROK = "rok", _("ROK")
    PARTNER = "partner", _("Partner")
    INDUSTRY = "industry", _("Industry")


class ResourceKind(models.TextChoices):
    PLANNED = "planned", _("Planned")
    COMMITTED = "committed", _("Committed")
    SPENT = "spent", _("Spent")


class ResourceLine(TrackedModel):
    """An amount of resources for a project: whose (side), from where
    (source, e.g. a programme), for which fiscal year, and how firm (planned,
    committed, spent). Totals never add one currency to another.

    ``side`` and ``fiscal_year`` may be empty only on the line the migration
    made from a project's former single estimate (nobody had said whose or
    which year); forms and the API require a side for every line they write."""

    project = models.ForeignKey(
        CooperativeProject, verbose_name=_("project"), on_delete=models.PROTECT, related_name="resource_lines"
    )
    side = models.CharField(_("side"), max_length=10, choices=ResourceSide.choices, blank=True)
    source = models.CharField(
        _("source"), max_length=200, blank=True, validators=[plain_text],
        help_text=_("Where the resources come from, e.g. a programme name."),
    )
    fiscal_year = models.PositiveSmallIntegerField(
        _("fiscal year"), null=True, blank=True, validators=year_validators()
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ResourceKind.choices, default=ResourceKind.PLANNED)
    # At most 9,999,999,999,999.99: 15 digits, what SQLite (the embedded
    # default, which keeps decimals as floating point) stores exactly.
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(
            Decimal("9999999999999.99"), message=_("An amount can be at most 9,999,999,999,999.99."))],
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    note = models.TextField(_("note"), blank=True, validators=[multiline_text])
    external_id = external_id_field()
    created_by = _by(_("created by"))
    updated_by = _by(_("updated by"))

    history = HistoricalRecords()

    class Meta:
        ordering = ["fiscal_year", "side", "kind", "id"]
        verbose_name = _("resource line")
        verbose_name_plural = _("resource lines")
        indexes = [
            models.Index(fields=["sync_txid", "id"], name="resource_line_sync"),
            models.Index(fields=["project", "side", "kind", "currency"], name="resource_line_totals"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(side__in=[*ResourceSide.values, ""]), name="resource_side_valid"),
            models.CheckConstraint(condition=Q(kind__in=ResourceKind.values), name="resource_kind_valid"),
            models.CheckConstraint(condition=Q(currency__in=Currency.values), name="resource_currency_valid"),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="resource_amount_not_negative",
                violation_error_message=_("An amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(fiscal_year__isnull=True) | year_bounds_q("fiscal_year"),
                name="resource_fiscal_year_in_bounds",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="resource_version_positive"),
            external_id_unique("resource_line"),
        ]

    def __str__(self):
        return f"{self.get_side_display()} {self.get_kind_display()} {self.amount} {self.currency}"


def document_upload_to(instance, filename: str) -> str:
    """Stored under a random name (the original is kept in ``original_name``):
    no user-chosen path reaches the storage."""
    import secrets

    return f"documents/{secrets.token_hex(16)}"


class Document(TrackedModel):
    """A file attached to a project or an engagement, with its handling
    marking. Served only through the permission-checked download view."""

    project = models.ForeignKey(
        CooperativeProject, verbose_name=_("project"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="documents",
    )
    engagement = models.ForeignKey(
        Engagement, verbose_name=_("engagement"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="documents",
    )
    title = models.CharField(_("title"), max_length=300, validators=[plain_text])
    file = models.FileField(_("file"), upload_to=document_upload_to, max_length=300)
    original_name = models.CharField(_("file name"), max_length=255, blank=True, validators=[plain_text])
    content_type = models.CharField(_("content type"), max_length=100, editable=False)
    size = models.PositiveBigIntegerField(_("size in bytes"), editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    # One of settings.RCF_MARKINGS (the deployment sets the list): checked by the services.
    marking = models.CharField(_("handling marking"), max_length=60, validators=[plain_text])
    external_id = external_id_field()
    uploaded_by = _by(_("uploaded by"))
    updated_by = _by(_("updated by"))

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [models.Index(fields=["sync_txid", "id"], name="document_sync")]
        constraints = [
            models.CheckConstraint(
                condition=Q(project__isnull=False, engagement__isnull=True)
                | Q(project__isnull=True, engagement__isnull=False),
                name="document_attached_to_one",
                violation_error_message=_("Attach a document to a project or to an engagement."),
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="document_version_positive"),
            external_id_unique("document"),
        ]

    def __str__(self):
        return self.title


# --- The dashboard's summary rows (issue 14) -----------------------------------------------------

NO_DAY = datetime.date(1, 1, 1)  # the sentinel "no day" (a unique key holds no NULL)


class DashboardCount(models.Model):
    """One figure of the dashboard, kept current by ``projects.counts`` in the
    transaction of every change that moves it, so the dashboard reads a few
    hundred of these rows, never the projects.

    ``metric``: ``matrix`` (key ``"<primary area id>:<status>"``), ``country``
    (active projects per partner country, key: its id), ``ready`` (live
    projects per ready day, ``day``), ``scm`` (live projects per SCM year
    they count for, key), ``res`` (resource lines: ``n`` lines and
    ``amount`` per key ``"<side>:<kind>:<currency>"``), ``health`` (projects
    in implementation per latest health, key) and ``hday`` (the same per
    latest update day, ``day``: "stale" is read by day range). ``area`` and ``year`` are the dashboard's filters a row
    counts under (0: no filter): a project counts under every area it
    touches and every year it is aimed at or counts for. ``side``: the
    projects' lead side (summed when the dashboard does not filter it)."""

    metric = models.CharField(max_length=8)
    area = models.IntegerField(default=0)
    year = models.IntegerField(default=0)
    side = models.CharField(max_length=5, default="")
    key = models.CharField(max_length=40, default="")
    day = models.DateField(default=NO_DAY)
    n = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=30, decimal_places=2, default=Decimal("0"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["metric", "area", "year", "side", "key", "day"],
                                    name="dashboardcount_key"),
            models.CheckConstraint(condition=Q(n__gte=0), name="dashboardcount_n_not_negative"),
        ]
        # Day ranges (recent updates for "stale", ready days for the timeline) without reading every day.
        indexes = [models.Index(fields=["metric", "area", "year", "day"], name="dashboardcount_day")]

    def __str__(self):
        return f"{self.metric} {self.area}/{self.year}/{self.side} {self.key} {self.day}: {self.n}"

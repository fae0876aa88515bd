"""Cooperative projects under the framework, their lifecycle and the
coordination engagements logged against them."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from contacts.models import Organization, PointOfContact
from rcf.models import PartnerCountry, PriorityArea, TrackedModel
from rcf.validators import date_bounds_q, date_in_bounds
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


class CooperativeProject(TrackedModel):
    title = models.CharField(_("title"), max_length=300, validators=[plain_text])
    summary = models.TextField(_("summary"), blank=True, validators=[multiline_text])
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
    resources_estimate = models.DecimalField(
        _("public resources estimate"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    resources_currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, blank=True
    )
    resources_note = models.TextField(
        _("resources note"), blank=True, help_text=_("Source of the public sector resources."),
        validators=[multiline_text],
    )
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

    history = HistoricalRecords(
        m2m_fields=[additional_areas, partner_countries, industry_partners, complemented_partners],
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
            models.CheckConstraint(
                condition=Q(resources_estimate__isnull=True) | Q(resources_estimate__gte=0),
                name="project_resources_not_negative",
                violation_error_message=_("The resources estimate cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(resources_estimate__isnull=True) | ~Q(resources_currency=""),
                name="project_resources_have_currency",
                violation_error_message=_("Give the currency of the resources estimate."),
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
        indexes = [
            models.Index(fields=["status", "priority"]),
            models.Index(fields=["sync_txid", "id"], name="project_sync"),
            # The readiness rule counts live projects by ready_on window.
            models.Index(
                fields=["ready_on"], condition=Q(deleted_at__isnull=True), name="project_live_ready_on"
            ),
        ]

    def __str__(self):
        return self.title

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
        if self.resources_estimate is not None and not self.resources_currency:
            errors["resources_currency"] = _("Give the currency of the resources estimate.")
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
    EXERCISE = "exercise", _("Exercise")
    OTHER = "other", _("Other")


class Engagement(TrackedModel):
    """A coordination engagement logged by the POCs against a project."""

    project = models.ForeignKey(
        CooperativeProject,
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        related_name="engagements",
    )
    date = models.DateField(_("date"), validators=[date_in_bounds])
    kind = models.CharField(_("kind"), max_length=20, choices=EngagementKind.choices)
    summary = models.TextField(_("summary"), validators=[multiline_text])
    location = models.CharField(_("location"), max_length=200, blank=True, validators=[plain_text])
    participants = models.ManyToManyField(
        PointOfContact, verbose_name=_("participants"), blank=True, related_name="engagements"
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

    history = HistoricalRecords(m2m_fields=[participants])

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
        ]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}: {self.project}"

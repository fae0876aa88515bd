"""Organisations and the points of contact (POCs) each side names to
coordinate engagements and track cooperative projects."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rcf.models import PartnerCountry, PriorityArea, Side, TrackedModel
from rcf.validators import no_control_characters as plain_text
from rcf.validators import no_control_characters_multiline as multiline_text


class OrganizationSide(models.TextChoices):
    US = "us", _("U.S. government")
    ROK = "rok", _("ROK government")
    PARTNER = "partner", _("Partner government")
    INDUSTRY = "industry", _("Industry")


class Organization(TrackedModel):
    """A ministry, command or agency, a partner government body, or a company
    (industry organisations are the business-to-business connections)."""

    name = models.CharField(_("name"), max_length=200, validators=[plain_text])
    name_ko = models.CharField(_("Korean name"), max_length=200, blank=True, validators=[plain_text])
    side = models.CharField(_("side"), max_length=10, choices=OrganizationSide.choices)
    country = models.ForeignKey(
        PartnerCountry,
        verbose_name=_("country"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organizations",
        help_text=_("For partner governments and foreign industry."),
    )
    website = models.URLField(_("website"), blank=True, validators=[plain_text])
    notes = models.TextField(_("notes"), blank=True, validators=[multiline_text])

    history = HistoricalRecords()

    class Meta:
        ordering = ["side", "name"]
        indexes = [models.Index(fields=["sync_txid", "id"], name="organization_sync")]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "side",
                condition=Q(deleted_at__isnull=True),
                name="organization_unique_live_name_per_side",
                violation_error_message=_("An organisation with this name already exists on this side."),
            ),
            models.CheckConstraint(
                condition=Q(side__in=OrganizationSide.values), name="organization_side_valid"
            ),
        ]

    def __str__(self):
        return self.name


class PreferredLanguage(models.TextChoices):
    """The languages of the site (settings.LANGUAGES) a POC can read notices in."""

    EN = "en", _("English")
    KO = "ko", _("Korean")


class PointOfContact(TrackedModel):
    """A person named by the U.S. or ROK side; lead POCs review opportunities
    and set project priorities."""

    full_name = models.CharField(_("full name"), max_length=200, validators=[plain_text])
    full_name_ko = models.CharField(_("name in Korean"), max_length=200, blank=True, validators=[plain_text])
    title = models.CharField(_("title"), max_length=200, blank=True, validators=[plain_text])
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="points_of_contact",
    )
    side = models.CharField(_("side"), max_length=3, choices=Side.choices)
    email = models.EmailField(_("e-mail"), blank=True, validators=[plain_text])
    phone = models.CharField(_("phone"), max_length=50, blank=True, validators=[plain_text])
    is_lead = models.BooleanField(
        _("lead POC"),
        default=False,
        help_text=_("Lead POCs review opportunities, prioritise actions and receive readiness notices."),
    )
    priority_areas = models.ManyToManyField(
        PriorityArea, verbose_name=_("priority areas"), blank=True, related_name="points_of_contact"
    )
    active = models.BooleanField(_("active"), default=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=PreferredLanguage.choices,
        default=PreferredLanguage.EN, db_default=PreferredLanguage.EN,
        help_text=_("The language of the e-mails this person is sent (readiness notices)."),
    )
    weekly_digest = models.BooleanField(
        _("weekly digest"), default=True, db_default=True,
        help_text=_("Lead POCs get a weekly e-mail summary; they can turn it off on their profile page."),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="point_of_contact",
    )

    history = HistoricalRecords(m2m_fields=[priority_areas])

    class Meta:
        ordering = ["side", "-is_lead", "full_name"]
        verbose_name = _("point of contact")
        verbose_name_plural = _("points of contact")
        # Administrators alone (contacts.services): who is a lead, and which login is whose.
        permissions = [("designate_lead_pointofcontact", _("Can designate lead POCs and link logins to POCs"))]
        constraints = [
            models.CheckConstraint(condition=Q(side__in=Side.values), name="poc_side_valid"),
            models.CheckConstraint(condition=Q(preferred_language__in=PreferredLanguage.values),
                                   name="poc_preferred_language_valid"),
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(deleted_at__isnull=True) & ~Q(email=""),
                name="poc_unique_live_email",
                violation_error_message=_("Another point of contact already uses this e-mail address."),
            ),
        ]
        indexes = [
            models.Index(fields=["side", "is_lead", "active"]),
            models.Index(fields=["sync_txid", "id"], name="poc_sync"),
        ]

    def __str__(self):
        return f"{self.full_name} ({self.get_side_display()})"

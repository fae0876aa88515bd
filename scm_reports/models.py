"""SCM cycles: the annual Security Consultative Meeting each readiness year
is measured against. The date is stored per year, never assumed."""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rcf.models import TrackedModel


class SCMCycle(TrackedModel):
    number = models.PositiveSmallIntegerField(_("SCM number"))
    year = models.PositiveSmallIntegerField(_("year"))
    meeting_date = models.DateField(_("meeting date"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    readiness_deadline = models.DateField(
        _("readiness deadline"),
        null=True,
        blank=True,
        help_text=_("Leave empty for the day before the meeting."),
    )
    notes = models.TextField(_("notes"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["year"]
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
        ]

    def __str__(self):
        return _("%(number)sth SCM (%(year)s)") % {"number": self.number, "year": self.year}

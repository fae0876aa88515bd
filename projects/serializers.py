"""The API representation of cooperative projects and engagements.

Reference data travels as codes (priority area ``code``, country ISO
alpha-2), other records as ids. ``status`` and ``ready_on`` are read-only:
they move only through the lifecycle action, which calls the same service as
the pages (``projects.services.project_transition``).
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from contacts.models import Organization, PointOfContact
from rcf.models import PartnerCountry, PriorityArea
from rcf.serializers import ApiModelSerializer, ApiSerializer, CodeField
from rcf.validators import date_in_bounds, no_control_characters_multiline

from .models import Concurrence, ConcurrenceStep, CooperativeProject, Engagement, ProjectStatus

TRACKED_READ_ONLY = ("id", "version", "created_at", "updated_at")
_LIFECYCLE_HINT = _("Read-only: the status changes through POST /api/v1/projects/{id}/transition/.")


def _codes(model, slug, help_text, **kwargs):
    return CodeField(
        slug_field=slug, queryset=model.objects.all(), help_text=help_text, **kwargs
    )


class ProjectSerializer(ApiModelSerializer):
    read_only_hints = {"status": _LIFECYCLE_HINT, "ready_on": _LIFECYCLE_HINT}

    priority_area = _codes(PriorityArea, "code", _("Primary priority area code."))
    additional_areas = _codes(PriorityArea, "code", _("Codes of the other priority areas it touches."),
                              many=True, required=False)
    partner_countries = _codes(PartnerCountry, "iso2", _("ISO alpha-2 codes of the partner countries."),
                               many=True, required=False)
    complemented_partners = _codes(
        PartnerCountry, "iso2", _("ISO alpha-2 codes of the like-minded partners whose efforts it complements."),
        many=True, required=False,
    )
    us_lead_poc = serializers.PrimaryKeyRelatedField(
        queryset=PointOfContact.objects.all(), allow_null=True, required=False, help_text=_("A U.S. POC id.")
    )
    rok_lead_poc = serializers.PrimaryKeyRelatedField(
        queryset=PointOfContact.objects.all(), allow_null=True, required=False, help_text=_("A ROK POC id.")
    )
    industry_partners = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), many=True, required=False,
        help_text=_("Ids of industry organisations (B2B connections)."),
    )

    class Meta:
        model = CooperativeProject
        fields = (
            "id", "external_id", "title", "summary", "title_ko", "summary_ko", "channel", "priority_area",
            "additional_areas",
            "partner_countries", "lead_side", "status", "priority", "us_lead_poc", "rok_lead_poc",
            "industry_partners", "complementary_efforts", "complemented_partners",
            "target_year", "ready_on", "start_date", "end_date",
            *TRACKED_READ_ONLY[1:],
        )
        read_only_fields = (*TRACKED_READ_ONLY, "status", "ready_on")
        extra_kwargs = {
            "title_ko": {"help_text": _("Optional Korean title; Korean readers see it, others see `title` "
                                        "(each falls back to the other when empty).")},
            "summary_ko": {"help_text": _("Optional Korean summary, shown like `title_ko`.")},
        }


class TransitionSerializer(ApiSerializer):
    """One lifecycle step (``projects.services.project_transition``)."""

    to = serializers.ChoiceField(choices=ProjectStatus.choices, help_text=_("The status to move to."))
    # Not model fields: the model's validators are repeated here (rcf.validators).
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text=_("Why."),
                                 validators=[no_control_characters_multiline])
    ready_on = serializers.DateField(
        required=False, allow_null=True, default=None, validators=[date_in_bounds],
        help_text=_("Only when moving to ready: the day it became ready (default today, never in the future)."),
    )
    priority = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=5,
        help_text=_("Set the priority on the way (1 = highest); lead POCs only."),
    )


class EngagementSerializer(ApiModelSerializer):
    projects = serializers.PrimaryKeyRelatedField(queryset=CooperativeProject.objects.all(), many=True,
                                                  required=False, help_text=_("Project ids."))
    participants = serializers.PrimaryKeyRelatedField(
        queryset=PointOfContact.objects.all(), many=True, required=False, help_text=_("POC ids.")
    )

    class Meta:
        model = Engagement
        fields = ("id", "projects", "date", "kind", "summary", "location", "participants", *TRACKED_READ_ONLY[1:])
        read_only_fields = TRACKED_READ_ONLY


class ConcurrenceSerializer(ApiModelSerializer):
    """A joint decision: one side's proposal and the other side's answer.
    Read-only: proposals are made through ``POST /api/v1/projects/{id}/transition/``
    (202) or ``POST /api/v1/concurrences/``, answered through the
    ``concur``, ``decline`` and ``withdraw`` actions."""

    project = serializers.PrimaryKeyRelatedField(read_only=True, help_text=_("The project's id."))
    proposed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    proposer_poc = serializers.PrimaryKeyRelatedField(read_only=True, help_text=_("The proposing lead POC's id."))
    concurred_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    declined_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Concurrence
        fields = (
            "id", "project", "step", "from_status", "project_version", "priority", "ready_on", "side",
            "proposed_by", "proposer_poc", "proposed_at", "note", "concurred_by", "concurred_at", "declined_by",
            "declined_at", "withdrawn_at", "response_note", "changes", *TRACKED_READ_ONLY[1:],
        )
        read_only_fields = fields


class ProposalSerializer(ApiSerializer):
    """A proposal (``projects.services.project_transition`` by a lead POC)."""

    project = serializers.PrimaryKeyRelatedField(queryset=CooperativeProject.objects.all(),
                                                 help_text=_("The project's id."))
    step = serializers.ChoiceField(choices=ConcurrenceStep.choices, help_text=_("The step proposed."))
    note = serializers.CharField(required=False, allow_blank=True, default="",
                                 validators=[no_control_characters_multiline])
    priority = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=5,
                                        help_text=_("The priority proposed (1 = highest); needed to prioritise."))
    ready_on = serializers.DateField(
        required=False, allow_null=True, default=None, validators=[date_in_bounds],
        help_text=_("Only for ready: a backfill date; empty means the day the other side concurs."),
    )


class ConcurrenceAnswerSerializer(ApiSerializer):
    """An answer to a proposal: concur, decline (note required) or withdraw."""

    note = serializers.CharField(required=False, allow_blank=True, default="",
                                 validators=[no_control_characters_multiline],
                                 help_text=_("Why (required to decline)."))
    project_version = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=2**31 - 1,
        help_text=_("The project version you reviewed: if the project changed since, the answer is refused "
                    "(409)."),
    )

"""The API representation of cooperative projects and engagements.

Reference data travels as codes (priority area ``code``, country ISO
alpha-2), other records as ids. ``status`` and ``ready_on`` are read-only:
they move only through the lifecycle action, which calls the same service as
the pages (``projects.services.project_transition``).
"""

import copy

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contacts.models import Organization, PointOfContact
from rcf.models import PartnerCountry, PriorityArea
from rcf.serializers import ApiModelSerializer, ApiSerializer, CodeField
from rcf.validators import date_in_bounds, no_control_characters_multiline, validate_other_participants

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

    def get_fields(self):
        """The fields ModelSerializer builds from the model, built once per class and copied for each
        serializer (as DRF copies declared fields): introspecting the model again cost ~1.5 ms of every
        PATCH (issue 14)."""
        cls = type(self)
        built = cls.__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            cls._built_fields = built
        return copy.deepcopy(built)


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


@extend_schema_field({
    "type": "array", "maxItems": 200,
    "items": {
        "type": "object", "additionalProperties": False, "required": ["name"],
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200},
                       "organization": {"type": "string", "maxLength": 200}},
    },
})
class OtherParticipantsField(serializers.JSONField):
    """People outside the POC directory: ``[{"name": ..., "organization": ...}]``
    (``rcf.validators.validate_other_participants``: a list; each entry an
    object with a name and, optionally, an organisation; plain text)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validators", [validate_other_participants])
        super().__init__(**kwargs)


class EngagementSerializer(ApiModelSerializer):
    """An engagement: zero or more projects, participants from the POC
    directory and from outside it, the industry organisations a B2B meeting
    connected. Deleted projects, inactive POCs and non-industry organisations
    are refused by the service, naming the field."""

    projects = serializers.PrimaryKeyRelatedField(
        queryset=CooperativeProject.all_objects.all(), many=True, required=False,
        help_text=_("Ids of the projects it concerns (zero or more)."))
    participants = serializers.PrimaryKeyRelatedField(
        queryset=PointOfContact.all_objects.all(), many=True, required=False,
        help_text=_("Ids of the POCs who took part (active POCs)."))
    other_participants = OtherParticipantsField(
        required=False,
        help_text=_("People outside the POC directory: a list of {\"name\", \"organization\"} (name required)."))
    industry_organizations = serializers.PrimaryKeyRelatedField(
        queryset=Organization.all_objects.all(), many=True, required=False,
        help_text=_("Ids of the industry organisations a business-to-business meeting (kind b2b) connected."))
    partner_countries = _codes(PartnerCountry, "iso2", _("ISO alpha-2 codes of the partner countries concerned."),
                               many=True, required=False)

    class Meta:
        model = Engagement
        fields = ("id", "external_id", "projects", "date", "kind", "summary", "location", "participants",
                  "other_participants", "industry_organizations", "partner_countries", *TRACKED_READ_ONLY[1:])
        read_only_fields = TRACKED_READ_ONLY


class ConcurrenceSerializer(ApiModelSerializer):
    """A joint decision: one side's proposal and the other side's answer.
    Read-only: proposals are made through ``POST /api/v1/projects/{id}/transition/``
    (202) or ``POST /api/v1/concurrences/``, answered through the
    ``concur``, ``decline`` and ``withdraw`` actions."""

    project = serializers.PrimaryKeyRelatedField(read_only=True, help_text=_("The project's id."))
    proposed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    proposer_poc = serializers.PrimaryKeyRelatedField(read_only=True, help_text=_("The proposing lead POC's id."))
    concurred_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    declined_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

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


# --- Documents -------------------------------------------------------------------

from .models import Document  # noqa: E402


class DocumentDownloadUrlField(serializers.Field):
    """``download_url``: where the file itself is (GET, with the same token).
    Read from the record's id, so the bulk reader (lists, sync) gives it too;
    the view makes it absolute."""

    def __init__(self, **kwargs):
        kwargs.update(source="id", read_only=True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        from django.urls import reverse

        return reverse("api:document-download", args=[value])


def _document_schema_types():
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import extend_schema_field

    extend_schema_field(OpenApiTypes.URI)(DocumentDownloadUrlField)


_document_schema_types()

_FIXED_AT_UPLOAD = _("Fixed at upload: upload a new document instead.")


class DocumentSerializer(ApiModelSerializer):
    """A document's metadata; the file is uploaded with it (multipart) and
    downloaded from ``download_url``."""

    project = serializers.PrimaryKeyRelatedField(
        queryset=CooperativeProject.objects.all(), allow_null=True, required=False,
        help_text=_("The project's id (give a project or an engagement)."))
    engagement = serializers.PrimaryKeyRelatedField(
        queryset=Engagement.objects.all(), allow_null=True, required=False,
        help_text=_("The engagement's id (give a project or an engagement)."))
    marking = serializers.CharField(
        max_length=60, help_text=_("The handling marking: one of the deployment's RCF_MARKINGS (by default "
                                   "UNCLASSIFIED, CUI)."))
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    download_url = DocumentDownloadUrlField(help_text=_("GET it (same token) for the file itself."))

    class Meta:
        model = Document
        fields = (
            "id", "external_id", "project", "engagement", "title", "marking", "original_name", "content_type",
            "size", "sha256", "download_url", "uploaded_by", "file", *TRACKED_READ_ONLY[1:],
        )
        read_only_fields = (*TRACKED_READ_ONLY, "original_name", "content_type", "size", "sha256")
        extra_kwargs = {
            "file": {"write_only": True, "help_text": _(
                "The file (multipart/form-data): PDF, DOCX, XLSX, PPTX, PNG, JPEG or UTF-8 text, at most "
                "RCF_MAX_UPLOAD_MB (default 25) MB. The type is checked on the content.")},
        }


class DocumentUpdateSerializer(DocumentSerializer):
    """PATCH: only the title and the marking change."""

    read_only_hints = {"project": _FIXED_AT_UPLOAD, "engagement": _FIXED_AT_UPLOAD, "file": _FIXED_AT_UPLOAD,
                       "external_id": _FIXED_AT_UPLOAD}

    project = serializers.PrimaryKeyRelatedField(read_only=True)
    engagement = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta(DocumentSerializer.Meta):
        read_only_fields = (*DocumentSerializer.Meta.read_only_fields, "external_id", "file")
        extra_kwargs = {}


# --- Action items ------------------------------------------------------------------

from .models import ActionItem  # noqa: E402


class ActionItemSerializer(ApiModelSerializer):
    """An action item: what a POC has to do, by when. ``done_on`` is set
    exactly when ``status`` is ``done`` (today unless given); any other
    status clears it."""

    owner = serializers.PrimaryKeyRelatedField(
        queryset=PointOfContact.objects.all(), help_text=_("The owner's POC id (an active point of contact).")
    )
    project = serializers.PrimaryKeyRelatedField(
        queryset=CooperativeProject.objects.all(), required=False, allow_null=True,
        help_text=_("The project's id, if any (an engagement's only project when left out)."),
    )
    engagement = serializers.PrimaryKeyRelatedField(
        queryset=Engagement.objects.all(), required=False, allow_null=True,
        help_text=_("The engagement it is a follow-up of, if any."),
    )

    class Meta:
        model = ActionItem
        fields = ("id", "external_id", "title", "description", "owner", "project", "engagement", "due_on", "status",
                  "done_on", *TRACKED_READ_ONLY[1:])
        read_only_fields = TRACKED_READ_ONLY


# --- Progress and milestones ---

from .models import Milestone, ProgressUpdate  # noqa: E402


class ProgressUpdateSerializer(ApiModelSerializer):
    """A dated report on a project in implementation: its health and what
    happened. The latest update (by date) gives the project its health."""

    project = serializers.PrimaryKeyRelatedField(
        queryset=CooperativeProject.objects.all(),
        help_text=_("The project's id: in implementation, completed, or on hold from implementation. Cannot "
                    "change once posted."),
    )

    class Meta:
        model = ProgressUpdate
        fields = ("id", "external_id", "project", "date", "health", "narrative", "next_steps",
                  *TRACKED_READ_ONLY[1:])
        read_only_fields = TRACKED_READ_ONLY
        extra_kwargs = {"date": {"help_text": _("The day the update reports on; not after today.")}}


class MilestoneSerializer(ApiModelSerializer):
    """A dated step of a project's implementation; overdue while ``done_on``
    is empty after ``due_on``."""

    project = serializers.PrimaryKeyRelatedField(
        queryset=CooperativeProject.objects.all(),
        help_text=_("The project's id (not withdrawn). Cannot change once added."),
    )

    class Meta:
        model = Milestone
        fields = ("id", "external_id", "project", "title", "due_on", "done_on", *TRACKED_READ_ONLY[1:])
        read_only_fields = TRACKED_READ_ONLY
        extra_kwargs = {
            "due_on": {"help_text": _("Not before the project's start date.")},
            "done_on": {"help_text": _("When it was done (not after today, not before the project's start); "
                                       "null while it is not done.")},
        }


# --- Resource lines ---

from .models import ResourceLine  # noqa: E402


class ResourceLineSerializer(ApiModelSerializer):
    """An amount of resources for a project: whose (``side``), from where
    (``source``), for which ``fiscal_year``, how firm (``kind``), in which
    ``currency``. Totals are per currency: USD and KRW are never added."""

    project = serializers.PrimaryKeyRelatedField(
        queryset=CooperativeProject.all_objects.all(),
        help_text=_("The project's id (a live project). Cannot change once added."),
    )

    class Meta:
        model = ResourceLine
        fields = ("id", "external_id", "project", "side", "source", "fiscal_year", "kind", "amount", "currency",
                  "note", *TRACKED_READ_ONLY[1:])
        read_only_fields = TRACKED_READ_ONLY
        extra_kwargs = {
            # Required on every line a client writes; "" only appears on lines migrated from a project's former
            # single estimate (nobody had said whose), and the service refuses it on a write.
            "side": {"required": True, "help_text": _(
                "Whose resources: us, rok, partner or industry. Required; an empty side appears only on a line "
                "migrated from a project's former single estimate.")},
            "amount": {"help_text": _("Not negative; a decimal string (\"1250000.50\"); whole won for KRW."),
                       "error_messages": {"min_value": _("An amount cannot be negative.")}},
            "currency": {"help_text": _("USD or KRW. Totals never add one currency to another.")},
            "fiscal_year": {"help_text": _("The fiscal year the resources are for (1950–2100), or null.")},
            "source": {"help_text": _("Where the resources come from, e.g. a programme name.")},
            "kind": {"required": True, "help_text": _("planned, committed or spent.")},
        }

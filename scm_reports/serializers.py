"""The API representation of SCM cycles, the readiness of each year and the
readiness flags."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from projects.models import CooperativeProject
from rcf.serializers import ApiModelSerializer
from rcf.validators import date_in_bounds

from .models import ReadinessFlag, SCMCycle, SCMPresentation
from .selectors import ReadinessState

TRACKED_READ_ONLY = ("id", "version", "created_at", "updated_at")


class SCMCycleSerializer(ApiModelSerializer):
    class Meta:
        model = SCMCycle
        fields = ("id", "number", "year", "meeting_date", "location", "readiness_deadline", "notes",
                  *TRACKED_READ_ONLY[1:])
        read_only_fields = TRACKED_READ_ONLY
        extra_kwargs = {
            "year": {"required": False, "help_text": _("Default: the year of the meeting date.")},
            "readiness_deadline": {"help_text": _("Default (null): the day before the meeting.")},
        }


class ReadinessYearSerializer(serializers.Serializer):
    """One year of the framework's goal, as ``scm_reports.selectors.readiness_by_year`` states it."""

    year = serializers.IntegerField()
    scm_number = serializers.IntegerField(allow_null=True)
    meeting_date = serializers.DateField(allow_null=True)
    deadline = serializers.DateField(allow_null=True, help_text=_("Last day a project can become ready."))
    window_start = serializers.DateField(allow_null=True, help_text=_("First day of the counting window."))
    state = serializers.ChoiceField(choices=[(s, s) for s in ReadinessState.ALL])
    days_left = serializers.IntegerField(allow_null=True, help_text=_("Negative once the deadline has passed."))
    counting_projects = serializers.IntegerField(help_text=_(
        "Live projects that count for this year's SCM. For an unscheduled year after the last recorded SCM: the "
        "ready projects waiting for it to be recorded (they count for it once it is, unless ready after its "
        "deadline)."))
    counting_project_ids = serializers.ListField(child=serializers.IntegerField(), help_text=_(
        "Their ids, earliest ready first."))


class ReadinessQuerySerializer(serializers.Serializer):
    today = serializers.DateField(required=False, validators=[date_in_bounds],
                                  help_text=_("Evaluate as of this day (default: today)."))


class ReadinessFlagSerializer(ApiModelSerializer):
    open = serializers.BooleanField(source="is_open", read_only=True)
    # Rendered from the fields in the request's language (Accept-Language), as on the pages; the English
    # sentence earlier releases stored is no longer shown.
    detail = serializers.SerializerMethodField(help_text=_("What the flag says, in the request's language."))

    class Meta:
        model = ReadinessFlag
        fields = ("id", "year", "kind", "scm_cycle", "open", "raised_at", "resolved_at", "notified_at", "deadline",
                  "counting_projects", "detail")
        read_only_fields = fields

    def get_detail(self, flag) -> str:
        from rcf.selectors import framework_today

        from .flag_text import flag_text

        return flag_text(flag, today=framework_today())


class SCMPresentationSerializer(ApiModelSerializer):
    """A project presented (or reported on again) at one SCM and what was
    decided there (``scm_reports.services.presentation_record``)."""

    # Live records only: a deleted SCM cycle or project is "does not exist".
    scm_cycle = serializers.PrimaryKeyRelatedField(
        queryset=SCMCycle.objects.all(), help_text=_("The SCM cycle's id (see scm-cycles); it must have met."))
    project = serializers.PrimaryKeyRelatedField(
        queryset=CooperativeProject.objects.all(),
        help_text=_("The project's id: ready (it becomes presented), or presented / in implementation (a "
                    "progress report, no status change)."))
    year = serializers.SlugRelatedField(source="scm_cycle", slug_field="year", read_only=True,
                                        help_text=_("The SCM's year."))
    scm_number = serializers.SlugRelatedField(source="scm_cycle", slug_field="number", read_only=True)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = SCMPresentation
        fields = ("id", "scm_cycle", "year", "scm_number", "project", "outcome", "note", "recorded_by",
                  "recorded_at", *TRACKED_READ_ONLY[1:])
        read_only_fields = (*TRACKED_READ_ONLY, "recorded_at")
        extra_kwargs = {
            "outcome": {"help_text": _("What the ministers decided. deferred returns a ready project to "
                                       "prioritized, declined to under_review.")},
            "note": {"help_text": _("The decision note.")},
        }

"""The API representation of SCM cycles, the readiness of each year and the
readiness flags."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from rcf.serializers import ApiModelSerializer
from rcf.validators import date_in_bounds

from .models import ReadinessFlag, SCMCycle
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
    counting_projects = serializers.IntegerField()
    counting_project_ids = serializers.ListField(child=serializers.IntegerField())


class ReadinessQuerySerializer(serializers.Serializer):
    today = serializers.DateField(required=False, validators=[date_in_bounds],
                                  help_text=_("Evaluate as of this day (default: today)."))


class ReadinessFlagSerializer(ApiModelSerializer):
    open = serializers.BooleanField(source="is_open", read_only=True)

    class Meta:
        model = ReadinessFlag
        fields = ("id", "year", "kind", "scm_cycle", "open", "raised_at", "resolved_at", "notified_at", "detail")
        read_only_fields = fields

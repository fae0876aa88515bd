"""API resources: SCM cycles (administrators write), the readiness of each
year (the rule's own selector) and the readiness flags (read-only)."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.response import Response

from rcf import services as rcf_services
from rcf.api import (
    ConsistentReadsMixin,
    ListFiltersMixin,
    ModelPermissionsMixin,
    TrackedRecordViewSet,
    error_responses,
    tracked_schema,
)
from rcf.selectors import framework_today

from . import services
from .models import FlagKind, ReadinessFlag, SCMCycle
from .selectors import readiness_by_year
from .serializers import (
    ReadinessFlagSerializer,
    ReadinessQuerySerializer,
    ReadinessYearSerializer,
    SCMCycleSerializer,
)


class SCMCycleFilter(filters.FilterSet):
    year = filters.NumberFilter(min_value=1, max_value=9999)

    class Meta:
        model = SCMCycle
        fields = []


@extend_schema_view(**tracked_schema(
    SCMCycleSerializer,
    create_example={"number": 58, "meeting_date": "2026-11-05", "location": "Washington"},
    update_example={"readiness_deadline": "2026-10-30"},
))
class SCMCycleViewSet(TrackedRecordViewSet):
    """The annual Security Consultative Meetings each readiness year is
    measured against (administrators keep them)."""

    serializer_class = SCMCycleSerializer
    filterset_class = SCMCycleFilter

    def create_record(self, data):
        return services.scm_cycle_create(by=self.request.user, **data)

    def update_record(self, instance, expected_version, data):
        return services.scm_cycle_update(cycle=instance, by=self.request.user, expected_version=expected_version,
                                         **data)

    def delete_record(self, instance, expected_version):
        return services.scm_cycle_delete(cycle=instance, by=self.request.user, expected_version=expected_version)

    def restore_record(self, instance):
        return rcf_services.restore(instance=instance, by=self.request.user)


class ReadinessViewSet(ConsistentReadsMixin, ModelPermissionsMixin, viewsets.ViewSet):
    """The framework's goal, year by year: whether a project became ready in
    time for that year's SCM (``scm_reports.selectors.readiness_by_year``)."""

    permission_model = SCMCycle
    serializer_class = ReadinessYearSerializer

    @extend_schema(
        parameters=[ReadinessQuerySerializer],
        responses={200: ReadinessYearSerializer(many=True), **error_responses(400, 401, 403, 429)},
    )
    def list(self, request):
        query = ReadinessQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        today = query.validated_data.get("today") or framework_today()
        years = readiness_by_year(today=today, with_project_ids=True)
        return Response([year.as_dict() for year in years])


class ReadinessFlagFilter(filters.FilterSet):
    year = filters.NumberFilter(min_value=1, max_value=9999)
    kind = filters.ChoiceFilter(choices=FlagKind.choices)
    open = filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull", help_text=_("Unresolved flags."))

    class Meta:
        model = ReadinessFlag
        fields = []


@extend_schema_view(
    list=extend_schema(responses={200: ReadinessFlagSerializer(many=True), **error_responses(400, 401, 403, 404,
                                                                                              429)}),
    retrieve=extend_schema(responses={200: ReadinessFlagSerializer, **error_responses(401, 403, 404, 429)}),
)
class ReadinessFlagViewSet(ConsistentReadsMixin, ModelPermissionsMixin, ListFiltersMixin,
                           viewsets.ReadOnlyModelViewSet):
    """Years in which the goal is at risk, missed, or cannot be measured;
    raised and resolved by the readiness job only."""

    # Whoever may see the SCM cycles may see how the goal stands against them.
    permission_model = SCMCycle
    queryset = ReadinessFlag.objects.all()
    serializer_class = ReadinessFlagSerializer
    filterset_class = ReadinessFlagFilter

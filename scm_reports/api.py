"""API resources: SCM cycles (administrators write), the readiness of each
year (the rule's own selector) and the readiness flags (read-only)."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.response import Response

from rcf.api import (
    Conflict,
    ConsistentReadsMixin,
    ListFiltersMixin,
    ModelPermissionsMixin,
    TrackedRecordViewSet,
    error_responses,
    tracked_schema,
)
from rcf.selectors import framework_today

from . import services
from .models import FlagKind, PresentationOutcome, ReadinessFlag, SCMCycle, SCMPresentation
from .selectors import readiness_by_year
from .serializers import (
    ReadinessFlagSerializer,
    ReadinessQuerySerializer,
    ReadinessYearSerializer,
    SCMCycleSerializer,
    SCMPresentationSerializer,
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
        return services.scm_cycle_restore(cycle=instance, by=self.request.user)


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
    queryset = ReadinessFlag.objects.select_related("scm_cycle")  # the text names the SCM
    serializer_class = ReadinessFlagSerializer
    filterset_class = ReadinessFlagFilter


class SCMPresentationFilter(filters.FilterSet):
    cycle = filters.NumberFilter(field_name="scm_cycle_id", min_value=1, max_value=2**63 - 1,
                                 help_text=_("The SCM cycle's id."))
    year = filters.NumberFilter(field_name="scm_cycle__year", min_value=1, max_value=9999,
                                help_text=_("The SCM's year."))
    project = filters.NumberFilter(field_name="project_id", min_value=1, max_value=2**63 - 1)
    outcome = filters.ChoiceFilter(choices=PresentationOutcome.choices)

    class Meta:
        model = SCMPresentation
        fields = []


@extend_schema_view(**tracked_schema(
    SCMPresentationSerializer,
    idempotent_create=True,
    create_example={"scm_cycle": 9, "project": 1, "outcome": "endorsed", "note": "Both ministers endorsed it."},
    update_example={"note": "Both ministers endorsed it; first report due at the next SCM."},
))
class SCMPresentationViewSet(TrackedRecordViewSet):
    """What was presented at which SCM and what the ministers decided
    (lead POCs and administrators record it). Recording a ready project moves
    it to presented; ``deferred`` returns it to prioritized, ``declined`` to
    under_review. A project already presented or in implementation can be
    reported on at a later SCM (no status change). One record per project and
    SCM: a second answers 409 naming the first. Only the note can be changed
    afterwards; administrators delete a mistaken record."""

    serializer_class = SCMPresentationSerializer
    filterset_class = SCMPresentationFilter

    fixed_fields = ("scm_cycle", "project", "outcome")
    kept_on_replace = ("scm_cycle", "project", "outcome")  # a PUT replaces the note only

    def create_record(self, data):
        try:
            return services.presentation_record(by=self.request.user, **data)
        except services.PresentationAlreadyRecorded as exc:
            raise Conflict(exc.messages[0], id=exc.existing.pk, location=self.detail_url(exc.existing.pk)) from None

    def update_record(self, instance, expected_version, data):
        # A PUT carries the fixed fields too: unchanged ones are fine.
        data = {name: value for name, value in data.items()
                if not (name in self.fixed_fields and getattr(instance, name) == value)}
        return services.presentation_update(presentation=instance, by=self.request.user,
                                            expected_version=expected_version, **data)

    def delete_record(self, instance, expected_version):
        return services.presentation_delete(presentation=instance, by=self.request.user,
                                            expected_version=expected_version)

    def check_restore_permission(self, user):
        pass  # presentation_restore checks it

    def restore_record(self, instance):
        return services.presentation_restore(presentation=instance, by=self.request.user)

"""API resources: cooperative projects (with the lifecycle action) and
engagements. Every write goes through projects.services, as the pages do."""

import copy

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_view
from rest_framework.decorators import action

from rcf import services as rcf_services
from rcf.api import (
    ETAG_HEADER,
    IF_MATCH_OPTIONAL,
    RECORD_ID,
    TrackedRecordViewSet,
    error_responses,
    precondition_failed_response,
    tracked_schema,
)

from . import services
from .filters import ProjectFilter
from .models import Engagement, EngagementKind
from .selectors import annotate_scm_year
from .serializers import EngagementSerializer, ProjectSerializer, TransitionSerializer


def _typed(name: str, schema_type):
    """The staff filter ``name``, with the type the schema cannot guess from
    a method filter."""
    return extend_schema_field(schema_type)(copy.deepcopy(ProjectFilter.declared_filters[name]))


class ProjectApiFilter(ProjectFilter):
    """The staff list's filters (one definition: ``year`` is the SCM year a
    project counts for under the readiness rule), plus ``search``."""

    search = filters.CharFilter(method="search", label=_("Search"),
                                help_text=_("Words in the title or summary, or the exact external id."))
    country = _typed("country", OpenApiTypes.STR)
    lead_poc = _typed("lead_poc", OpenApiTypes.INT)


@extend_schema_view(
    **tracked_schema(
        ProjectSerializer, idempotent_create=True,
        create_example={"external_id": "mnd-2026-014", "title": "Coast guard maritime domain awareness training",
                        "summary": "Training for partner coast guards.", "priority_area": "maritime-security",
                        "partner_countries": ["PH", "VN"], "lead_side": "joint"},
        update_example={"summary": "Training for partner coast guards, with a Fiji module.",
                        "partner_countries": ["PH", "VN", "FJ"]},
    ),
    transition=extend_schema(
        request=TransitionSerializer,
        examples=[OpenApiExample("Submit for review", value={"to": "under_review", "note": "Concept complete."},
                                 request_only=True)],
        parameters=[RECORD_ID, IF_MATCH_OPTIONAL, ETAG_HEADER],
        responses={200: ProjectSerializer, 412: precondition_failed_response(ProjectSerializer),
                   **error_responses(400, 401, 403, 404, 413, 415, 429)},
    ),
)
class ProjectViewSet(TrackedRecordViewSet):
    """Cooperative projects under the framework."""

    serializer_class = ProjectSerializer
    filterset_class = ProjectApiFilter
    action_permissions = {**TrackedRecordViewSet.action_permissions, "transition": "change"}

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset  # schema generation (e.g. `check --deploy`) must not need a database
        # The SCM year a project counts for, for the ``year`` filter (the readiness rule's own annotation).
        return annotate_scm_year(queryset) if self.action == "list" else queryset

    def create_record(self, data):
        return services.project_create(by=self.request.user, **data)

    def update_record(self, instance, expected_version, data):
        return services.project_update(project=instance, by=self.request.user, expected_version=expected_version,
                                       **data)

    def delete_record(self, instance, expected_version):
        return services.project_soft_delete(project=instance, by=self.request.user,
                                            expected_version=expected_version)

    def check_restore_permission(self, user):
        pass  # project_restore checks projects.restore_cooperativeproject itself

    def restore_record(self, instance):
        return services.project_restore(project=instance, by=self.request.user)

    @action(detail=True, methods=["post"])
    def transition(self, request, *args, **kwargs):
        """Move the project one step through its lifecycle (the same service as
        the pages: steps beyond the role are 403, invalid ones 400)."""
        project = self.get_object()
        expected = self.expected_version(request, project, required=False)
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = services.project_transition(
            project=project, by=request.user, expected_version=expected, **serializer.validated_data
        )
        return self.record_response(project.pk)


class EngagementFilter(filters.FilterSet):
    project = filters.NumberFilter(field_name="project_id", min_value=1, max_value=2**63 - 1)
    kind = filters.ChoiceFilter(choices=EngagementKind.choices)
    year = filters.NumberFilter(field_name="date__year", min_value=1, max_value=9999)
    search = filters.CharFilter(method="filter_search", help_text=_("Words in the summary or location."))

    class Meta:
        model = Engagement
        fields = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(summary__icontains=value) | Q(location__icontains=value))


@extend_schema_view(**tracked_schema(
    EngagementSerializer,
    create_example={"project": 1, "date": "2026-03-02", "kind": "meeting", "summary": "Working-level meeting.",
                    "location": "Manila", "participants": [1]},
    update_example={"summary": "Working-level meeting; minutes attached to the project."},
))
class EngagementViewSet(TrackedRecordViewSet):
    """Coordination engagements the POCs log against projects."""

    serializer_class = EngagementSerializer
    filterset_class = EngagementFilter

    def create_record(self, data):
        return services.engagement_create(by=self.request.user, **data)

    def update_record(self, instance, expected_version, data):
        return services.engagement_update(engagement=instance, by=self.request.user,
                                          expected_version=expected_version, **data)

    def delete_record(self, instance, expected_version):
        return services.engagement_delete(engagement=instance, by=self.request.user,
                                          expected_version=expected_version)

    def restore_record(self, instance):
        return rcf_services.restore(instance=instance, by=self.request.user)


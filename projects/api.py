"""API resources: cooperative projects (with the lifecycle action) and
engagements. Every write goes through projects.services, as the pages do."""

import contextlib
import copy

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from rcf import services as rcf_services
from rcf.api import (
    ETAG_HEADER,
    IF_MATCH_OPTIONAL,
    LOCATION_HEADER,
    RECORD_ID,
    SINCE,
    Conflict,
    TrackedRecordViewSet,
    error_responses,
    list_or_feed_response,
    precondition_failed_response,
    tracked_schema,
)
from rcf.serializers import ErrorSerializer

from . import services
from .filters import ProjectFilter
from .models import Concurrence, ConcurrenceStep, CooperativeProject, Engagement, EngagementKind
from .selectors import annotate_scm_year
from .serializers import (
    ConcurrenceAnswerSerializer,
    ConcurrenceSerializer,
    EngagementSerializer,
    ProjectSerializer,
    ProposalSerializer,
    TransitionSerializer,
)


def _typed(name: str, schema_type):
    """The staff filter ``name``, with the type the schema cannot guess from
    a method filter."""
    return extend_schema_field(schema_type)(copy.deepcopy(ProjectFilter.declared_filters[name]))


class ProjectApiFilter(ProjectFilter):
    """The staff list's filters (one definition: ``year`` is the SCM year a
    project counts for under the readiness rule), plus ``search``."""

    search = filters.CharFilter(
        method="search", label=_("Search"),
        help_text=_("Words in the title or summary (English or Korean), or the exact external id."))
    country = _typed("country", OpenApiTypes.STR)
    lead_poc = _typed("lead_poc", OpenApiTypes.INT)


@extend_schema_view(
    **tracked_schema(
        ProjectSerializer, idempotent_create=True,
        create_example={"external_id": "mnd-2026-014", "title": "Coast guard maritime domain awareness training",
                        "title_ko": "해양경찰 해양영역인식 훈련",
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
        responses={200: ProjectSerializer, 202: ConcurrenceSerializer,
                   409: OpenApiResponse(ErrorSerializer, description=_("A proposal for this step is already open.")),
                   412: precondition_failed_response(ProjectSerializer),
                   **error_responses(400, 401, 403, 404, 413, 415, 429)},
        description=_("Take a lifecycle step. Prioritising and declaring ready are joint decisions: a lead POC's "
                      "step answers 202 with the proposal (a concurrence) until a lead POC of the other side "
                      "concurs (POST /api/v1/concurrences/{id}/concur/)."),
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
        with _proposal_conflicts():
            result = services.project_transition(
                project=project, by=request.user, expected_version=expected, **serializer.validated_data
            )
        if isinstance(result, Concurrence):
            # A joint decision: proposed, not taken, until the other side concurs.
            return ConcurrenceViewSet.proposal_response(request, result)
        return self.record_response(result.pk)


class EngagementFilter(filters.FilterSet):
    project = filters.NumberFilter(field_name="projects", min_value=1, max_value=2**63 - 1, distinct=True)
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
    create_example={"projects": [1], "date": "2026-03-02", "kind": "meeting", "summary": "Working-level meeting.",
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



# --- Joint concurrence -------------------------------------------------------------


@contextlib.contextmanager
def _proposal_conflicts():
    """A closed or stale proposal is a 409 naming why (the service says it
    with a ValidationError subclass)."""
    try:
        yield
    except services.ProposalConflict as exc:
        messages = [m for ms in exc.message_dict.values() for m in ms] if hasattr(exc, "error_dict") \
            else exc.messages
        raise Conflict(" ".join(messages)) from None


class ConcurrenceFilter(filters.FilterSet):
    project = filters.NumberFilter(field_name="project_id", min_value=1, max_value=2**63 - 1)
    step = filters.ChoiceFilter(choices=ConcurrenceStep.choices)
    side = filters.ChoiceFilter(choices=[("us", "U.S."), ("rok", "ROK")], help_text=_("The proposing side."))
    open = filters.BooleanFilter(method="filter_open", help_text=_("Only open (true) or closed (false) proposals."))

    class Meta:
        model = Concurrence
        fields = []

    def filter_open(self, queryset, name, value):
        still_open = {"concurred_at__isnull": True, "declined_at__isnull": True, "withdrawn_at__isnull": True}
        return queryset.filter(**still_open) if value else queryset.exclude(**still_open)


_ANSWER_RESPONSES = {
    200: ConcurrenceSerializer,
    409: OpenApiResponse(ErrorSerializer, description=_("The proposal is closed or stale, or the project changed "
                                                        "since the project_version you reviewed.")),
    412: precondition_failed_response(ConcurrenceSerializer),
    **error_responses(400, 401, 403, 404, 413, 415, 429),
}


@extend_schema_view(
    list=extend_schema(parameters=[SINCE], responses={200: list_or_feed_response(ConcurrenceSerializer),
                                                      **error_responses(400, 401, 403, 404, 410, 429)}),
    retrieve=extend_schema(parameters=[RECORD_ID, ETAG_HEADER],
                           responses={200: ConcurrenceSerializer, **error_responses(401, 403, 404, 429)}),
    create=extend_schema(
        request=ProposalSerializer, parameters=[LOCATION_HEADER],
        responses={202: ConcurrenceSerializer, 200: ProjectSerializer,
                   409: OpenApiResponse(ErrorSerializer, description=_("A proposal for this step is already open.")),
                   **error_responses(400, 401, 403, 413, 415, 429)},
        examples=[OpenApiExample("Propose ready", request_only=True,
                                 value={"project": 1, "step": "ready", "note": "Both ministries briefed."})],
        description=_("Propose a joint step (a lead POC): the same as POST /api/v1/projects/{id}/transition/. "
                      "202 with the proposal; 200 with the project when concurrence is turned off."),
    ),
    concur=extend_schema(request=ConcurrenceAnswerSerializer, parameters=[RECORD_ID, IF_MATCH_OPTIONAL],
                         responses=_ANSWER_RESPONSES,
                         description=_("A lead POC of the other side concurs: the step happens, dated today "
                                       "unless the proposal names a backfill date.")),
    decline=extend_schema(request=ConcurrenceAnswerSerializer, parameters=[RECORD_ID, IF_MATCH_OPTIONAL],
                          responses=_ANSWER_RESPONSES,
                          description=_("A lead POC of the other side declines, with a note; the proposal "
                                        "closes.")),
    withdraw=extend_schema(request=ConcurrenceAnswerSerializer, parameters=[RECORD_ID, IF_MATCH_OPTIONAL],
                           responses=_ANSWER_RESPONSES,
                           description=_("A lead POC of the proposing side takes the proposal back.")),
)
class ConcurrenceViewSet(TrackedRecordViewSet):
    """Joint decisions on prioritising a project and declaring it ready: one
    side's lead POC proposes, a lead POC of the other side concurs or
    declines. Synced like the other resources (``?since=``)."""

    serializer_class = ConcurrenceSerializer
    filterset_class = ConcurrenceFilter
    http_method_names = ["get", "post", "head", "options"]
    # Who may answer is the service's rule (a linked lead POC of the right side).
    permission_model = CooperativeProject
    action_permissions = {"list": "view", "retrieve": "view", "create": "change", "concur": "change",
                          "decline": "change", "withdraw": "change"}

    @classmethod
    def proposal_response(cls, request, proposal):
        from django.urls import reverse

        view = cls()
        view.request = request
        view.basename = "concurrence"
        return view.record_response(
            proposal.pk, status_code=status.HTTP_202_ACCEPTED,
            headers={"Location": request.build_absolute_uri(reverse("api:concurrence-detail", args=[proposal.pk]))},
        )

    def create(self, request, *args, **kwargs):
        serializer = ProposalSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        with _proposal_conflicts():
            result = services.project_transition(
                project=data.pop("project"), to=data.pop("step"), by=request.user, **data)
        if isinstance(result, Concurrence):
            return self.proposal_response(request, result)
        return Response(ProjectSerializer(result).data, status=status.HTTP_200_OK)

    def _answer(self, request, service, **extra):
        proposal = self.get_object()
        expected = self.expected_version(request, proposal, required=False)
        serializer = ConcurrenceAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        kwargs = {"concurrence": proposal, "by": request.user, "note": data["note"], "expected_version": expected}
        if service is services.concurrence_concur:
            kwargs["project_version"] = data["project_version"]
        elif data["project_version"] is not None:
            raise exceptions.ValidationError({"project_version": [_("Only needed to concur.")]})
        with _proposal_conflicts():
            service(**kwargs)
        return self.record_response(proposal.pk)

    @action(detail=True, methods=["post"])
    def concur(self, request, *args, **kwargs):
        return self._answer(request, services.concurrence_concur)

    @action(detail=True, methods=["post"])
    def decline(self, request, *args, **kwargs):
        return self._answer(request, services.concurrence_decline)

    @action(detail=True, methods=["post"])
    def withdraw(self, request, *args, **kwargs):
        return self._answer(request, services.concurrence_withdraw)

    @extend_schema(exclude=True)
    def restore(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed(request.method)

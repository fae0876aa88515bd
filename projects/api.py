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
from .engagement_filters import EngagementFilter
from .filters import ProjectFilter
from .models import Concurrence, ConcurrenceStep, CooperativeProject
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


def _typed_engagement(name: str, schema_type):
    """The engagement list's filter ``name``, with the type the schema cannot guess from a method filter."""
    return extend_schema_field(schema_type)(copy.deepcopy(EngagementFilter.declared_filters[name]))


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
        if self.action in ("update", "partial_update"):
            # An edit checks the lead POCs (CooperativeProject.clean) and names them to open proposals:
            # read with the project, not one query each.
            return queryset.select_related("us_lead_poc", "rok_lead_poc")
        # The SCM year a project counts for, for the ``year`` filter and the ``scm_year`` sort (the
        # readiness rule's own annotation); a list page that uses neither does without it (and the
        # query for the SCM windows it reads).
        wanted = self.request.query_params if self.request is not None else {}
        uses_year = "year" in wanted or "counts_for" in wanted or wanted.get("sort", "").lstrip("-") == "scm_year"
        return annotate_scm_year(queryset) if self.action == "list" and uses_year else queryset

    # --- The list's count (rcf.api_policies.PageNumberPagination asks page_count) ---

    # rcf.api_policies.PageNumberPagination: a page's ids first (an index-only scan of the sort's index,
    # projects.models Meta.indexes), then its rows by id; a deep ?page=N skips index entries, not rows.
    deferred_pages = True

    # Query parameters that do not narrow the list.
    PAGE_PARAMETERS = frozenset({"sort", "page", "page_size", "cursor", "format"})

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if getattr(self, "action", None) == "list":
            # The records before the representation selects its columns (BulkRepresentation.values joins
            # the priority area for its code): what the count counts, without that join.
            self.listed = queryset
        return queryset

    def summary_filters(self) -> dict | None:
        """The list's filters as ``live_project_count`` arguments when the summary rows hold the answer
        (no filter, or only status, lead side, one priority area, one SCM year); else None."""
        params = self.request.query_params
        arguments = {}
        for name in set(params) - self.PAGE_PARAMETERS:
            values = params.getlist(name)
            if not all(values):
                return None  # an empty value: the filter's own rule (ignored or not), counted plainly
            if name == "status":
                arguments["statuses"] = values
            elif name == "lead_side":
                arguments["sides"] = values
            elif name == "priority_area" and len(values) == 1:
                arguments["area_code"] = values[0]
            elif name == "year" and len(values) == 1 and values[0].isascii() and values[0].isdigit() \
                    and 1 <= int(values[0]) <= 9999:
                arguments["year"] = int(values[0])
            else:
                return None
        return arguments

    def page_count(self, queryset) -> int:
        """The list's exact count: from the dashboard's summary rows when they hold it (one query over a few
        hundred rows at any number of projects), else ``COUNT(*)`` of the filtered projects."""
        from .selectors import live_project_count

        arguments = self.summary_filters()
        if arguments is not None:
            return live_project_count(**arguments)
        listed = getattr(self, "listed", None)
        return listed.order_by().count() if listed is not None else queryset.count()

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


class EngagementApiFilter(EngagementFilter):
    """The staff list's filters (one definition), plus the year and a search."""

    project = _typed_engagement("project", OpenApiTypes.INT)
    participant = _typed_engagement("participant", OpenApiTypes.INT)
    country = _typed_engagement("country", OpenApiTypes.STR)
    year = filters.NumberFilter(field_name="date__year", min_value=1, max_value=9999,
                                help_text=_("Engagements in this calendar year."))
    search = filters.CharFilter(method="filter_search",
                                help_text=_("Words in the summary, the location or the other participants, or the "
                                            "exact external id."))

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(summary__icontains=value) | Q(location__icontains=value)
                               | Q(other_participants__icontains=value) | Q(external_id=value))


@extend_schema_view(**tracked_schema(
    EngagementSerializer, idempotent_create=True,
    create_example={"external_id": "mofa-2026-031", "projects": [1], "date": "2026-03-02", "kind": "b2b",
                    "summary": "Shipyards met partner coast guards.", "location": "Manila", "participants": [1],
                    "other_participants": [{"name": "Maria Santos", "organization": "Philippine Coast Guard"}],
                    "industry_organizations": [], "partner_countries": ["PH"]},
    update_example={"summary": "Working-level meeting; minutes attached to the project."},
))
class EngagementViewSet(TrackedRecordViewSet):
    """Coordination engagements the POCs log: about zero or more projects,
    with participants from the POC directory and from outside it."""

    serializer_class = EngagementSerializer
    filterset_class = EngagementApiFilter

    def create_record(self, data):
        return services.engagement_create(by=self.request.user, **data)

    def update_record(self, instance, expected_version, data):
        return services.engagement_update(engagement=instance, by=self.request.user,
                                          expected_version=expected_version, **data)

    def delete_record(self, instance, expected_version):
        return services.engagement_delete(engagement=instance, by=self.request.user,
                                          expected_version=expected_version)

    def restore_record(self, instance):
        return services.engagement_restore(engagement=instance, by=self.request.user)


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


# --- Documents -----------------------------------------------------------------------

from rest_framework.parsers import MultiPartParser  # noqa: E402

from rcf.api import IF_MATCH  # noqa: E402
from rcf.api_policies import LimitedJSONParser  # noqa: E402

from .document_files import KINDS  # noqa: E402
from .document_views import document_file_response, upload_body_limit  # noqa: E402
from .models import Document  # noqa: E402
from .serializers import DocumentSerializer, DocumentUpdateSerializer  # noqa: E402


class DocumentFilter(filters.FilterSet):
    project = filters.NumberFilter(field_name="project_id", min_value=1, max_value=2**63 - 1)
    engagement = filters.NumberFilter(field_name="engagement_id", min_value=1, max_value=2**63 - 1)
    marking = filters.CharFilter(field_name="marking", help_text=_("Documents with this handling marking."))

    class Meta:
        model = Document
        fields = []


class _AbsoluteDownloadUrls:
    """The bulk representation with ``download_url`` made absolute for this
    request's host (one prefix for the whole page)."""

    def __init__(self, base, request):
        self.base = base
        self.prefix = request.build_absolute_uri("/").rstrip("/") if request is not None else ""

    def __getattr__(self, name):
        return getattr(self.base, name)

    def represent(self, rows):
        records = self.base.represent(rows)
        for record in records:
            record["download_url"] = self.prefix + record["download_url"]
        return records

    def one(self, pk):
        return self.represent(self.base.values(self.base.model.all_objects.filter(pk=pk)))[0]


_DOCUMENT_CREATE = extend_schema(
    request={"multipart/form-data": DocumentSerializer},
    responses={201: DocumentSerializer, **error_responses(400, 401, 403, 409, 413, 415, 429)},
    description=_("Upload a document (multipart/form-data: `file`, `title`, `marking`, and `project` or "
                  "`engagement`; optional `external_id`). The type is checked on the content (PDF, DOCX, XLSX, "
                  "PPTX, PNG, JPEG, UTF-8 text) and must agree with the file name; larger than RCF_MAX_UPLOAD_MB: "
                  "400 naming the limit (413 when the whole request is over it). With an external_id that exists "
                  "already: 409 naming the record."),
)


@extend_schema_view(
    **{**tracked_schema(DocumentSerializer, idempotent_create=True, update_example={"marking": "CUI"}),
       "create": _DOCUMENT_CREATE,
       "partial_update": extend_schema(
           request=DocumentUpdateSerializer,
           parameters=[RECORD_ID, IF_MATCH, ETAG_HEADER],
           responses={200: DocumentSerializer, **error_responses(400, 401, 403, 404, 413, 415, 429, 428),
                      412: precondition_failed_response(DocumentSerializer)},
           examples=[OpenApiExample("Change the marking", value={"marking": "CUI"}, request_only=True)],
           description=_("Change the title or the marking; the file, project and engagement are fixed at "
                         "upload."),
       )},
    download=extend_schema(
        parameters=[RECORD_ID],
        responses={**{(200, content_type): OpenApiTypes.BINARY for content_type, _e, _l in KINDS.values()},
                   **error_responses(401, 403, 404, 429)},
        description=_("The file itself, as an attachment (Content-Disposition with the original name), with "
                      "the content type recorded at upload. Deleted documents, and those of a deleted project or "
                      "engagement, answer 404."),
    ),
)
class DocumentViewSet(TrackedRecordViewSet):
    """Documents attached to projects and engagements, with their handling
    markings: metadata, multipart upload, the file at ``download_url``."""

    serializer_class = DocumentSerializer
    filterset_class = DocumentFilter
    parser_classes = [MultiPartParser, LimitedJSONParser]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_permissions = {**TrackedRecordViewSet.action_permissions, "download": "view"}
    # rcf.middleware: a multipart create may be as large as a document (plus the form's framing).
    upload_body_limit = staticmethod(upload_body_limit)

    def get_serializer_class(self):
        if getattr(self, "action", None) in ("update", "partial_update"):
            return DocumentUpdateSerializer
        return DocumentSerializer

    @property
    def representation(self):
        return _AbsoluteDownloadUrls(super().representation, getattr(self, "request", None))

    def perform_content_negotiation(self, request, force=False):
        # A download answers with the file's own type whatever Accept asks;
        # errors on the way answer JSON rather than 406.
        return super().perform_content_negotiation(request, force=force or self.action == "download")

    def create_record(self, data):
        return services.document_upload(by=self.request.user, **data)

    def update_record(self, instance, expected_version, data):
        return services.document_update(document=instance, by=self.request.user,
                                        expected_version=expected_version, **data)

    def delete_record(self, instance, expected_version):
        return services.document_delete(document=instance, by=self.request.user, expected_version=expected_version)

    def restore_record(self, instance):
        return services.document_restore(document=instance, by=self.request.user)

    @action(detail=True, methods=["get"])
    def download(self, request, *args, **kwargs):
        """The file (viewers may): streamed from storage, as an attachment."""
        from .selectors import document_for_download

        document = self.get_object()
        try:
            document = document_for_download(pk=document.pk)
        except Document.DoesNotExist:
            raise exceptions.NotFound() from None
        return document_file_response(document)


# --- Action items --------------------------------------------------------------------

from .action_filters import ActionApiFilter  # noqa: E402
from .serializers import ActionItemSerializer  # noqa: E402


@extend_schema_view(**tracked_schema(
    ActionItemSerializer, idempotent_create=True,
    create_example={"external_id": "mtg-2026-03-02-1", "title": "Send the draft training plan to MOFA",
                    "owner": 1, "project": 1, "engagement": 1, "due_on": "2026-03-16"},
    update_example={"status": "done"},
))
class ActionItemViewSet(TrackedRecordViewSet):
    """Action items: what a POC has to do by when, for a project, as an
    engagement's follow-up, or on its own. The owner gets one reminder e-mail
    a day while any of theirs is overdue or due soon."""

    serializer_class = ActionItemSerializer
    filterset_class = ActionApiFilter

    def create_record(self, data):
        return services.action_create(by=self.request.user, **data)

    def update_record(self, instance, expected_version, data):
        return services.action_update(action=instance, by=self.request.user, expected_version=expected_version,
                                      **data)

    def delete_record(self, instance, expected_version):
        return services.action_delete(action=instance, by=self.request.user, expected_version=expected_version)

    def restore_record(self, instance):
        return services.action_restore(action=instance, by=self.request.user)


# --- Progress and milestones ---

from rcf.selectors import framework_today  # noqa: E402

from .models import Health, Milestone, ProgressUpdate  # noqa: E402
from .selectors import milestone_overdue_q  # noqa: E402
from .serializers import MilestoneSerializer, ProgressUpdateSerializer  # noqa: E402

_ID = {"min_value": 1, "max_value": 2**63 - 1}


class ProgressUpdateFilter(filters.FilterSet):
    project = filters.NumberFilter(field_name="project_id", help_text=_("Updates of this project."), **_ID)
    health = filters.ChoiceFilter(choices=Health.choices, help_text=_("Updates giving this health."))
    date_from = filters.DateFilter(field_name="date", lookup_expr="gte", help_text=_("Dated on or after."))
    date_to = filters.DateFilter(field_name="date", lookup_expr="lte", help_text=_("Dated on or before."))

    class Meta:
        model = ProgressUpdate
        fields = []


class MilestoneFilter(filters.FilterSet):
    project = filters.NumberFilter(field_name="project_id", help_text=_("Milestones of this project."), **_ID)
    overdue = filters.BooleanFilter(method="filter_overdue", help_text=_(
        "true: not done and due before today (the framework's time zone); false: the others."))
    done = filters.BooleanFilter(field_name="done_on", lookup_expr="isnull", exclude=True,
                                 help_text=_("true: done; false: not done yet."))
    due_from = filters.DateFilter(field_name="due_on", lookup_expr="gte", help_text=_("Due on or after."))
    due_to = filters.DateFilter(field_name="due_on", lookup_expr="lte", help_text=_("Due on or before."))

    class Meta:
        model = Milestone
        fields = []

    def filter_overdue(self, queryset, name, value):
        overdue = milestone_overdue_q(framework_today())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


@extend_schema_view(**tracked_schema(
    ProgressUpdateSerializer, idempotent_create=True,
    create_example={"external_id": "mnd-2026-014-q3", "project": 1, "date": "2026-09-30", "health": "at_risk",
                    "narrative": "Training delayed by the typhoon season.",
                    "next_steps": "Reschedule the Fiji module."},
    update_example={"health": "on_track"},
))
class ProgressUpdateViewSet(TrackedRecordViewSet):
    """Progress updates: a project's health (on track, at risk, off track) on
    a date and what happened. The latest by date is the project's health."""

    serializer_class = ProgressUpdateSerializer
    filterset_class = ProgressUpdateFilter

    def create_record(self, data):
        return services.progress_update_create(by=self.request.user, **data)

    def update_record(self, instance, expected_version, data):
        return services.progress_update_update(update=instance, by=self.request.user,
                                               expected_version=expected_version, **data)

    def delete_record(self, instance, expected_version):
        return services.progress_update_delete(update=instance, by=self.request.user,
                                               expected_version=expected_version)

    def restore_record(self, instance):
        return services.progress_update_restore(update=instance, by=self.request.user)


@extend_schema_view(**tracked_schema(
    MilestoneSerializer, idempotent_create=True,
    create_example={"external_id": "mnd-2026-014-m1", "project": 1, "title": "First training course held",
                    "due_on": "2026-10-15"},
    update_example={"done_on": "2026-10-14"},
))
class MilestoneViewSet(TrackedRecordViewSet):
    """Milestones: the dated steps of a project's implementation, shown as a
    timeline on the project page; overdue while not done after the due date."""

    serializer_class = MilestoneSerializer
    filterset_class = MilestoneFilter

    def create_record(self, data):
        return services.milestone_create(by=self.request.user, **data)

    def update_record(self, instance, expected_version, data):
        return services.milestone_update(milestone=instance, by=self.request.user,
                                         expected_version=expected_version, **data)

    def delete_record(self, instance, expected_version):
        return services.milestone_delete(milestone=instance, by=self.request.user,
                                         expected_version=expected_version)

    def restore_record(self, instance):
        return services.milestone_restore(milestone=instance, by=self.request.user)


# --- Resource lines ---

from .models import Currency, ResourceKind, ResourceLine, ResourceSide  # noqa: E402
from .serializers import ResourceLineSerializer  # noqa: E402


class ResourceLineFilter(filters.FilterSet):
    project = filters.NumberFilter(field_name="project_id", help_text=_("Lines of this project."), **_ID)
    side = filters.ChoiceFilter(choices=ResourceSide.choices, help_text=_("Lines of this side."))
    kind = filters.ChoiceFilter(choices=ResourceKind.choices, help_text=_("Lines of this kind."))
    currency = filters.ChoiceFilter(choices=Currency.choices, help_text=_("Lines in this currency."))
    fiscal_year = filters.NumberFilter(min_value=1950, max_value=2100, help_text=_("Lines for this fiscal year."))

    class Meta:
        model = ResourceLine
        fields = []


@extend_schema_view(**tracked_schema(
    ResourceLineSerializer, idempotent_create=True,
    create_example={"external_id": "mnd-2026-014-r1", "project": 1, "side": "us", "source": "FMF",
                    "fiscal_year": 2026, "kind": "committed", "amount": "1250000.00", "currency": "USD",
                    "note": "Training courses."},
    update_example={"kind": "spent"},
))
class ResourceLineViewSet(TrackedRecordViewSet):
    """Resource lines: a project's resources by side, source, fiscal year and
    kind (planned, committed, spent), each in USD or KRW. The pages total them
    per side, kind and currency, never adding one currency to another."""

    serializer_class = ResourceLineSerializer
    filterset_class = ResourceLineFilter

    def create_record(self, data):
        return services.resource_line_create(by=self.request.user, **data)

    def update_record(self, instance, expected_version, data):
        return services.resource_line_update(line=instance, by=self.request.user, expected_version=expected_version,
                                             **data)

    def delete_record(self, instance, expected_version):
        return services.resource_line_delete(line=instance, by=self.request.user, expected_version=expected_version)

    def restore_record(self, instance):
        return services.resource_line_restore(line=instance, by=self.request.user)

"""The REST API for sync clients, under /api/v1/ (issue 6).

The schema (OpenAPI 3) and Swagger UI are served from this site, with no
CDN: the Swagger assets come from drf-spectacular-sidecar, and the split view
loads its start-up script from a URL of its own, as the Content-Security-Policy
(``script-src 'self'``) requires.
"""

from django.http import JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from contacts.api import OrganizationViewSet, PointOfContactViewSet
from projects.api import (
    ActionItemViewSet,
    ConcurrenceViewSet,
    DocumentViewSet,
    EngagementViewSet,
    MilestoneViewSet,
    ProgressUpdateViewSet,
    ProjectViewSet,
    ResourceLineViewSet,
)
from scm_reports.api import ReadinessFlagViewSet, ReadinessViewSet, SCMCycleViewSet, SCMPresentationViewSet

from .api import PartnerCountryViewSet, PriorityAreaViewSet
from .webhook_api import WebhookEndpointViewSet

app_name = "api"

router = SimpleRouter()
router.register("priority-areas", PriorityAreaViewSet, basename="priority-area")
router.register("countries", PartnerCountryViewSet, basename="country")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("contacts", PointOfContactViewSet, basename="contact")
router.register("projects", ProjectViewSet, basename="project")
router.register("engagements", EngagementViewSet, basename="engagement")
router.register("concurrences", ConcurrenceViewSet, basename="concurrence")
router.register("scm-cycles", SCMCycleViewSet, basename="scm-cycle")
router.register("readiness", ReadinessViewSet, basename="readiness")
router.register("flags", ReadinessFlagViewSet, basename="flag")
router.register("scm-presentations", SCMPresentationViewSet, basename="scm-presentation")
router.register("documents", DocumentViewSet, basename="document")
router.register("actions", ActionItemViewSet, basename="action")
router.register("progress-updates", ProgressUpdateViewSet, basename="progress-update")
router.register("milestones", MilestoneViewSet, basename="milestone")
router.register("resource-lines", ResourceLineViewSet, basename="resource-line")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")



@csrf_exempt  # it changes nothing, and a PUT to a wrong URL should hear "not found", not "CSRF"
def not_found(request, path):
    """Anything else under /api/v1/: a JSON 404, not the staff site's HTML page."""
    return JsonResponse({"detail": _("No such API endpoint (API URLs end with a slash).")}, status=404)


class ApiIndexView(APIView):
    """``GET /api/v1/``: what the API offers, so a client can start from its root (issue 13): each
    resource's list URL, the schema and the documentation. Signed in like every other endpoint."""

    def get(self, request):
        resources = {prefix: reverse(f"api:{basename}-list", request=request)
                     for prefix, _viewset, basename in router.registry}
        return Response({
            "version": "v1",
            "resources": resources,
            "schema": reverse("api:schema", request=request),
            "docs": reverse("api:docs", request=request),
        })


urlpatterns = [
    path("", extend_schema(exclude=True)(ApiIndexView).as_view(), name="index"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("", include(router.urls)),
    re_path(r"^(?P<path>.*)$", not_found),
]

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import selectors


@never_cache
@require_GET
def healthz(request):
    """Database and broker reachability, for load balancers and CI."""
    report = selectors.health_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)

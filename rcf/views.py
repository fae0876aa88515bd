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


def permission_denied(request, exception=None):
    from django.shortcuts import render

    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def page_not_found(request, exception=None):
    from django.shortcuts import render

    return render(request, "404.html", status=404)

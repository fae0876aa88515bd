from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import View
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


class StaffView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """A staff page: anonymous visitors go to the login page; a signed-in user
    without the permission gets 403. The server checks; hiding a button is
    only a courtesy."""

    def handle_no_permission(self):
        if self.request.user.is_authenticated:
            raise PermissionDenied(_("Your role does not allow this."))
        return super().handle_no_permission()

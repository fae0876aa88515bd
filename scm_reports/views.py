"""SCM cycles and the POC dashboard (thin: reads come from selectors)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from rcf.selectors import framework_today
from rcf.services import VersionConflict
from rcf.views import StaffView

from . import selectors, services
from .forms import SCMCycleForm
from .models import SCMCycle


class CycleListView(StaffView):
    permission_required = "scm_reports.view_scmcycle"

    def get(self, request):
        readiness = {r.year: r for r in selectors.readiness_by_year(today=framework_today())}
        cycles = [{"cycle": c, "readiness": readiness.get(c.year), "deadline": selectors.cycle_deadline(c)}
                  for c in SCMCycle.objects.order_by("-year")]
        unscheduled = [r for r in readiness.values() if r.state == "unscheduled"]
        return render(request, "scm_reports/cycle_list.html", {"cycles": cycles, "unscheduled": unscheduled})


class CycleFormView(StaffView):
    def get_permission_required(self):
        return ["scm_reports.change_scmcycle" if self.kwargs.get("pk") else "scm_reports.add_scmcycle"]

    def _cycle(self, pk):
        if pk is None:
            return None
        try:
            return SCMCycle.objects.get(pk=pk)
        except SCMCycle.DoesNotExist:
            raise Http404 from None

    def get(self, request, pk=None):
        cycle = self._cycle(pk)
        return render(request, "scm_reports/cycle_form.html", {"form": SCMCycleForm(instance=cycle), "cycle": cycle})

    def post(self, request, pk=None):
        cycle = self._cycle(pk)
        form = SCMCycleForm(request.POST, instance=cycle)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
            try:
                if cycle is None:
                    services.scm_cycle_create(by=request.user, **data)
                else:
                    services.scm_cycle_update(cycle=SCMCycle.objects.get(pk=pk), by=request.user,
                                              expected_version=form.cleaned_data.get("version") or cycle.version,
                                              **data)
            except VersionConflict:
                form.add_error(None, _("Someone else changed this SCM cycle after you opened it. Nothing was "
                                       "saved; reload the page to see their change."))
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("SCM cycle saved."))
                return redirect(reverse("scm_reports:cycle_list"))
        return render(request, "scm_reports/cycle_form.html", {"form": form, "cycle": cycle}, status=400)


class DashboardView(StaffView):
    permission_required = "projects.view_cooperativeproject"

    def get(self, request):
        return render(request, "scm_reports/dashboard.html", {})

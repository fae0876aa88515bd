"""Staff pages for engagements (``/engagements/``): the list with its
filters, an engagement's page, and logging, editing and deleting them.
Thin: writes call projects.services, reads projects.selectors."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from rcf.services import VersionConflict
from rcf.views import StaffView, render_filtered_list, save_with_version_check

from . import selectors, services
from .engagement_filters import EngagementFilter
from .engagement_forms import EngagementForm
from .models import CooperativeProject, Engagement


def can_add_follow_ups(user) -> bool:
    return user.has_perm("projects.add_actionitem")


def create_engagement(request, form: EngagementForm, *, follow_up_project=None) -> Engagement | None:
    """Validate ``form`` and log the engagement with its follow-up actions
    (one transaction); None, with the service's messages on the form, when
    refused."""
    if not form.is_valid():
        return None
    rows = form.follow_up_data()
    data = form.service_data()
    if follow_up_project is not None:
        # Logged from a project's page: its follow-ups are that project's actions (on its page).
        rows = [{**row, "project": follow_up_project} for row in rows]
    try:
        engagement = services.engagement_create(by=request.user, follow_up_actions=rows, **data)
    except ValidationError as error:
        form.apply_service_errors(error)
        return None
    if rows:
        messages.success(request, _("Engagement logged with %(count)d follow-up action(s).") % {"count": len(rows)})
    else:
        messages.success(request, _("Engagement logged."))
    return engagement


def _get_engagement(pk) -> Engagement:
    try:
        return selectors.engagement_detail(pk=pk)
    except Engagement.DoesNotExist:
        raise Http404(_("No such engagement.")) from None


class EngagementListView(StaffView):
    permission_required = "projects.view_engagement"
    paginate_by = 25

    def get(self, request):
        from rcf.list_filters import filter_bar, filter_chips, sort_headers

        filterset = EngagementFilter(request.GET or None, queryset=selectors.engagement_list())
        for field in filterset.form.fields.values():
            field.help_text = ""  # the API's wording (ids, ISO codes); the page's controls say it themselves
        if not filterset.is_bound:
            queryset = filterset.queryset
        else:  # a value the filter does not understand lists nothing, and the page says which (filter_errors)
            queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
        # The date column sorts both ways (newest first by default).
        sort = request.GET.get("sort") if request.GET.get("sort") in ("date", "-date") else "-date"
        queryset = queryset.order_by(sort, sort.replace("date", "id"))
        chips = filter_chips(filterset, request.GET)
        return render_filtered_list(request, filterset=filterset, queryset=queryset, name="engagements",
                                    per_page=self.paginate_by,
                                    page_template="projects/engagements/engagement_list.html",
                                    results_template="projects/engagements/_results.html",
                                    chips=chips, sort=sort,
                                    headers=sort_headers(request.GET, sort, [("date", _("Date"))]),
                                    **filter_bar(filterset, chips, request.GET, ("kind",),
                                                 ("project", "participant", "country", "date_after",
                                                  "date_before")))


class EngagementDetailView(StaffView):
    permission_required = "projects.view_engagement"

    def get(self, request, pk):
        engagement = _get_engagement(pk)
        return render(request, "projects/engagements/engagement_detail.html", {
            "engagement": engagement,
            "can_edit": request.user.has_perm("projects.change_engagement"),
            "can_delete": request.user.has_perm("projects.delete_engagement"),
        })


class EngagementCreateView(StaffView):
    """Log an engagement on its own page; ``?project=<id>`` preselects a project."""

    permission_required = "projects.add_engagement"
    template_name = "projects/engagements/engagement_form.html"

    def _project(self, request):
        value = request.GET.get("project", "")
        if value.isascii() and value.isdigit() and len(value) < 19:
            return CooperativeProject.objects.filter(pk=int(value)).first()
        return None

    def get(self, request):
        project = self._project(request)
        form = EngagementForm(project=project, with_follow_ups=can_add_follow_ups(request.user))
        return render(request, self.template_name, {"form": form, "project": project})

    def post(self, request):
        project = self._project(request)
        form = EngagementForm(request.POST, project=project, with_follow_ups=can_add_follow_ups(request.user))
        engagement = create_engagement(request, form)
        if engagement is not None:
            return redirect("engagements:detail", pk=engagement.pk)
        return render(request, self.template_name, {"form": form, "project": project}, status=400)


class EngagementUpdateView(StaffView):
    permission_required = "projects.change_engagement"
    template_name = "projects/engagements/engagement_form.html"

    def get(self, request, pk):
        engagement = _get_engagement(pk)
        return render(request, self.template_name, {"form": EngagementForm(instance=engagement),
                                                    "engagement": engagement})

    def post(self, request, pk):
        engagement = _get_engagement(pk)
        form = EngagementForm(request.POST, instance=engagement)
        conflict = None
        if form.is_valid():
            expected = form.cleaned_data.get("version") or engagement.version
            # The bound form wrote the input into `engagement`: the service gets the stored record.
            saved, conflict = save_with_version_check(form, lambda: services.engagement_update(
                engagement=Engagement.objects.get(pk=pk), by=request.user, expected_version=expected,
                **form.service_data()), rebase=False, conflict_message=lambda exc: _(
                    "Someone else changed this engagement after you opened it (it is now at version %(version)s). "
                    "Nothing was saved: reload the page to see their changes, then make yours again.")
                % {"version": exc.current.version})
            if saved:
                messages.success(request, _("Engagement saved."))
                return redirect("engagements:detail", pk=pk)
        return render(request, self.template_name, {"form": form, "engagement": _get_engagement(pk)},
                      status=409 if conflict else 400)


class EngagementDeleteView(StaffView):
    permission_required = "projects.delete_engagement"

    def get(self, request, pk):
        return render(request, "projects/engagements/engagement_confirm_delete.html",
                      {"engagement": _get_engagement(pk)})

    def post(self, request, pk):
        engagement = _get_engagement(pk)
        version = request.POST.get("version", "")
        expected = int(version) if version.isascii() and version.isdigit() and len(version) < 10 else None
        try:
            services.engagement_delete(engagement=engagement, by=request.user, expected_version=expected)
        except VersionConflict:
            messages.error(request, _("The engagement changed while you were looking at it; nothing was deleted. "
                                      "Check it and try again."))
            return redirect("engagements:detail", pk=pk)
        messages.success(request, _("Engagement of %(date)s deleted. An administrator can restore it.")
                         % {"date": date_format(engagement.date, "DATE_FORMAT")})
        return redirect(reverse("engagements:list"))

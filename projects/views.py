"""Staff pages for cooperative projects. Thin: every write calls
projects.services; every read comes from projects.selectors."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from contacts.selectors import acting_lead_poc
from rcf.selectors import framework_today
from rcf.services import VersionConflict
from rcf.views import StaffView, apply_service_errors, render_filtered_list, save_with_version_check

from . import selectors, services
from .engagement_forms import EngagementForm
from .filters import ProjectFilter
from .forms import ConcurrenceAnswerForm, ProjectForm, TransitionForm
from .history import changes_since, history_entries
from .models import Concurrence, CooperativeProject, ProjectStatus


def _get_project(request, pk, *, include_deleted=False):
    try:
        return selectors.project_detail(pk=pk, include_deleted=include_deleted)
    except CooperativeProject.DoesNotExist:
        raise Http404(_("No such project.")) from None


def _filtered_projects(request):
    filterset = ProjectFilter(request.GET or None, queryset=selectors.project_list())
    if not filterset.is_bound:
        return filterset, filterset.queryset.order_by("-updated_at", "-id")
    if filterset.is_valid():
        return filterset, filterset.qs
    # A value the filter does not understand: nothing rather than everything (an export of "ready"
    # projects with a mistyped sort must not be the whole database); the page says which value.
    return filterset, filterset.queryset.none()


class ProjectListView(StaffView):
    permission_required = "projects.view_cooperativeproject"
    paginate_by = 25

    def get(self, request):
        from rcf import keyset

        from .filters import list_count_cap, list_ordering, project_list_context

        filterset, queryset = _filtered_projects(request)
        # Seek pagination (rcf.keyset): "Next" carries where this page ended, so a deep page costs what the
        # first does; ?page=N links still work. The count stops at keyset.COUNT_CAP (a search's lower).
        page = keyset.paginate(queryset, list_ordering(filterset), per_page=self.paginate_by,
                               cursor=request.GET.get("cursor"), page=request.GET.get("page"),
                               cap=list_count_cap(filterset))
        return render_filtered_list(request, filterset=filterset, queryset=queryset, name="projects", page=page,
                                    per_page=self.paginate_by, page_template="projects/project_list.html",
                                    results_template="projects/_results.html",
                                    **project_list_context(filterset, request.GET))


class ProjectDetailView(StaffView):
    permission_required = "projects.view_cooperativeproject"

    def get(self, request, pk):
        project = _get_project(request, pk, include_deleted=request.user.has_perm(
            "projects.restore_cooperativeproject"))
        return render(request, "projects/project_detail.html", self.context(request, project))

    @staticmethod
    def context(request, project, **extra):
        # The stepper (issue 12): every step open from here, allowed or refused with the reasons the
        # service itself gives (projects.services.transition_problems).
        stepper = selectors.step_requirements(project=project, user=request.user)
        primary = next((row for row in stepper if row["direction"] == "forward"), None)
        proposal = services.open_proposal(project=project) if not project.is_deleted else None
        acting = acting_lead_poc(request.user)
        return {
            "project": project,
            "stepper": stepper,
            "primary_step": primary,
            "other_steps": [row for row in stepper if row is not primary],
            "lifecycle_path": selectors.lifecycle_path(project),
            "project_form_fields": selectors.PROJECT_FORM_FIELDS,
            # Joint concurrence (templates/projects/_concurrence.html).
            "proposal": proposal,
            "can_answer": bool(proposal and acting and acting.side != proposal.side
                               and services.can_act_as_lead(request.user)),
            "can_withdraw": bool(proposal and acting and acting.side == proposal.side
                                 and services.can_act_as_lead(request.user)),
            "history": history_entries(project),
            "engagement_form": extra.pop("engagement_form", None) or EngagementForm(
                fixed_project=project, with_follow_ups=request.user.has_perm("projects.add_actionitem")),
            "transition_form": extra.pop("transition_form", None),
            "can_edit": request.user.has_perm("projects.change_cooperativeproject") and not project.is_deleted,
            "can_delete": request.user.has_perm("projects.delete_cooperativeproject") and not project.is_deleted,
            "can_restore": request.user.has_perm("projects.restore_cooperativeproject") and project.is_deleted,
            "can_log": request.user.has_perm("projects.add_engagement") and not project.is_deleted,
            **extra,
        }


class ProjectCreateView(StaffView):
    permission_required = "projects.add_cooperativeproject"

    def get(self, request):
        return render(request, "projects/project_form.html", {"form": ProjectForm(user=request.user)})

    def post(self, request):
        form = ProjectForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                project = services.project_create(by=request.user, **form.service_data())
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Project “%(title)s” created.") % {"title": project.localized_title})
                return redirect("projects:detail", pk=project.pk)
        return render(request, "projects/project_form.html", {"form": form}, status=400)


class ProjectUpdateView(StaffView):
    permission_required = "projects.change_cooperativeproject"

    def get(self, request, pk):
        project = _get_project(request, pk)
        return render(request, "projects/project_form.html",
                      {"form": ProjectForm(instance=project, user=request.user), "project": project})

    def post(self, request, pk):
        project = _get_project(request, pk)
        saved_title = project.localized_title  # the bound form writes the user's input into `project`
        form = ProjectForm(request.POST, instance=project, user=request.user)
        conflict = None
        if form.is_valid():
            expected = form.cleaned_data.get("version") or project.version
            saved, stale = save_with_version_check(form, lambda: services.project_update(
                project=CooperativeProject.objects.get(pk=pk), by=request.user, expected_version=expected,
                **form.service_data()), conflict_message=_(
                    "Someone else changed this project after you opened it. Nothing was saved. Review their "
                    "changes below, then save again to apply yours."))
            if saved:
                messages.success(request, _("Project saved."))
                return redirect("projects:detail", pk=pk)
            if stale:
                conflict = {"current": stale.current, "changes": changes_since(stale.current, expected)}
        if conflict:
            saved_title = conflict["current"].localized_title
        return render(request, "projects/project_form.html",
                      {"form": form, "project": project, "conflict": conflict, "saved_title": saved_title},
                      status=409 if conflict else 400)


class ProjectTransitionView(StaffView):
    """One lifecycle step. A refused step re-renders the project page with the
    note kept and the reason next to the step's form (which takes the focus)."""

    permission_required = "projects.change_cooperativeproject"

    def post(self, request, pk):
        project = _get_project(request, pk)
        form = TransitionForm(request.POST)
        if not form.is_valid():
            return self.refused(request, project, form, _("The step was refused: %(errors)s") % {
                "errors": "; ".join(f"{form.fields[f].label if f in form.fields else ''} {' '.join(e)}".strip()
                                    for f, e in form.errors.items())})
        data = form.cleaned_data
        try:
            result = services.project_transition(
                project=CooperativeProject.objects.get(pk=pk), to=data["to"], by=request.user, note=data["note"],
                ready_on=data["ready_on"], priority=data["priority"], expected_version=data["version"] or None)
        except VersionConflict:
            return self.refused(request, _get_project(request, pk), form, _(
                "The project changed while you were looking at it; nothing was done. Check its current state "
                "and try again."), status=409)
        except PermissionDenied as refusal:
            return self.refused(request, project, form, _("The step to “%(to)s” was refused: %(reasons)s") % {
                "to": ProjectStatus(data["to"]).label, "reasons": str(refusal)}, status=403)
        except ValidationError as error:
            # A proposal already made by the other side (two leads at once) is a conflict, as in the API.
            status = 409 if isinstance(error, services.ProposalConflict) else 400
            reasons = [f"{' '.join(m)}" for m in error.message_dict.values()] if hasattr(error, "error_dict") \
                else error.messages
            if hasattr(error, "error_dict"):
                for field, messages_ in error.message_dict.items():
                    if field in ("priority", "ready_on", "note"):
                        form.add_error(field, messages_)
            return self.refused(request, project, form, _("The step to “%(to)s” was refused: %(reasons)s") % {
                "to": ProjectStatus(data["to"]).label, "reasons": " ".join(reasons)}, status=status)
        if isinstance(result, Concurrence):
            messages.success(request, _("Proposed “%(status)s”: %(awaiting)s.") % {
                "status": ProjectStatus(data["to"]).label, "awaiting": result.awaiting_label()})
        else:
            messages.success(request, _("The project is now “%(status)s”.") % {
                "status": ProjectStatus(data["to"]).label})
        return redirect("projects:detail", pk=project.pk)

    @staticmethod
    def refused(request, project, form, message, status=400):
        return render(request, "projects/project_detail.html", ProjectDetailView.context(
            request, project, transition_form=form, step_error=message,
            step_error_to=form.data.get("to", "")), status=status)


class ConcurrenceAnswerView(StaffView):
    """A lead POC concurs with, declines or withdraws the open proposal
    (projects.services.concurrence_*); the page says what happened."""

    permission_required = "projects.change_cooperativeproject"

    def post(self, request, pk, answer):
        proposal = get_object_or_404(Concurrence.objects.select_related("project"), pk=pk)
        form = ConcurrenceAnswerForm(request.POST)
        target = reverse("projects:detail", args=[proposal.project_id]) + "#concurrence"
        if not form.is_valid():
            messages.error(request, _("Nothing was done: %(errors)s") % {
                "errors": "; ".join(" ".join(e) for e in form.errors.values())})
            return redirect(target)
        data = form.cleaned_data
        service = {"concur": services.concurrence_concur, "decline": services.concurrence_decline,
                   "withdraw": services.concurrence_withdraw}[answer]
        kwargs = {"concurrence": proposal, "by": request.user, "note": data["note"],
                  "expected_version": data["version"] or None}
        if answer == "concur":
            kwargs["project_version"] = data["project_version"] or None
        try:
            service(**kwargs)  # PermissionDenied: the 403 page, naming why
        except VersionConflict:
            messages.error(request, _("The proposal changed while you were looking at it; nothing was done. "
                                      "Check it again."))
        except ValidationError as error:
            reasons = [" ".join(m) for m in error.message_dict.values()] if hasattr(error, "error_dict") \
                else error.messages
            messages.error(request, _("Nothing was done: %(reasons)s") % {"reasons": " ".join(reasons)})
        else:
            done = {
                "concur": _("You concurred: the project is now “%(status)s”."),
                "decline": _("You declined the proposal to move the project to “%(status)s”."),
                "withdraw": _("You withdrew the proposal to move the project to “%(status)s”."),
            }[answer]
            messages.success(request, done % {"status": ProjectStatus(proposal.step).label})
        return redirect(target)


class ProjectDeleteView(StaffView):
    permission_required = "projects.delete_cooperativeproject"

    def get(self, request, pk):
        return render(request, "projects/project_confirm_delete.html", {"project": _get_project(request, pk)})

    def post(self, request, pk):
        project = _get_project(request, pk)
        services.project_soft_delete(project=project, by=request.user)
        messages.success(request, _("Project “%(title)s” deleted. An administrator can restore it.") % {
            "title": project.localized_title})
        return redirect("projects:list")


class ProjectRestoreView(StaffView):
    permission_required = "projects.restore_cooperativeproject"

    def post(self, request, pk):
        project = get_object_or_404(CooperativeProject.all_objects, pk=pk)
        try:
            services.project_restore(project=project, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Project restored."))
        return redirect("projects:detail", pk=pk)


class EngagementCreateView(StaffView):
    """The project page's "Log an engagement": the project preselected, with
    follow-up actions (projects.engagement_views.create_engagement)."""

    permission_required = "projects.add_engagement"

    def post(self, request, pk):
        from .engagement_views import can_add_follow_ups, create_engagement

        project = _get_project(request, pk)
        form = EngagementForm(request.POST, fixed_project=project, with_follow_ups=can_add_follow_ups(request.user))
        done = reverse("projects:detail", args=[pk]) + "#engagements"
        if create_engagement(request, form, follow_up_project=project) is not None:
            if request.htmx:
                # The page again (the new engagement, its follow-up actions), at its engagements: a
                # redirect to the same page with only a new #fragment needs the reload too.
                response = HttpResponseClientRedirect(done)
                response["HX-Refresh"] = "true"
                return response
            return redirect(done)
        if request.htmx:
            # Only the form comes back, where the user is, its error summary focused (rcf.js); 200: htmx
            # swaps only a successful response.
            return render(request, "projects/engagements/_log_form_body.html",
                          {"project": project, "engagement_form": form})
        # Without script: the whole page, at the form (its action ends in #log-engagement).
        project = _get_project(request, pk)
        return render(request, "projects/project_detail.html",
                      ProjectDetailView.context(request, project, engagement_form=form), status=400)


class ProjectExportView(StaffView):
    """The list with its current filters, as CSV or XLSX; ``?id=1&id=2`` (the
    rows ticked on the list) exports just those. A CSV is streamed; an export
    larger than the request may make (``RCF_EXPORT_INLINE_ROWS``,
    ``RCF_EXPORT_INLINE_CSV_ROWS``) becomes a background job, and the answer
    is its progress page (rcf.export_jobs)."""

    permission_required = "projects.view_cooperativeproject"

    def get(self, request, fmt):
        from rcf import export_jobs
        from rcf.export_views import start_export
        from rcf.exports import csv_response, xlsx_response

        from .exports import export_queryset, project_columns, project_rows

        queryset = export_queryset(request.GET)
        stamp = framework_today().isoformat()
        filename = f"rcf-projects-{stamp}.{fmt}"
        if export_jobs.too_many_rows(queryset, fmt):
            return start_export(request, kind="projects", fmt=fmt, file_name=filename,
                                params={"query": request.GET.urlencode()}, more_than=export_jobs.inline_rows(fmt))
        rows = project_rows(queryset)
        # ?headers=keys: the language-independent column keys (for scripts) instead of the labels.
        header = project_columns(keys=request.GET.get("headers") == "keys")
        if fmt == "csv":
            return csv_response(filename=filename, header=header, rows=rows)
        return xlsx_response(filename=filename, sheets=[(_("Projects"), header, rows)])

    def post(self, request, fmt):
        """The "Make the file" button of a large export (a background job is made only by a POST)."""
        return self.get(request, fmt)

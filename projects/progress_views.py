"""Staff pages for progress updates and milestones (issue 11): post an
update, add a milestone, mark a milestone done, all from the project page.
Thin: writes through projects.services. A refused form re-renders the project
page with each message beside its field and the input kept (400)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from rcf.selectors import framework_today
from rcf.services import VersionConflict
from rcf.views import StaffView, apply_service_errors

from . import services
from .models import Milestone
from .progress_forms import MilestoneDoneForm, MilestoneForm, ProgressUpdateForm
from .views import ProjectDetailView, _get_project

ANCHOR = "#implementation"


def _project_page(request, pk):
    return redirect(reverse("projects:detail", args=[pk]) + ANCHOR)


def _refused(request, project_pk, **forms):
    """The project page again, the refused form showing its messages."""
    project = _get_project(request, project_pk)
    return render(request, "projects/project_detail.html",
                  ProjectDetailView.context(request, project, **forms), status=400)


class ProgressUpdateCreateView(StaffView):
    permission_required = "projects.add_progressupdate"

    def post(self, request, pk):
        project = _get_project(request, pk)
        form = ProgressUpdateForm(request.POST)
        if form.is_valid():
            try:
                services.progress_update_create(by=request.user, project=project, today=framework_today(),
                                                **form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Progress update posted."))
                return _project_page(request, pk)
        return _refused(request, pk, progress_form=form)


class MilestoneCreateView(StaffView):
    permission_required = "projects.add_milestone"

    def post(self, request, pk):
        project = _get_project(request, pk)
        form = MilestoneForm(request.POST)
        if form.is_valid():
            try:
                services.milestone_create(by=request.user, project=project, today=framework_today(),
                                          **form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Milestone added."))
                return _project_page(request, pk)
        return _refused(request, pk, milestone_form=form)


class MilestoneDoneView(StaffView):
    """One click "Done" on the timeline (done today), version-checked."""

    permission_required = "projects.change_milestone"

    def post(self, request, pk):
        milestone = get_object_or_404(Milestone, pk=pk)
        form = MilestoneDoneForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Nothing was done: the page was out of date. Reload it and try again."))
            return _project_page(request, milestone.project_id)
        try:
            services.milestone_mark_done(milestone=milestone, by=request.user,
                                         expected_version=form.cleaned_data["version"], today=framework_today())
        except VersionConflict:
            messages.error(request, _("The milestone “%(title)s” changed while you were looking at it; nothing "
                                      "was done. Check it and try again.") % {"title": milestone.title})
        except ValidationError as error:
            reasons = [" ".join(m) for m in error.message_dict.values()] if hasattr(error, "error_dict") \
                else error.messages
            messages.error(request, _("The milestone “%(title)s” was not marked done: %(reasons)s") % {
                "title": milestone.title, "reasons": " ".join(reasons)})
        else:
            messages.success(request, _("Milestone “%(title)s” marked done.") % {"title": milestone.title})
        return _project_page(request, milestone.project_id)

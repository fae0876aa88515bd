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
from django.utils.translation import gettext_lazy as _lazy

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


class _ProjectRecordCreateView(StaffView):
    """Add a record to a project from its page: ``form_class`` validates,
    ``create_service`` writes (``by``, ``project``, ``today`` and the form's
    data); refused, the project page again with the form as ``context_name``."""

    form_class = None
    create_service = None
    context_name = ""
    success_message = ""

    def post(self, request, pk):
        project = _get_project(request, pk)
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                type(self).create_service(by=request.user, project=project, today=framework_today(),
                                          **form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, self.success_message)
                return _project_page(request, pk)
        return _refused(request, pk, **{self.context_name: form})


class ProgressUpdateCreateView(_ProjectRecordCreateView):
    permission_required = "projects.add_progressupdate"
    form_class = ProgressUpdateForm
    create_service = services.progress_update_create
    context_name = "progress_form"
    success_message = _lazy("Progress update posted.")


class MilestoneCreateView(_ProjectRecordCreateView):
    permission_required = "projects.add_milestone"
    form_class = MilestoneForm
    create_service = services.milestone_create
    context_name = "milestone_form"
    success_message = _lazy("Milestone added.")


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

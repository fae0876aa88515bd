"""Staff pages for resource lines (issue 11): add a line from the project
page, edit it on a page of its own, delete it. Thin: writes through
projects.services (resource_line_create / _update / _delete), which apply
the rules and name the field of each refusal. A refused add re-renders the
project page with each message beside its field and the input kept (400)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from rcf.services import VersionConflict
from rcf.views import StaffView, apply_service_errors

from . import services
from .models import Currency, ResourceKind, ResourceLine, ResourceSide
from .views import ProjectDetailView, _get_project

ANCHOR = "#resources"
RESOURCE_PREFIX = "resource"


def _choose(choices):
    return [("", _lazy("Choose…")), *choices]


class ResourceLineForm(forms.Form):
    """The fields a user sets on a line. Only the form-level checks (a
    choice from the list, a number) are here; the rules (side required, no
    negative amount, fiscal year in range, whole won) are the service's, so
    the page, the API and the admin give the same messages."""

    side = forms.ChoiceField(label=_lazy("Side"), choices=_choose(ResourceSide.choices),
                             help_text=_lazy("Whose resources these are."))
    source = forms.CharField(label=_lazy("Source"), max_length=200, required=False,
                             help_text=_lazy("Where the resources come from, e.g. a programme name."))
    fiscal_year = forms.IntegerField(label=_lazy("Fiscal year"), required=False,
                                     widget=forms.NumberInput(attrs={"min": 1950, "max": 2100}))
    kind = forms.ChoiceField(label=_lazy("Kind"), choices=ResourceKind.choices, initial=ResourceKind.PLANNED,
                             help_text=_lazy("Planned, committed (promised) or spent."))
    amount = forms.DecimalField(label=_lazy("Amount"), max_digits=16, decimal_places=2,
                                widget=forms.NumberInput(attrs={"min": 0, "step": "0.01"}))
    currency = forms.ChoiceField(label=_lazy("Currency"), choices=_choose(Currency.choices))
    note = forms.CharField(label=_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1)

    def __init__(self, *args, edit: bool = False, **kwargs):
        kwargs.setdefault("prefix", RESOURCE_PREFIX)
        super().__init__(*args, **kwargs)
        if not edit:
            del self.fields["version"]

    @classmethod
    def for_line(cls, line: ResourceLine) -> ResourceLineForm:
        return cls(edit=True, initial={
            "side": line.side, "source": line.source, "fiscal_year": line.fiscal_year, "kind": line.kind,
            "amount": line.amount, "currency": line.currency, "note": line.note, "version": line.version})

    def service_data(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}


def _project_page(pk):
    return redirect(reverse("projects:detail", args=[pk]) + ANCHOR)


def _line(pk) -> ResourceLine:
    """A live line of a live project."""
    try:
        return ResourceLine.objects.select_related("project").get(pk=pk, project__deleted_at__isnull=True)
    except ResourceLine.DoesNotExist:
        raise Http404(_("No such resource line.")) from None


def _describe(line: ResourceLine) -> str:
    from .templatetags.project_resources import format_amount, side_label

    return f"{side_label(line.side)} · {line.get_kind_display()} · {format_amount(line.amount, line.currency)}"


class ResourceLineCreateView(StaffView):
    permission_required = "projects.add_resourceline"

    def post(self, request, pk):
        project = _get_project(request, pk)
        form = ResourceLineForm(request.POST)
        if form.is_valid():
            try:
                line = services.resource_line_create(by=request.user, project=project, **form.service_data())
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Resource line added: %(line)s.") % {"line": _describe(line)})
                return _project_page(pk)
        return render(request, "projects/project_detail.html",
                      ProjectDetailView.context(request, project, resource_form=form), status=400)


class ResourceLineEditView(StaffView):
    permission_required = "projects.change_resourceline"
    template_name = "projects/resource_line_form.html"

    def get(self, request, pk):
        line = _line(pk)
        return render(request, self.template_name, self.context(line, ResourceLineForm.for_line(line)))

    def post(self, request, pk):
        line = _line(pk)
        form = ResourceLineForm(request.POST, edit=True)
        if form.is_valid():
            try:
                services.resource_line_update(line=line, by=request.user,
                                              expected_version=form.cleaned_data.get("version") or line.version,
                                              **form.service_data())
            except VersionConflict:
                form.add_error(None, _("Someone else changed this resource line after you opened it. Nothing was "
                                       "saved; reload the page to see their changes."))
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Resource line saved: %(line)s.") % {"line": _describe(line)})
                return _project_page(line.project_id)
        return render(request, self.template_name, self.context(line, form), status=400)

    @staticmethod
    def context(line, form):
        return {"line": line, "project": line.project, "form": form,
                "cancel_url": reverse("projects:detail", args=[line.project_id]) + ANCHOR}


class ResourceLineDeleteForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


class ResourceLineDeleteView(StaffView):
    """Delete from the project page (a soft delete: an administrator can
    restore the line), version-checked."""

    permission_required = "projects.delete_resourceline"

    def post(self, request, pk):
        line = _line(pk)
        form = ResourceLineDeleteForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Nothing was deleted: the page was out of date. Reload it and try again."))
            return _project_page(line.project_id)
        try:
            services.resource_line_delete(line=line, by=request.user, expected_version=form.cleaned_data["version"])
        except VersionConflict:
            messages.error(request, _("The resource line changed while you were looking at it; nothing was "
                                      "deleted. Check it and try again."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Resource line deleted: %(line)s.") % {"line": _describe(line)})
        return _project_page(line.project_id)

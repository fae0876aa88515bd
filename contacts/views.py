"""Staff pages for points of contact and organisations (thin; writes call
contacts.services)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from rcf.services import VersionConflict
from rcf.views import StaffView

from . import selectors, services
from .forms import OrganizationForm, PointOfContactForm
from .models import Organization, PointOfContact


def _apply_errors(form, error: ValidationError) -> None:
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class TrackedFormView(StaffView):
    """Create or edit a record through its service, with the version check."""

    model = None
    form_class = None
    template_name = "contacts/record_form.html"
    create_service = None
    update_service = None
    instance_kwarg = None
    success_url_name = None

    def get_object(self, pk):
        try:
            return self.model.objects.get(pk=pk)
        except self.model.DoesNotExist:
            raise Http404 from None

    def get(self, request, pk=None):
        instance = self.get_object(pk) if pk else None
        return render(request, self.template_name, self.context(self.form_class(instance=instance), instance))

    def post(self, request, pk=None):
        instance = self.get_object(pk) if pk else None
        form = self.form_class(request.POST, instance=instance)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
            try:
                if instance is None:
                    saved = type(self).create_service(by=request.user, **data)
                else:
                    saved = type(self).update_service(
                        by=request.user, expected_version=form.cleaned_data.get("version") or instance.version,
                        **{self.instance_kwarg: self.model.objects.get(pk=pk)}, **data)
            except VersionConflict:
                form.add_error(None, _("Someone else changed this record after you opened it. Nothing was saved; "
                                       "reload the page to see their changes."))
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect(self.success_url(saved))
        return render(request, self.template_name, self.context(form, instance), status=400)

    def context(self, form, instance):
        return {"form": form, "object": instance, "title": self.title, "cancel_url": self.cancel_url(instance)}


class DirectoryView(StaffView):
    permission_required = "contacts.view_pointofcontact"

    def get(self, request):
        return render(request, "contacts/directory.html", {"directory": selectors.poc_directory()})


class PocDetailView(StaffView):
    permission_required = "contacts.view_pointofcontact"

    def get(self, request, pk):
        try:
            poc = selectors.poc_detail(pk=pk)
        except PointOfContact.DoesNotExist:
            raise Http404 from None
        # Reverse relations: this app does not import projects (the chain runs the other way).
        led = poc.us_led_projects if poc.side == "us" else poc.rok_led_projects
        projects = led.select_related("priority_area").order_by("-updated_at")
        engagements = poc.engagements.select_related("project").order_by("-date")
        return render(request, "contacts/poc_detail.html",
                      {"poc": poc, "projects": projects, "engagements": engagements})


class PocCreateView(TrackedFormView):
    permission_required = "contacts.add_pointofcontact"
    model = PointOfContact
    form_class = PointOfContactForm
    create_service = services.poc_create
    title = _lazy("New point of contact")

    def cancel_url(self, instance):
        return reverse("contacts:poc_detail", args=[instance.pk]) if instance else reverse("contacts:directory")

    def success_url(self, saved):
        return reverse("contacts:poc_detail", args=[saved.pk])


class PocUpdateView(PocCreateView):
    permission_required = "contacts.change_pointofcontact"
    update_service = services.poc_update
    instance_kwarg = "poc"


class OrganizationListView(StaffView):
    permission_required = "contacts.view_organization"

    def get(self, request):
        return render(request, "contacts/organization_list.html",
                      {"organizations": selectors.organization_list()})


class OrganizationCreateView(TrackedFormView):
    permission_required = "contacts.add_organization"
    model = Organization
    form_class = OrganizationForm
    create_service = services.organization_create
    title = _lazy("New organisation")

    def cancel_url(self, instance):
        return reverse("contacts:organization_list")

    def success_url(self, saved):
        return reverse("contacts:organization_list")


class OrganizationUpdateView(OrganizationCreateView):
    permission_required = "contacts.change_organization"
    update_service = services.organization_update
    instance_kwarg = "organization"

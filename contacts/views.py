"""Staff pages for points of contact and organisations (thin; writes call
contacts.services)."""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _lazy

from rcf.views import StaffView, TrackedFormView

from . import selectors, services
from .forms import OrganizationForm, PointOfContactForm
from .models import Organization, PointOfContact


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
        engagements = poc.engagements.prefetch_related("projects").order_by("-date", "-id")
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

    # Sortable columns (issue 12): ?sort=name|-name|side|-side|country|-country.
    SORTS = {"name": ("name", "id"), "side": ("side", "name", "id"), "country": ("country__name", "name", "id")}

    def get(self, request):
        from rcf.list_filters import sort_headers

        sort = request.GET.get("sort", "")
        key = sort.lstrip("-")
        if key not in self.SORTS:
            sort, key = "name", "name"
        order = self.SORTS[key]
        if sort.startswith("-"):
            order = ("-" + order[0], *order[1:])
        headers = sort_headers(request.GET, sort, [("name", _lazy("Name")), ("side", _lazy("Side")),
                                                   ("country", _lazy("Country"))])
        return render(request, "contacts/organization_list.html",
                      {"organizations": selectors.organization_list().order_by(*order), "headers": headers})


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

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from rcf.admin import TrackedModelAdmin

from . import services
from .models import Organization, PointOfContact


class PointOfContactAdminForm(forms.ModelForm):
    class Meta:
        model = PointOfContact
        fields = "__all__"  # noqa: DJ007 - the admin shows every editable field

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and "side" in cleaned:
            try:
                services.poc_side_change_check(PointOfContact.all_objects.get(pk=self.instance.pk), cleaned["side"])
            except ValidationError as error:
                self.add_error(None, error)  # the error names its field (side)
        return cleaned


@admin.register(Organization)
class OrganizationAdmin(TrackedModelAdmin, SimpleHistoryAdmin):
    list_display = ("name", "side", "country", "updated_at", "deleted_at")
    list_filter = ("side", "country__group")
    search_fields = ("name", "name_ko", "notes")
    autocomplete_fields = ("country",)

    def has_delete_permission(self, request, obj=None):
        # As contacts.services.organization_delete: not while it has points of contact.
        if obj is not None and obj.points_of_contact.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(PointOfContact)
class PointOfContactAdmin(TrackedModelAdmin, SimpleHistoryAdmin):
    form = PointOfContactAdminForm
    list_display = ("full_name", "side", "is_lead", "organization", "title", "email", "active", "deleted_at")
    list_filter = ("side", "is_lead", "active", "preferred_language", "priority_areas")
    search_fields = ("full_name", "full_name_ko", "email", "title", "organization__name")
    list_select_related = ("organization",)
    autocomplete_fields = ("organization", "user")
    filter_horizontal = ("priority_areas",)

    def get_readonly_fields(self, request, obj=None):
        # Who is a lead and whose login is whose grant the lead steps: administrators only
        # (contacts.services); for anyone else the fields are shown, and a posted value is ignored.
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not services.can_designate_leads(request.user):
            readonly += tuple(f for f in services.ADMIN_ONLY_FIELDS if f not in readonly)
        return readonly

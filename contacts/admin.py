from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from rcf.admin import TrackedModelAdmin

from .models import Organization, PointOfContact


@admin.register(Organization)
class OrganizationAdmin(TrackedModelAdmin, SimpleHistoryAdmin):
    list_display = ("name", "side", "country", "updated_at", "deleted_at")
    list_filter = ("side", "country__group")
    search_fields = ("name", "name_ko", "notes")
    autocomplete_fields = ("country",)


@admin.register(PointOfContact)
class PointOfContactAdmin(TrackedModelAdmin, SimpleHistoryAdmin):
    list_display = ("full_name", "side", "is_lead", "organization", "title", "email", "active", "deleted_at")
    list_filter = ("side", "is_lead", "active", "priority_areas")
    search_fields = ("full_name", "full_name_ko", "email", "title", "organization__name")
    list_select_related = ("organization",)
    autocomplete_fields = ("organization", "user")
    filter_horizontal = ("priority_areas",)

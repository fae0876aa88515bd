from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from rcf.admin import TrackedModelAdmin

from .models import ReadinessFlag, SCMCycle


@admin.register(SCMCycle)
class SCMCycleAdmin(TrackedModelAdmin, SimpleHistoryAdmin):
    list_display = ("number", "year", "meeting_date", "location", "readiness_deadline")
    search_fields = ("location", "notes")
    ordering = ("-year",)


@admin.register(ReadinessFlag)
class ReadinessFlagAdmin(admin.ModelAdmin):
    """Flags are raised and resolved by the readiness job only: read-only here."""

    list_display = ("year", "kind", "scm_cycle", "raised_at", "resolved_at", "notified_at")
    list_filter = ("kind", "year", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("detail",)
    list_select_related = ("scm_cycle",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from rcf.admin import TrackedModelAdmin

from .models import SCMCycle


@admin.register(SCMCycle)
class SCMCycleAdmin(TrackedModelAdmin, SimpleHistoryAdmin):
    list_display = ("number", "year", "meeting_date", "location", "readiness_deadline")
    search_fields = ("location", "notes")
    ordering = ("-year",)

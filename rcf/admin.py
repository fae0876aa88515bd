from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from .models import PartnerCountry, PriorityArea
from .services import restore, soft_delete


@admin.register(PriorityArea)
class PriorityAreaAdmin(admin.ModelAdmin):
    list_display = ("sort_order", "code", "name", "name_ko")
    list_display_links = ("code",)
    search_fields = ("code", "name", "name_ko")
    ordering = ("sort_order",)


@admin.register(PartnerCountry)
class PartnerCountryAdmin(admin.ModelAdmin):
    list_display = ("name", "name_ko", "iso2", "iso3", "group", "member_since")
    list_filter = ("group",)
    search_fields = ("name", "name_ko", "iso2", "iso3")


class DeletedFilter(admin.SimpleListFilter):
    title = _("deleted")
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return (("no", _("Live")), ("yes", _("Deleted")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


class TrackedModelAdmin(admin.ModelAdmin):
    """Admin for soft-deletable records: "delete" marks the record deleted
    (sync clients get a tombstone), and deleted records can be restored."""

    actions = ["restore_selected"]
    readonly_fields = ("version", "created_at", "updated_at", "deleted_at")

    def get_queryset(self, request):
        return self.model.all_objects.all()

    def get_list_filter(self, request):
        return (*super().get_list_filter(request), DeletedFilter)

    def delete_model(self, request, obj):
        soft_delete(instance=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset.filter(deleted_at__isnull=True):
            self.delete_model(request, obj)

    def restore_instance(self, request, obj):
        restore(instance=obj, by=request.user)

    @admin.action(description=_("Restore selected deleted records"))
    def restore_selected(self, request, queryset):
        restored = 0
        for obj in queryset.filter(deleted_at__isnull=False):
            try:
                self.restore_instance(request, obj)
                restored += 1
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{obj}: {' '.join(getattr(exc, 'messages', [str(exc)]))}",
                                  messages.ERROR)
        self.message_user(request, _("%(count)d record(s) restored.") % {"count": restored})

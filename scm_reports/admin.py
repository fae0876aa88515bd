from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from rcf.admin import LookupGuardMixin, ReadOnlyAdminMixin, TrackedModelAdmin

from . import roles, services
from .models import ReadinessFlag, SCMCycle, SCMPresentation, WeeklyDigest


@admin.register(SCMCycle)
class SCMCycleAdmin(TrackedModelAdmin, SimpleHistoryAdmin):
    list_display = ("number", "year", "meeting_date", "location", "readiness_deadline")
    search_fields = ("location", "notes")
    ordering = ("-year",)

    # A cycle's windows move the dashboard's summary rows (services.scm_windows_moving).
    def save_model(self, request, obj, form, change):
        with services.scm_windows_moving():
            super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        services.scm_cycle_delete(cycle=obj, by=request.user)

    def restore_instance(self, request, obj):
        services.scm_cycle_restore(cycle=obj, by=request.user)


@admin.register(SCMPresentation)
class SCMPresentationAdmin(TrackedModelAdmin, SimpleHistoryAdmin):
    """What each SCM decided. Recorded on the project page or through the API
    (``services.presentation_record`` takes the lifecycle step with it), so
    not added here; the note can be corrected, a mistaken record deleted
    (soft: sync clients get a tombstone)."""

    list_display = ("scm_cycle", "project", "outcome", "recorded_by", "recorded_at")
    list_filter = ("outcome", "scm_cycle")
    search_fields = ("project__title", "note")
    list_select_related = ("scm_cycle", "project", "recorded_by")
    fields = ("scm_cycle", "project", "outcome", "note", "recorded_by", "recorded_at",
              *TrackedModelAdmin.readonly_fields)
    readonly_fields = ("scm_cycle", "project", "outcome", "recorded_by", "recorded_at",
                       *TrackedModelAdmin.readonly_fields)

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        services.presentation_update(presentation=obj, by=request.user, note=obj.note)

    def delete_model(self, request, obj):
        services.presentation_delete(presentation=obj, by=request.user)

    def restore_instance(self, request, obj):
        services.presentation_restore(presentation=obj, by=request.user)


@admin.register(ReadinessFlag)
class ReadinessFlagAdmin(LookupGuardMixin, admin.ModelAdmin):
    """Flags are raised and resolved by the readiness job only: read-only here."""

    list_display = ("year", "kind", "scm_cycle", "raised_at", "resolved_at", "notified_at", "text")
    list_filter = ("kind", "year", ("resolved_at", admin.EmptyFieldListFilter))
    readonly_fields = ("text",)
    list_select_related = ("scm_cycle",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("what it says"))
    def text(self, obj):
        # Rendered in the reader's language from the flag's data (scm_reports.flag_text).
        from rcf.selectors import framework_today

        from .flag_text import flag_text

        return flag_text(obj, today=framework_today())

    def has_delete_permission(self, request, obj=None):
        return False


# --- Users: administrators manage roles, never power -----------------------------------


ROLE_LABELS = {
    roles.VIEWER: _("viewer"),
    roles.EDITOR: _("editor"),
    roles.LEAD_POC: _("lead POC"),
    roles.ADMINISTRATOR: _("administrator"),
}
_ROLE_CHOICES = [("", _("(no role)")), *((role, ROLE_LABELS[role]) for role in roles.ROLES)]


def _role_field():
    return forms.ChoiceField(
        label=_("Role"),
        choices=_ROLE_CHOICES,
        required=False,
        help_text=_("What the user may do. Administrators also use this admin."),
    )


class RoleUserCreationForm(AdminUserCreationForm):
    role = _role_field()


class RoleUserChangeForm(UserChangeForm):
    role = _role_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "role" in self.fields:
            self.fields["role"].initial = roles.user_role(self.instance) or ""


admin.site.unregister(User)


@admin.register(User)
class RoleUserAdmin(LookupGuardMixin, DjangoUserAdmin):
    """Django's user admin for superusers; for administrators (staff with the
    ``auth`` permissions of their role) a narrower one: the user's name, e-mail,
    role (one of the four) and active flag, on accounts ``roles.can_manage_user``
    allows - never a superuser, another administrator or their own account.
    Every check is made here on the server: has_change_permission also guards
    the password page (``user_change_password`` asks it) and the POST of the
    change form; fields outside the form are never read from a POST."""

    add_form = RoleUserCreationForm
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2", "role")}),
    )
    _administrator_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Role and access"), {"fields": ("role", "is_active", "is_staff", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active", "is_staff")

    @admin.display(description=_("Role"))
    def role(self, obj):
        role = roles.user_role(obj)
        return ROLE_LABELS[role] if role else "-"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def get_fieldsets(self, request, obj=None):
        if obj is None or request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return self._administrator_fieldsets

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        # Staff and superuser status follow from the role; administrators never set them.
        return ("is_staff", "is_superuser", "last_login", "date_joined")

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None and not request.user.is_superuser:
            kwargs.setdefault("form", RoleUserChangeForm)
        return super().get_form(request, obj, **kwargs)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or roles.can_manage_user(actor=request.user, target=obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or roles.can_manage_user(actor=request.user, target=obj))

    def delete_queryset(self, request, queryset):
        # The bulk action asks has_delete_permission for each user first; this holds even if it did not.
        if any(not roles.can_manage_user(actor=request.user, target=user) for user in queryset):
            raise PermissionDenied
        super().delete_queryset(request, queryset)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and change and not roles.can_manage_user(actor=request.user, target=obj):
            raise PermissionDenied
        super().save_model(request, obj, form, change)
        if "role" in form.cleaned_data:
            roles.user_role_set(user=obj, role=form.cleaned_data["role"] or None)


# --- The weekly digest to lead POCs (issue 11) -------------------------------------------


@admin.register(WeeklyDigest)
class WeeklyDigestAdmin(ReadOnlyAdminMixin, LookupGuardMixin, admin.ModelAdmin):
    """Which lead POC was sent which week's digest, in which language, with how
    many items, and the last error of one not (yet) sent. Only the digest job
    writes here (scm_reports.services.weekly_digest_send)."""

    list_display = ("week_of", "poc", "email", "language", "sent_at", "short_error")
    list_filter = ("week_of", "language", ("sent_at", admin.EmptyFieldListFilter))
    list_select_related = ("poc",)
    search_fields = ("email", "poc__full_name", "error")
    date_hierarchy = "week_of"

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

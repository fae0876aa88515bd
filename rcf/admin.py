from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from .models import OutboxMessage, PartnerCountry, PriorityArea
from .services import restore, soft_delete


class LookupGuardMixin:
    """The admin takes any lookup on a model's own fields from the query string, and a value
    Python cannot turn into a date (``?created_at__year=-1``) fails only when the list is
    counted, as a ValueError or OverflowError: a 500. Answered as Django answers every other bad
    filter (IncorrectLookupParameters: back to the list with ``?e=1``)."""

    def get_changelist_instance(self, request):
        from django.contrib.admin.options import IncorrectLookupParameters

        try:
            return super().get_changelist_instance(request)
        except (ValueError, OverflowError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class ReferenceDataForm(forms.ModelForm):
    """Priority areas and countries have no validators of their own (a migration would be
    needed): their admin form applies the rules of every other text and date (rcf.validators)."""

    def __init__(self, *args, **kwargs):
        from .validators import date_in_bounds, no_control_characters, no_control_characters_multiline

        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.DateField):
                field.validators.append(date_in_bounds)
            elif isinstance(field, forms.CharField):
                multiline = isinstance(field.widget, forms.Textarea)
                field.validators.append(no_control_characters_multiline if multiline else no_control_characters)


@admin.register(PriorityArea)
class PriorityAreaAdmin(LookupGuardMixin, admin.ModelAdmin):
    form = ReferenceDataForm
    list_display = ("sort_order", "code", "name", "name_ko")
    list_display_links = ("code",)
    search_fields = ("code", "name", "name_ko")
    ordering = ("sort_order",)


@admin.register(PartnerCountry)
class PartnerCountryAdmin(LookupGuardMixin, admin.ModelAdmin):
    form = ReferenceDataForm
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


class TrackedModelAdmin(LookupGuardMixin, admin.ModelAdmin):
    """Admin for soft-deletable records: "delete" marks the record deleted
    (sync clients get a tombstone), and deleted records can be restored."""

    actions = ["restore_selected"]
    readonly_fields = ("version", "created_at", "updated_at", "deleted_at")

    def get_queryset(self, request):
        return self.model.all_objects.all()

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # django-simple-history's "revert" (SIMPLE_HISTORY_REVERT_DISABLED only
        # hides its button) would write an old version over the record, outside
        # the services and with its version moved back: old versions are read-only.
        if request.method != "GET":
            from django.http import HttpResponseRedirect

            self.message_user(request, _("Earlier versions can be viewed but not restored: edit the record "
                                         "instead."), messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().history_form_view(request, object_id, version_id, extra_context)

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


# --- API tokens (sync API) -----------------------------------------------------------

from rest_framework.authtoken.admin import TokenProxy  # noqa: E402

from .models import ApiToken  # noqa: E402

# The API authenticates with ApiToken only; DRF's own token table (its app is
# installed for the browsable API) would only confuse: a key made there never works.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class ApiTokenAdmin(LookupGuardMixin, admin.ModelAdmin):
    """Tokens of sync clients: listed here, revoked by deleting them. A key is
    shown once, when the token is added; only its digest is kept.

    The add form makes a token for the signed-in user only, whoever that is: a
    token acts as its user, so minting one for someone else would let an
    administrator act as a lead POC or a superuser through the API.
    ``manage.py create_api_token USERNAME`` at the server's shell stays for that."""

    list_display = ("user", "name", "key_prefix", "read_only", "created_at")
    list_filter = ("read_only",)
    search_fields = ("user__username", "name", "key_prefix")
    list_select_related = ("user",)
    readonly_fields = ("key_prefix", "created_at")

    def get_fields(self, request, obj=None):
        return ("name", "read_only") if obj is None else ("user", "name", "read_only", "key_prefix", "created_at")

    def get_readonly_fields(self, request, obj=None):
        # A token stays with the user it was issued to.
        return self.readonly_fields if obj is None else (*self.readonly_fields, "user")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # The user is never taken from the form (it has no such field) nor from the POST.
        token, key = ApiToken.issue(user=request.user, name=obj.name, read_only=obj.read_only)
        obj.pk = token.pk
        obj.__dict__.update(token.__dict__)
        self.message_user(
            request,
            _("The key of this token is %(key)s. Copy it now: it is not stored and will not be shown again.")
            % {"key": key},
            messages.WARNING,
        )


class ReadOnlyAdminMixin:
    """Records only a service writes (queued work, concurrence proposals): the admin shows them,
    nobody adds, edits or deletes them there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, LookupGuardMixin, admin.ModelAdmin):
    """Read-only view of the work queued by changes (rcf.outbox), so an operator
    can see what is waiting, what failed and why. Only the drain writes here."""

    list_display = ("id", "topic", "coalesce_key", "available_at", "attempts", "locked_until", "done_at")
    list_filter = ("topic", ("done_at", admin.EmptyFieldListFilter))
    search_fields = ("topic", "coalesce_key", "last_error")
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


# The admin says whose it is (issue 12), in the user's language.
admin.site.site_header = _("RCF Tracker administration")
admin.site.site_title = _("RCF Tracker administration")
admin.site.index_title = _("Records and reference data")
admin.site.site_url = "/"

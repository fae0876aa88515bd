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


# --- Webhooks (issue 13; the service is rcf.webhooks) -----------------------------------

from django.conf import settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils.html import format_html  # noqa: E402

from . import webhooks  # noqa: E402
from .models import WebhookDelivery, WebhookEndpoint  # noqa: E402


class WebhookEndpointForm(forms.ModelForm):
    """The URL and events checked as the API checks them (rcf.webhooks): https and a public address in
    production, known event names."""

    events = forms.MultipleChoiceField(label=_("events"), choices=[(e, e) for e in webhooks.EVENTS],
                                       widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "events", "admin_email", "is_active")

    def clean_url(self):
        url = self.cleaned_data["url"]
        if self.instance.pk is None or url != self.instance.url:
            problems = webhooks.webhook_url_problems(url)
            if problems:
                raise ValidationError(problems)
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(LookupGuardMixin, admin.ModelAdmin):
    """Endpoints and their state. The secret is shown once, in the message after the endpoint is added or
    its secret rotated; the delivery log is a list of its own (linked from each endpoint)."""

    form = WebhookEndpointForm
    list_display = ("url", "is_active", "event_count", "failing_since", "disabled_at", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "description", "admin_email")
    actions = ["rotate_secret"]
    readonly_fields = ("disabled_reason", "disabled_at", "failing_since", "secret_rotation_ends",
                       "created_by", "created_at", "updated_at", "delivery_log")

    def get_fields(self, request, obj=None):
        editable = ("url", "description", "events", "admin_email", "is_active")
        return editable if obj is None else (*editable, *self.readonly_fields)

    @admin.display(description=_("events"))
    def event_count(self, obj):
        return len(obj.events or [])

    @admin.display(description=_("previous secret valid until"))
    def secret_rotation_ends(self, obj):
        return obj.previous_secret_expires_at or "—"

    @admin.display(description=_("delivery log"))
    def delivery_log(self, obj):
        url = reverse("admin:rcf_webhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("%(count)d deliveries") % {"count": obj.deliveries.count()})

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in ("url", "description", "events", "admin_email",
                                                            "is_active")}
        if change:
            endpoint = webhooks.webhook_endpoint_update(endpoint=obj, by=request.user, **data)
        else:
            endpoint, secret = webhooks.webhook_endpoint_create(by=request.user, **data)
            request._webhook_secret_lines = [
                _("The signing secret of this endpoint is %(secret)s. Copy it now: it will not be shown again.")
                % {"secret": secret}]
        obj.pk = endpoint.pk
        obj.__dict__.update(endpoint.__dict__)

    def _secret_page(self, request, lines: list[str], next_url: str):
        """The new secret on this very answer (the messages framework would put it in a cookie)."""
        from django.template.response import TemplateResponse

        context = {**self.admin_site.each_context(request), "title": _("webhook endpoint"), "lines": lines,
                   "next_url": next_url, "next_label": _("webhook endpoints"), "opts": self.model._meta}
        response = TemplateResponse(request, "admin/rcf/webhookendpoint/secret_shown.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def response_add(self, request, obj, post_url_continue=None):
        lines = getattr(request, "_webhook_secret_lines", None)
        if lines:
            return self._secret_page(request, lines, reverse("admin:rcf_webhookendpoint_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description=_("Rotate the signing secret of the selected endpoints"),
                  permissions=["change"])
    def rotate_secret(self, request, queryset):
        lines = []
        for endpoint in queryset:
            try:
                secret = webhooks.webhook_secret_rotate(endpoint=endpoint)
            except ValidationError as exc:
                self.message_user(request, f"{endpoint.url}: {' '.join(exc.messages)}", messages.ERROR)
                continue
            lines.append(
                _("New signing secret of %(url)s: %(secret)s. Copy it now: it will not be shown again. The "
                  "previous secret keeps signing beside it for %(hours)s hours.")
                % {"url": endpoint.url, "secret": secret,
                   "hours": f"{settings.RCF_WEBHOOK_ROTATION_OVERLAP_HOURS:g}"})
        if lines:  # shown on this answer itself, never in a cookie
            return self._secret_page(request, lines, reverse("admin:rcf_webhookendpoint_changelist"))
        return None


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(LookupGuardMixin, admin.ModelAdmin):
    """The delivery log: each event for each endpoint, with its status, the last answer, how long it took and
    how many attempts. Nobody edits a delivery; "redeliver" sends one again."""

    list_display = ("id", "event", "endpoint", "status", "response_code", "duration_ms", "attempts",
                    "occurred_at", "last_attempt_at", "next_attempt_at", "delivered_at")
    list_filter = ("status", "event", "endpoint")
    search_fields = ("webhook_id", "event", "object_id", "last_error")
    list_select_related = ("endpoint",)
    date_hierarchy = "occurred_at"
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def save_model(self, request, obj, form, change):
        pass  # every field is read-only

    @admin.action(description=_("Redeliver the selected deliveries"), permissions=["change"])
    def redeliver(self, request, queryset):
        done = 0
        for delivery in queryset.order_by("id"):
            try:
                webhooks.webhook_redeliver(delivery=delivery)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{delivery.webhook_id}: {' '.join(exc.messages)}", messages.ERROR)
        self.message_user(request, _("%(count)d deliveries queued to be sent again.") % {"count": done})

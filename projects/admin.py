from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from contacts.models import Organization, PointOfContact
from rcf.admin import ReadOnlyAdminMixin, TrackedModelAdmin

from . import counts, services
from .models import Concurrence, CooperativeProject, Engagement, ProjectStatus, ProjectTransition


class CooperativeProjectAdminForm(forms.ModelForm):
    class Meta:
        model = CooperativeProject
        fields = (*services.EDITABLE_FIELDS, *services.M2M_FIELDS)
        widgets = {
            "title_ko": forms.TextInput(attrs={"lang": "ko", "class": "vTextField"}),
            "summary_ko": forms.Textarea(attrs={"lang": "ko", "class": "vLargeTextField"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        live_pocs = PointOfContact.objects.filter(active=True)
        self.fields["us_lead_poc"].queryset = live_pocs.filter(side="us")
        self.fields["rok_lead_poc"].queryset = live_pocs.filter(side="rok")
        self.fields["industry_partners"].queryset = Organization.objects.filter(side="industry")

    def clean_external_id(self):
        # Also against deleted projects, which keep theirs (model validation sees live ones only).
        external_id = self.cleaned_data.get("external_id") or ""
        if external_id and CooperativeProject.all_objects.filter(external_id=external_id).exclude(
                pk=self.instance.pk).exists():
            raise forms.ValidationError(_("A project with this external id already exists."))
        return external_id

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and self.instance.status == ProjectStatus.READY:
            countries = cleaned.get("partner_countries")
            errors = services.ready_requirements_errors(
                self.instance, len(countries) if countries is not None else 0
            )
            for field, messages in errors.items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned


class ProjectTransitionInline(admin.TabularInline):
    model = ProjectTransition
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "by", "ready_on", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class CountsInOnePassMixin:
    """Bulk delete and restore (one request, one transaction) write the
    dashboard's summary rows once, in one sorted pass (``counts.batch``), not
    once per record: a pass per record would hold rows locked in a different
    order each time, a deadlock with a concurrent edit."""

    def delete_queryset(self, request, queryset):
        with counts.batch():
            super().delete_queryset(request, queryset)

    def restore_selected(self, request, queryset):
        with counts.batch():
            return super().restore_selected(request, queryset)

    restore_selected.short_description = TrackedModelAdmin.restore_selected.short_description


@admin.register(CooperativeProject)
class CooperativeProjectAdmin(CountsInOnePassMixin, TrackedModelAdmin, SimpleHistoryAdmin):
    form = CooperativeProjectAdminForm
    list_display = (
        "title", "title_ko", "priority_area", "status", "priority", "lead_side", "ready_on", "version", "updated_at",
        "deleted_at",
    )
    list_filter = ("status", "priority_area", "lead_side", "partner_countries__group")
    search_fields = ("title", "summary", "title_ko", "summary_ko", "external_id")
    list_select_related = ("priority_area",)
    readonly_fields = (
        "status", "ready_on", "version", "created_at", "created_by", "updated_at", "updated_by", "deleted_at",
    )
    filter_horizontal = ("additional_areas", "partner_countries", "industry_partners", "complemented_partners")
    inlines = [ProjectTransitionInline]

    def save_model(self, request, obj, form, change):
        data = {
            name: value
            for name, value in form.cleaned_data.items()
            if name in services.EDITABLE_FIELDS or name in services.M2M_FIELDS
        }
        if change:
            services.project_update(project=obj, by=request.user, **data)
        else:
            created = services.project_create(by=request.user, **data)
            # The admin goes on with `obj` (messages, redirect): make it the saved row.
            obj.__dict__.update(created.__dict__)

    def save_related(self, request, form, formsets, change):
        # The service already wrote the many-to-many fields.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        services.project_soft_delete(project=obj, by=request.user)

    def restore_instance(self, request, obj):
        services.project_restore(project=obj, by=request.user)


class EngagementAdminForm(forms.ModelForm):
    """The engagement's fields; the link rules (live projects, active POCs,
    industry organisations only on a B2B meeting) are shown on the form,
    and saving goes through projects.services."""

    class Meta:
        model = Engagement
        fields = (*services.ENGAGEMENT_FIELDS, *services.ENGAGEMENT_M2M)

    def clean(self):
        cleaned = super().clean()
        external_id = cleaned.get("external_id") or ""
        if external_id and Engagement.all_objects.filter(external_id=external_id).exclude(
                pk=self.instance.pk).exists():
            self.add_error("external_id", _("An engagement with this external id already exists."))
        data = {name: cleaned[name] for name in services.ENGAGEMENT_M2M if name in cleaned}
        errors = services.engagement_link_errors(engagement=self.instance if self.instance.pk else None,
                                                 kind=cleaned.get("kind") or "", data=data)
        for field, messages in errors.items():
            self.add_error(field if field in self.fields else None, messages)
        return cleaned


@admin.register(Engagement)
class EngagementAdmin(TrackedModelAdmin, SimpleHistoryAdmin):
    form = EngagementAdminForm
    list_display = ("date", "kind", "location", "version", "updated_at", "deleted_at")
    list_filter = ("kind", "date")
    search_fields = ("summary", "location", "external_id")
    date_hierarchy = "date"
    autocomplete_fields = ("projects", "industry_organizations")
    filter_horizontal = ("participants", "partner_countries")
    readonly_fields = ("version", "created_at", "created_by", "updated_at", "updated_by", "deleted_at")

    def save_model(self, request, obj, form, change):
        data = {name: value for name, value in form.cleaned_data.items()
                if name in services.ENGAGEMENT_FIELDS or name in services.ENGAGEMENT_M2M}
        if change:
            services.engagement_update(engagement=obj, by=request.user, **data)
        else:
            created = services.engagement_create(by=request.user, **data)
            obj.__dict__.update(created.__dict__)  # the admin goes on with `obj` (messages, redirect)

    def save_related(self, request, form, formsets, change):
        # The service already wrote the many-to-many fields.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        services.engagement_delete(engagement=obj, by=request.user)

    def restore_instance(self, request, obj):
        services.engagement_restore(engagement=obj, by=request.user)


@admin.register(Concurrence)
class ConcurrenceAdmin(ReadOnlyAdminMixin, TrackedModelAdmin, SimpleHistoryAdmin):
    """Proposals and answers, read-only: they are made and answered by the
    lead POCs (projects.services.concurrence_*), whose sides the admin
    cannot vouch for."""

    list_display = ("project", "step", "side", "proposed_by", "proposed_at", "concurred_at", "declined_at",
                    "withdrawn_at")
    list_filter = ("step", "side")
    search_fields = ("project__title", "project__title_ko", "note", "response_note")
    list_select_related = ("project", "proposed_by")


# --- Action items ------------------------------------------------------------------

from rcf.admin import LookupGuardMixin  # noqa: E402

from .models import ActionItem, ActionReminder  # noqa: E402


class ActionItemAdminForm(forms.ModelForm):
    """The service's rules beside the fields (an inactive owner, a due date
    before the project's start), before the service saves."""

    class Meta:
        model = ActionItem
        fields = services.ACTION_FIELDS

    def _post_clean(self):
        super()._post_clean()
        from django.core.exceptions import ValidationError

        changed = set(self.changed_data) if self.instance.pk else set(services.ACTION_FIELDS)
        try:
            services.action_check(action=self.instance, changed=changed & set(services.ACTION_FIELDS))
        except ValidationError as error:
            self._update_errors(error)


@admin.register(ActionItem)
class ActionItemAdmin(TrackedModelAdmin, SimpleHistoryAdmin):
    """Action items, saved through projects.services (the owner must be an
    active POC, the due date not before the project's start, …)."""

    form = ActionItemAdminForm

    list_display = ("title", "owner", "project", "due_on", "status", "done_on", "version", "deleted_at")
    list_filter = ("status", "owner__side", "due_on")
    search_fields = ("title", "description", "external_id", "owner__full_name", "project__title")
    list_select_related = ("owner", "project")
    autocomplete_fields = ("owner", "project", "engagement")
    date_hierarchy = "due_on"
    readonly_fields = ("version", "created_at", "created_by", "updated_at", "updated_by", "deleted_at")

    def save_model(self, request, obj, form, change):
        data = {name: value for name, value in form.cleaned_data.items() if name in services.ACTION_FIELDS}
        if change:
            services.action_update(action=ActionItem.objects.get(pk=obj.pk), by=request.user,
                                   expected_version=obj.version, **data)
        else:
            created = services.action_create(by=request.user, **data)
            obj.__dict__.update(created.__dict__)

    def delete_model(self, request, obj):
        services.action_delete(action=obj, by=request.user)

    def restore_instance(self, request, obj):
        services.action_restore(action=obj, by=request.user)


@admin.register(ActionReminder)
class ActionReminderAdmin(ReadOnlyAdminMixin, LookupGuardMixin, admin.ModelAdmin):
    """Which reminder e-mails went out (one per POC and day), and errors: written only by the daily job."""

    list_display = ("day", "poc", "email", "sent_at", "error")
    list_filter = ("day", ("sent_at", admin.EmptyFieldListFilter))
    search_fields = ("email", "poc__full_name", "error")
    list_select_related = ("poc",)
    date_hierarchy = "day"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


# --- Progress and milestones ---

from django.core.exceptions import ValidationError  # noqa: E402

from rcf.selectors import framework_today  # noqa: E402

from .models import Milestone, ProgressUpdate  # noqa: E402


class _ServiceCheckedForm(forms.ModelForm):
    """The service's rules in the form's own validation, so the admin shows
    each message beside its field instead of failing on save."""

    check = None  # the service's check: (instance, *, changed, today)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        model = self._meta.model
        values = {name: value for name, value in cleaned.items() if name in self.fields}
        if "project" not in values:  # read-only once saved
            values["project_id"] = self.instance.project_id
        candidate = model(pk=self.instance.pk, version=self.instance.version, **values)
        candidate._state.adding = self.instance._state.adding  # an edit is not a new row (unique checks)
        changed = set(self.changed_data) if self.instance.pk else set(self.fields)
        try:
            type(self).check(candidate, changed=changed, today=framework_today())
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned


class ProgressUpdateAdminForm(_ServiceCheckedForm):
    check = staticmethod(services.progress_update_check)

    class Meta:
        model = ProgressUpdate
        fields = services.PROGRESS_FIELDS


class MilestoneAdminForm(_ServiceCheckedForm):
    check = staticmethod(services.milestone_check)

    class Meta:
        model = Milestone
        fields = services.MILESTONE_FIELDS


class _ProjectChildAdmin(CountsInOnePassMixin, TrackedModelAdmin, SimpleHistoryAdmin):
    """A record that stays with its project: the project is chosen once."""

    autocomplete_fields = ("project",)
    list_select_related = ("project",)
    readonly_fields = ("version", "created_at", "created_by", "updated_at", "updated_by", "deleted_at")
    fields_model = ()

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "project") if obj is not None else self.readonly_fields

    def _data(self, form):
        return {name: value for name, value in form.cleaned_data.items() if name in self.fields_model}


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(_ProjectChildAdmin):
    """Progress updates, saved through projects.services (a project in
    implementation, no date after today, …)."""

    form = ProgressUpdateAdminForm
    fields_model = services.PROGRESS_FIELDS
    list_display = ("project", "date", "health", "created_by", "version", "deleted_at")
    list_filter = ("health", "date")
    search_fields = ("project__title", "project__title_ko", "narrative", "next_steps", "external_id")
    date_hierarchy = "date"

    def save_model(self, request, obj, form, change):
        if change:
            services.progress_update_update(update=ProgressUpdate.objects.get(pk=obj.pk), by=request.user,
                                            expected_version=obj.version, **self._data(form))
        else:
            created = services.progress_update_create(by=request.user, **self._data(form))
            obj.__dict__.update(created.__dict__)  # the admin goes on with `obj` (messages, redirect)

    def delete_model(self, request, obj):
        services.progress_update_delete(update=obj, by=request.user)

    def restore_instance(self, request, obj):
        services.progress_update_restore(update=obj, by=request.user)


@admin.register(Milestone)
class MilestoneAdmin(_ProjectChildAdmin):
    """Milestones, saved through projects.services (a due date not before the
    project's start, a done date not after today, …)."""

    form = MilestoneAdminForm
    fields_model = services.MILESTONE_FIELDS
    list_display = ("title", "project", "due_on", "done_on", "version", "deleted_at")
    list_filter = ("due_on", ("done_on", admin.EmptyFieldListFilter))
    search_fields = ("title", "project__title", "project__title_ko", "external_id")
    date_hierarchy = "due_on"

    def save_model(self, request, obj, form, change):
        if change:
            services.milestone_update(milestone=Milestone.objects.get(pk=obj.pk), by=request.user,
                                      expected_version=obj.version, **self._data(form))
        else:
            created = services.milestone_create(by=request.user, **self._data(form))
            obj.__dict__.update(created.__dict__)

    def delete_model(self, request, obj):
        services.milestone_delete(milestone=obj, by=request.user)

    def restore_instance(self, request, obj):
        services.milestone_restore(milestone=obj, by=request.user)


# --- Resource lines ---

from .models import ResourceLine  # noqa: E402


class ResourceLineAdminForm(_ServiceCheckedForm):
    check = staticmethod(lambda line, **_context: services.resource_line_check(line))

    class Meta:
        model = ResourceLine
        fields = services.RESOURCE_LINE_FIELDS


@admin.register(ResourceLine)
class ResourceLineAdmin(_ProjectChildAdmin):
    """Resource lines, saved through projects.services (a side, no negative
    amount, a known currency, a fiscal year in range, …)."""

    form = ResourceLineAdminForm
    fields_model = services.RESOURCE_LINE_FIELDS
    list_display = ("project", "side", "fiscal_year", "kind", "amount", "currency", "source", "version", "deleted_at")
    list_filter = ("side", "kind", "currency", "fiscal_year")
    search_fields = ("project__title", "project__title_ko", "source", "note", "external_id")

    def save_model(self, request, obj, form, change):
        if change:
            services.resource_line_update(line=ResourceLine.objects.get(pk=obj.pk), by=request.user,
                                          expected_version=obj.version, **self._data(form))
        else:
            created = services.resource_line_create(by=request.user, **self._data(form))
            obj.__dict__.update(created.__dict__)

    def delete_model(self, request, obj):
        services.resource_line_delete(line=obj, by=request.user)

    def restore_instance(self, request, obj):
        services.resource_line_restore(line=obj, by=request.user)


class ResourceLineInline(admin.TabularInline):
    """The project's live lines, read-only (they are edited in their own admin, through the services)."""

    model = ResourceLine
    extra = 0
    can_delete = False
    fields = ("side", "source", "fiscal_year", "kind", "amount", "currency", "note")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


CooperativeProjectAdmin.inlines = [*CooperativeProjectAdmin.inlines, ResourceLineInline]


# --- Documents -------------------------------------------------------------------------

from django.utils.html import format_html  # noqa: E402

from .models import Document  # noqa: E402


class DocumentAdminForm(forms.ModelForm):
    """Only the title and the marking change here (through the services);
    files are uploaded from the project and engagement pages or the API."""

    marking = forms.ChoiceField(label=_("handling marking"))

    class Meta:
        model = Document
        fields = ("title", "marking")

    def __init__(self, *args, **kwargs):
        from django.conf import settings

        super().__init__(*args, **kwargs)
        choices = [(m, m) for m in settings.RCF_MARKINGS]
        current = self.instance.marking if self.instance.pk else ""
        if current and current not in settings.RCF_MARKINGS:  # a marking the deployment no longer lists
            choices.append((current, current))
        self.fields["marking"].choices = choices


@admin.register(Document)
class DocumentAdmin(TrackedModelAdmin, SimpleHistoryAdmin):
    form = DocumentAdminForm
    list_display = ("title", "marking", "original_name", "content_type", "size", "project", "engagement",
                    "uploaded_by", "created_at", "deleted_at")
    list_filter = ("marking", "content_type")
    search_fields = ("title", "original_name", "external_id", "sha256")
    list_select_related = ("project", "engagement", "uploaded_by")
    readonly_fields = ("download", "original_name", "content_type", "size", "sha256", "project", "engagement",
                       "external_id", "uploaded_by", "updated_by", "version", "created_at", "updated_at",
                       "deleted_at")

    def has_add_permission(self, request):
        return False  # uploads go through the pages or the API (the content checks, the size limit)

    @admin.display(description=_("file"))
    def download(self, obj):
        from django.urls import reverse

        if obj.pk is None or obj.deleted_at is not None:
            return obj.original_name
        return format_html('<a href="{}">{}</a>', reverse("projects:document_download", args=[obj.pk]),
                           obj.original_name)

    def save_model(self, request, obj, form, change):
        changed = {name: form.cleaned_data[name] for name in form.changed_data if name in ("title", "marking")}
        if changed:
            services.document_update(document=Document.all_objects.get(pk=obj.pk), by=request.user, **changed)

    def delete_model(self, request, obj):
        services.document_delete(document=obj, by=request.user)

    def restore_instance(self, request, obj):
        services.document_restore(document=obj, by=request.user)

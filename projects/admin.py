from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from contacts.models import Organization, PointOfContact
from rcf.admin import ReadOnlyAdminMixin, TrackedModelAdmin

from . import services
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


@admin.register(CooperativeProject)
class CooperativeProjectAdmin(TrackedModelAdmin, SimpleHistoryAdmin):
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


@admin.register(Engagement)
class EngagementAdmin(TrackedModelAdmin, SimpleHistoryAdmin):
    list_display = ("date", "kind", "location")
    list_filter = ("kind", "date")
    search_fields = ("summary", "location")
    date_hierarchy = "date"
    autocomplete_fields = ("projects", "industry_organizations")
    filter_horizontal = ("participants", "partner_countries")


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

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from contacts.models import Organization, PointOfContact
from rcf.models import CountryGroup, PartnerCountry, PriorityArea
from rcf.validators import DATE_MAX, DATE_MIN, date_in_bounds, no_control_characters_multiline

from . import services
from .models import CooperativeProject, ProjectStatus


class DateInput(forms.DateInput):
    """A date picker limited to the dates rcf.validators allows (the server
    checks them again)."""

    input_type = "date"

    def __init__(self, **kwargs):
        attrs = {"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat(), **kwargs.pop("attrs", {})}
        super().__init__(format="%Y-%m-%d", attrs=attrs, **kwargs)


class GroupedCountryIterator(ModelChoiceIterator):
    """Countries under their group (ASEAN, Pacific Islands, …), read when the
    form renders, not when the module is imported."""

    def __iter__(self):
        groups = {label: [] for label in CountryGroup.labels}  # the framework's focus groups first
        for country in self.queryset:
            groups[country.get_group_display()].append(self.choice(country))
        for label, members in groups.items():
            if members:
                yield (label, members)


class Picker(forms.Select):
    """A select that static/js/pickers.js turns into a searchable picker
    (Tom Select); without JavaScript it is the plain select."""

    def __init__(self, placeholder="", attrs=None, **kwargs):
        super().__init__(attrs={"data-picker": "", "data-placeholder": placeholder, **(attrs or {})}, **kwargs)


class MultiPicker(forms.SelectMultiple):
    """A multiple select that static/js/pickers.js turns into a searchable
    picker with chips (Tom Select); without JavaScript it is the plain
    multiple select (Ctrl/⌘-click)."""

    def __init__(self, placeholder="", attrs=None, **kwargs):
        super().__init__(attrs={"data-picker": "", "data-placeholder": placeholder, "size": 6, **(attrs or {})},
                         **kwargs)


def set_placeholder(field: forms.Field, text) -> None:
    """The empty choice of a select says what to do ("Choose an area"), not
    "---------". A ModelChoiceField's empty label, or a ChoiceField's blank
    choice (added when missing: a required field with no default)."""
    if isinstance(field, forms.ModelChoiceField):
        field.empty_label = text
    elif isinstance(field, forms.ChoiceField):
        field.choices = [("", text), *[c for c in field.choices if c[0] not in ("", None)]]


class GroupedCountryField(forms.ModelMultipleChoiceField):
    iterator = GroupedCountryIterator

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultiPicker(placeholder=_("Choose countries")))
        super().__init__(queryset=PartnerCountry.objects.order_by("group", "name"), **kwargs)


class ProjectForm(forms.ModelForm):
    """Create and edit a project. Saving goes through projects.services;
    ``version`` carries the version the user saw, so a concurrent change is
    refused instead of overwritten."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    partner_countries = GroupedCountryField(label=_("Partner countries"), required=False)
    complemented_partners = forms.ModelMultipleChoiceField(
        queryset=PartnerCountry.objects.filter(group=CountryGroup.LIKE_MINDED),
        label=_("Like-minded partners complemented"),
        required=False,
        widget=MultiPicker(placeholder=_("Choose partners")),
    )

    class Meta:
        model = CooperativeProject
        fields = (
            "title", "title_ko", "summary", "summary_ko", "priority_area", "additional_areas", "partner_countries",
            "lead_side",
            "priority", "us_lead_poc", "rok_lead_poc", "channel", "industry_partners", "complementary_efforts",
            "complemented_partners",
            "target_year", "start_date", "end_date", "external_id",
        )
        widgets = {
            "start_date": DateInput(),
            "end_date": DateInput(),
            "additional_areas": MultiPicker(placeholder=_("Choose areas")),
            "industry_partners": MultiPicker(placeholder=_("Choose organisations")),
            "summary": forms.Textarea(attrs={"rows": 4}),
            # lang="ko": the right font and screen-reader voice for the Korean text.
            "title_ko": forms.TextInput(attrs={"lang": "ko"}),
            "summary_ko": forms.Textarea(attrs={"rows": 4, "lang": "ko"}),
            "complementary_efforts": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        pocs = PointOfContact.objects.filter(active=True).select_related("organization")
        self.fields["us_lead_poc"].queryset = pocs.filter(side="us")
        self.fields["rok_lead_poc"].queryset = pocs.filter(side="rok")
        self.fields["industry_partners"].queryset = Organization.objects.filter(side="industry")
        self.fields["priority_area"].queryset = PriorityArea.objects.all()
        self.fields["additional_areas"].queryset = PriorityArea.objects.all()
        # Real placeholders instead of "---------".
        set_placeholder(self.fields["priority_area"], _("Choose an area"))
        set_placeholder(self.fields["us_lead_poc"], _("Choose the U.S. lead"))
        set_placeholder(self.fields["rok_lead_poc"], _("Choose the ROK lead"))
        set_placeholder(self.fields["lead_side"], _("Choose a side"))
        self.fields["summary"].help_text = _("In English or Korean: one of the two summaries is needed for Ready.")
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        if user is not None and not services.can_act_as_lead(user):
            # Priority is the lead POCs' call; others see it, they cannot set it.
            self.fields["priority"].disabled = True
            self.fields["priority"].help_text = _("Set by lead POCs.")

    @property
    def ready_fields(self) -> list[str]:
        """The fields a project needs before it can be ready, as the service
        that refuses the step lists them (a blank project misses them all),
        and the priority it must keep (project_transition)."""
        return [*services.ready_requirements_errors(CooperativeProject(), 0), "priority"]

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}
        if self.fields["priority"].disabled:
            data.pop("priority", None)
        return data



class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=ProjectStatus.choices, widget=forms.HiddenInput)
    # Not model fields: the model's validators are repeated here (rcf.validators).
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           validators=[no_control_characters_multiline])
    ready_on = forms.DateField(label=_("Ready on"), required=False, widget=DateInput(), validators=[date_in_bounds],
                               help_text=_("Leave empty for today; an earlier date backfills."))
    priority = forms.IntegerField(label=_("Priority"), required=False, min_value=1, max_value=5)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ConcurrenceAnswerForm(forms.Form):
    """Concur with, decline (note required, checked by the service) or
    withdraw a proposal; the versions are what the lead reviewed."""

    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           validators=[no_control_characters_multiline])
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1)
    project_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1,
                                         max_value=2**31 - 1)


__all__ = ["ConcurrenceAnswerForm", "MultiPicker", "Picker", "ProjectForm", "TransitionForm", "services"]

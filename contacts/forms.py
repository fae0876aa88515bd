from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Organization, PointOfContact


def _placeholder(field, text) -> None:
    """The empty choice says what to do ("Choose a side"), not "---------"
    (the same as projects.forms.set_placeholder: this app does not import
    projects)."""
    if isinstance(field, forms.ModelChoiceField):
        field.empty_label = text
    elif isinstance(field, forms.ChoiceField):
        field.choices = [("", text), *[c for c in field.choices if c[0] not in ("", None)]]


class OrganizationForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Organization
        fields = ("name", "name_ko", "side", "country", "website", "notes")
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        _placeholder(self.fields["side"], _("Choose a side"))
        _placeholder(self.fields["country"], _("No country (choose one)"))


class PointOfContactForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = PointOfContact
        fields = ("full_name", "full_name_ko", "title", "organization", "side", "email", "phone", "is_lead",
                  "active", "priority_areas", "preferred_language")
        widgets = {"priority_areas": forms.SelectMultiple(attrs={"data-picker": "", "size": 6,
                                                                  "data-placeholder": _("Choose areas")})}
        # The model's "title" msgid is shared with a project's title; a person has a job title.
        labels = {"title": _("Job title")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.order_by("side", "name")
        _placeholder(self.fields["organization"], _("Choose an organisation"))
        _placeholder(self.fields["side"], _("Choose a side"))
        # Left out of a submission (an older form, a script): keep what the POC has, English for a new one.
        self.fields["preferred_language"].required = False
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def clean_preferred_language(self):
        return self.cleaned_data.get("preferred_language") or self.instance.preferred_language or "en"

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Organization, PointOfContact


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


class PointOfContactForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = PointOfContact
        fields = ("full_name", "full_name_ko", "title", "organization", "side", "email", "phone", "is_lead",
                  "active", "priority_areas", "preferred_language")
        widgets = {"priority_areas": forms.CheckboxSelectMultiple}
        # The model's "title" msgid is shared with a project's title; a person has a job title.
        labels = {"title": _("Job title")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.order_by("side", "name")
        # Left out of a submission (an older form, a script): keep what the POC has, English for a new one.
        self.fields["preferred_language"].required = False
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def clean_preferred_language(self):
        return self.cleaned_data.get("preferred_language") or self.instance.preferred_language or "en"

from django import forms

from projects.forms import DateInput

from .models import SCMCycle


class SCMCycleForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = SCMCycle
        fields = ("number", "year", "meeting_date", "location", "readiness_deadline", "notes")
        widgets = {"meeting_date": DateInput(), "readiness_deadline": DateInput(),
                   "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

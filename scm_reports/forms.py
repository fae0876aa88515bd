from django import forms
from django.utils.translation import gettext_lazy as _

from projects.forms import DateInput
from rcf.validators import no_control_characters_multiline

from .models import PresentationOutcome, SCMCycle


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


class PresentationForm(forms.Form):
    """Record at which SCM a project was presented and what was decided
    (``services.presentation_record``). Only SCMs that have met are offered."""

    scm_cycle = forms.ModelChoiceField(label=_("SCM"), queryset=SCMCycle.objects.none(),
                                       empty_label=None)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=PresentationOutcome.choices, widget=forms.RadioSelect,
                                help_text=_("Deferred returns a ready project to “Prioritised”, declined to "
                                            "“Under review”."))
    # Not a model form: the model's validator is repeated here (rcf.validators).
    note = forms.CharField(label=_("Decision note"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           validators=[no_control_characters_multiline])
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scm_cycle"].queryset = SCMCycle.objects.filter(meeting_date__lte=today).order_by("-year")
        self.fields["scm_cycle"].error_messages["invalid_choice"] = _(
            "Choose an SCM that has met (a later one can be recorded once it has happened).")

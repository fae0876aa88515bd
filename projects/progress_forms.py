"""The project page's progress update and milestone forms. Saving goes
through projects.services (progress_update_create, milestone_create,
milestone_mark_done), which applies the rules (a project in implementation,
no date after today, a due date not before the project's start, …).

Each form has a prefix: the project page holds several forms, and their
fields' ids must not collide (the engagement form has a ``date`` too)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .forms import DateInput, set_placeholder
from .models import Milestone, ProgressUpdate

PROGRESS_PREFIX = "progress"
MILESTONE_PREFIX = "milestone"


class ProgressUpdateForm(forms.ModelForm):
    class Meta:
        model = ProgressUpdate
        fields = ("date", "health", "narrative", "next_steps")
        widgets = {
            "date": DateInput(),
            "narrative": forms.Textarea(attrs={"rows": 3}),
            "next_steps": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {"date": _("The day the update reports on; not after today.")}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", PROGRESS_PREFIX)
        super().__init__(*args, **kwargs)
        set_placeholder(self.fields["health"], _("Choose the health"))


class MilestoneForm(forms.ModelForm):
    class Meta:
        model = Milestone
        fields = ("title", "due_on")
        widgets = {"due_on": DateInput()}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", MILESTONE_PREFIX)
        super().__init__(*args, **kwargs)


class MilestoneDoneForm(forms.Form):
    """One click "Done": the version the user saw (a concurrent change is refused)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)

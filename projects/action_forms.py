"""The action item form (create and edit). Saving goes through
projects.services (action_create / action_update), which applies the rules
(an active owner, a due date not before the project's start, …)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.models import PointOfContact

from .action_filters import engagement_choice_label
from .forms import DateInput, set_placeholder
from .models import ActionItem, CooperativeProject, Engagement


class EngagementChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return engagement_choice_label(obj)


class ActionForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    engagement = EngagementChoiceField(
        queryset=Engagement.objects.order_by("-date", "-id"), required=False, label=_("Engagement"),
        help_text=_("The meeting this is a follow-up of, if any: its project is filled in when it has one."),
    )

    class Meta:
        model = ActionItem
        fields = ("title", "description", "owner", "due_on", "project", "engagement", "status", "external_id")
        widgets = {
            "due_on": DateInput(),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance if self.instance.pk else None
        # Active POCs (the current owner stays choosable even if no longer active).
        owners = PointOfContact.objects.filter(active=True)
        if current is not None:
            owners = owners | PointOfContact.objects.filter(pk=current.owner_id)
        self.fields["owner"].queryset = owners.select_related("organization").order_by("side", "full_name", "id")
        self.fields["owner"].help_text = _("An active point of contact of either side.")
        self.fields["project"].queryset = CooperativeProject.objects.order_by("title", "id")
        set_placeholder(self.fields["owner"], _("Choose an owner"))
        set_placeholder(self.fields["project"], _("No project (choose one)"))
        set_placeholder(self.fields["engagement"], _("No engagement (choose one)"))
        self.fields["external_id"].help_text = _("Optional: the id a sync client or another system gives it.")
        if current is None:
            del self.fields["status"]
        else:
            self.fields["version"].initial = current.version

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}

"""The engagement form of the staff pages: the engagement's fields, its
other participants (name + organisation rows) and, when logging a new one,
its follow-up actions (title, owner, due date rows). Saving goes through
``projects.services.engagement_create`` / ``engagement_update``; the form
only collects what the user typed."""

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from contacts.models import Organization, PointOfContact
from rcf.models import Side
from rcf.validators import date_in_bounds, no_control_characters

from .forms import DateInput, GroupedCountryField, MultiPicker, set_placeholder
from .models import CooperativeProject, Engagement

# Empty rows offered for other participants and follow-up actions (no script needed).
EXTRA_OTHER_ROWS = 3
EXTRA_FOLLOW_UP_ROWS = 3
MAX_OTHER_PARTICIPANTS = 200
MAX_FOLLOW_UPS = 20


class PocsBySideIterator(ModelChoiceIterator):
    """The POC directory under its sides (U.S., ROK)."""

    def __iter__(self):
        groups = {value: [] for value in Side.values}
        for poc in self.queryset:
            groups.setdefault(poc.side, []).append(self.choice(poc))
        labels = dict(Side.choices)
        for side, members in groups.items():
            if members:
                yield (labels.get(side, side), members)


class PocLabelMixin:
    def label_from_instance(self, obj):
        organization = obj.organization.name if obj.organization_id else ""
        suffix = "" if obj.active and obj.deleted_at is None else " " + str(_("(inactive)"))
        return f"{obj.full_name}, {organization}{suffix}" if organization else f"{obj.full_name}{suffix}"


class ParticipantsField(PocLabelMixin, forms.ModelMultipleChoiceField):
    iterator = PocsBySideIterator

    def __init__(self, *args, **kwargs):
        kwargs["widget"] = MultiPicker(placeholder=_("Choose participants"))
        super().__init__(*args, **kwargs)


class OwnerField(PocLabelMixin, forms.ModelChoiceField):
    pass


class OtherParticipantForm(forms.Form):
    """One person outside the POC directory (partner government, industry)."""

    name = forms.CharField(label=_("Name"), max_length=200, required=False, validators=[no_control_characters])
    organization = forms.CharField(label=_("Organisation"), max_length=200, required=False,
                                   validators=[no_control_characters])

    def clean(self):
        data = super().clean()
        if (data.get("organization") or "").strip() and not (data.get("name") or "").strip():
            self.add_error("name", _("Give the person's name (or clear the organisation)."))
        return data

    def entry(self) -> dict | None:
        data = getattr(self, "cleaned_data", {}) or {}
        name = (data.get("name") or "").strip()
        if not name:
            return None
        return {"name": name, "organization": (data.get("organization") or "").strip()}


class FollowUpForm(forms.Form):
    """One follow-up action of the meeting: empty rows are ignored; a row
    with anything in it needs a title, an owner and a due date."""

    title = forms.CharField(label=_("Action"), max_length=300, required=False, validators=[no_control_characters])
    owner = OwnerField(label=_("Owner"), queryset=PointOfContact.objects.none(), required=False)
    due_on = forms.DateField(label=_("Due on"), required=False, widget=DateInput(), validators=[date_in_bounds])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = PointOfContact.objects.filter(active=True).select_related(
            "organization").order_by("side", "full_name", "id")
        set_placeholder(self.fields["owner"], _("Choose an owner"))

    def clean(self):
        data = super().clean()
        if self.errors or not any(data.get(name) for name in ("title", "owner", "due_on")):
            return data
        for name, message in (("title", _("Say what is to be done.")), ("owner", _("Choose who does it.")),
                              ("due_on", _("Give a due date."))):
            if not data.get(name):
                self.add_error(name, message)
        return data

    def action(self) -> dict | None:
        data = getattr(self, "cleaned_data", {}) or {}
        if not data.get("title"):
            return None
        return {"title": data["title"].strip(), "owner": data["owner"], "due_on": data["due_on"]}


OtherParticipantFormSet = forms.formset_factory(
    OtherParticipantForm, extra=EXTRA_OTHER_ROWS, max_num=MAX_OTHER_PARTICIPANTS, validate_max=True,
)
FollowUpFormSet = forms.formset_factory(
    FollowUpForm, extra=EXTRA_FOLLOW_UP_ROWS, max_num=MAX_FOLLOW_UPS, validate_max=True,
)


class EngagementForm(forms.ModelForm):
    """Log or edit an engagement. ``others`` (always) and ``follow_ups``
    (when logging a new one, for users who may add actions) are formsets
    validated and rendered with the form. ``project`` preselects a project
    (``/engagements/new/?project=``); ``fixed_project`` is the project page's
    own: always concerned, the field then offers the other projects."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1)
    partner_countries = GroupedCountryField(label=_("Partner countries"), required=False)

    class Meta:
        model = Engagement
        fields = ("projects", "kind", "date", "location", "summary", "participants", "industry_organizations",
                  "partner_countries")
        field_classes = {"participants": ParticipantsField}
        widgets = {
            "date": DateInput(),
            "projects": MultiPicker(placeholder=_("Choose projects")),
            "industry_organizations": MultiPicker(placeholder=_("Choose organisations")),
            "summary": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "projects": _("Zero, one or several projects."),
            "industry_organizations": _("For a business-to-business meeting: the companies it connected."),
        }

    def __init__(self, data=None, *, instance=None, project=None, fixed_project=None, with_follow_ups=False,
                 **kwargs):
        kwargs.setdefault("auto_id", "id_engagement_%s")
        if instance is None and project is not None:
            kwargs.setdefault("initial", {})
            kwargs["initial"].setdefault("projects", [project.pk])
        super().__init__(data, instance=instance, **kwargs)
        linked = self.instance.pk is not None
        # A past engagement keeps a POC who has left or an organisation since deleted: still offered, still ticked.
        pocs = PointOfContact.objects.filter(active=True)
        organizations = Organization.objects.filter(side="industry")
        projects = CooperativeProject.objects.all()
        if linked:
            pocs = PointOfContact.all_objects.filter(active=True, deleted_at__isnull=True) | \
                PointOfContact.all_objects.filter(engagements=self.instance)
            organizations = Organization.objects.filter(side="industry") | \
                Organization.all_objects.filter(b2b_engagements=self.instance)
            self.fields["version"].initial = self.instance.version
        self.fields["participants"].queryset = pocs.select_related("organization").order_by(
            "side", "full_name", "id").distinct()
        self.fields["participants"].help_text = _("From the POC directory.")
        self.fields["industry_organizations"].queryset = organizations.order_by("name", "id").distinct()
        self.fixed_project = fixed_project
        if fixed_project is not None:
            projects = projects.exclude(pk=fixed_project.pk)
            self.fields["projects"].label = _("Also about other projects")
            self.fields["projects"].help_text = _("Besides this project, if the meeting was about others too.")
        self.fields["projects"].queryset = projects.order_by("title", "id")
        self.fields["projects"].required = False
        set_placeholder(self.fields["kind"], _("Choose a kind"))
        auto_id = kwargs["auto_id"]
        initial_others = list(self.instance.other_participants or []) if linked else []
        # A post without a formset's rows (its management form) is one with no rows: a script or an
        # older page posting the engagement's own fields still works.
        self.others_posted = data is not None and "others-TOTAL_FORMS" in data
        self.others = OtherParticipantFormSet(
            data if self.others_posted else None, prefix="others", auto_id=auto_id,
            initial=[{"name": o.get("name", ""), "organization": o.get("organization", "")}
                     for o in initial_others if isinstance(o, dict)] or None,
        )
        self.follow_ups = None
        if with_follow_ups:
            posted = data is not None and "followups-TOTAL_FORMS" in data
            self.follow_ups = FollowUpFormSet(data if posted else None, prefix="followups", auto_id=auto_id)

    def is_valid(self):
        valid = super().is_valid()
        for formset in (self.others, self.follow_ups):
            if formset is not None and formset.is_bound:
                valid = formset.is_valid() and valid
        return valid

    @property
    def has_any_errors(self) -> bool:
        return bool(self.errors or any(self.others.errors) or self.others.non_form_errors()
                    or (self.follow_ups is not None and (any(self.follow_ups.errors)
                                                         or self.follow_ups.non_form_errors())))

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}
        if self.fixed_project is not None:
            data["projects"] = [self.fixed_project, *data.get("projects", [])]
        if self.others_posted:
            data["other_participants"] = [entry for entry in (f.entry() for f in self.others.forms) if entry]
        elif not self.instance.pk:
            data["other_participants"] = []
        if self.instance.pk:
            # Projects deleted since stay linked (the form does not offer them).
            kept = CooperativeProject.all_objects.filter(engagements=self.instance, deleted_at__isnull=False)
            data["projects"] = [*data.get("projects", []), *kept]
        return data

    def follow_up_data(self) -> list[dict]:
        if self.follow_ups is None or not self.follow_ups.is_bound:
            return []
        return [row for row in (f.action() for f in self.follow_ups.forms) if row]

    def apply_service_errors(self, error) -> None:
        """A service's refusal beside the fields it names: follow-up rows by
        row, other participants above their rows, the rest on the form."""
        from .services import FollowUpActionsInvalid

        if isinstance(error, FollowUpActionsInvalid) and self.follow_ups is not None:
            filled = [f for f in self.follow_ups.forms if f.action()]
            for row, errors in error.rows.items():
                target = filled[row - 1] if row - 1 < len(filled) else None
                for field, messages in errors.items():
                    if target is not None and field in target.fields:
                        target.add_error(field, messages)
                    else:
                        self.add_error(None, messages)
            return
        for field, messages in error.message_dict.items():
            if field == "other_participants":
                self.others._non_form_errors = self.others.error_class(
                    [*self.others.non_form_errors(), *messages], error_class="nonform")
            elif field in self.fields:
                self.add_error(field, messages)
            else:
                self.add_error(None, messages)

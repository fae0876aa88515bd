import django_filters
from django import forms
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from contacts.models import PointOfContact
from rcf.models import CountryGroup, PartnerCountry, PriorityArea

from .models import CooperativeProject, LeadSide, ProjectStatus

SORTS = {
    "title": ("title", "id"),
    "-title": ("-title", "-id"),
    "status": ("status", "id"),
    "priority": (F("priority").asc(nulls_last=True), "id"),
    "-priority": (F("priority").desc(nulls_last=True), "-id"),
    "ready_on": (F("ready_on").asc(nulls_last=True), "id"),
    "-ready_on": (F("ready_on").desc(nulls_last=True), "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}
SORT_LABELS = [
    ("title", _("Title A–Z")),
    ("-title", _("Title Z–A")),
    ("status", _("Status")),
    ("priority", _("Priority, highest first")),
    ("-priority", _("Priority, lowest first")),
    ("-ready_on", _("Ready, newest first")),
    ("ready_on", _("Ready, oldest first")),
    ("updated", _("Least recently changed")),
]


def filter_by_area(queryset, area):
    """Projects whose primary area is ``area`` or that touch it as another area."""
    return queryset.filter(
        Q(priority_area=area) | Q(pk__in=CooperativeProject.additional_areas.through.objects.filter(
            priorityarea=area).values("cooperativeproject"))
    )


def filter_by_year(queryset, year):
    """Projects aimed at ``year``'s SCM (target year) or counting for it (the
    readiness rule's ``scm_year`` annotation, see projects.selectors)."""
    return queryset.filter(Q(target_year=year) | Q(scm_year=year))


class ProjectFilter(django_filters.FilterSet):
    """The staff list's filters. ``year`` is the SCM year a project counts for
    (the readiness rule, annotated by projects.selectors.project_list)."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    priority_area = django_filters.ModelChoiceFilter(
        queryset=PriorityArea.objects.all(), to_field_name="code", label=_("Priority area"),
        method="filter_area",
    )
    # The primary area only: what the dashboard's areas × status matrix counts.
    primary_area = django_filters.ModelChoiceFilter(
        queryset=PriorityArea.objects.all(), to_field_name="code", field_name="priority_area",
        label=_("Primary priority area"), widget=forms.HiddenInput,
    )
    status = django_filters.ChoiceFilter(choices=ProjectStatus.choices, label=_("Status"))
    lead_side = django_filters.ChoiceFilter(choices=LeadSide.choices, label=_("Lead side"))
    country = django_filters.ModelChoiceFilter(
        queryset=PartnerCountry.objects.all(), to_field_name="iso2", method="filter_country",
        label=_("Partner country"),
    )
    country_group = django_filters.ChoiceFilter(
        choices=CountryGroup.choices, method="filter_group", label=_("Country group")
    )
    year = django_filters.NumberFilter(method="filter_year", label=_("SCM year"))
    lead_poc = django_filters.ModelChoiceFilter(
        queryset=PointOfContact.objects.filter(is_lead=True), method="filter_lead_poc", label=_("Lead POC")
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_LABELS, method="sort_by", label=_("Sort"), empty_label=_("Most recently changed")
    )

    class Meta:
        model = CooperativeProject
        fields = []

    def search(self, queryset, name, value):
        # Both languages: a Korean fragment finds the Korean title or summary.
        return queryset.filter(
            Q(title__icontains=value) | Q(summary__icontains=value) | Q(title_ko__icontains=value)
            | Q(summary_ko__icontains=value) | Q(external_id=value)
        )

    def filter_area(self, queryset, name, value):
        return filter_by_area(queryset, value)

    def filter_year(self, queryset, name, value):
        return filter_by_year(queryset, value)

    def filter_country(self, queryset, name, value):
        return queryset.filter(pk__in=CooperativeProject.partner_countries.through.objects.filter(
            partnercountry=value).values("cooperativeproject"))

    def filter_group(self, queryset, name, value):
        return queryset.filter(pk__in=CooperativeProject.partner_countries.through.objects.filter(
            partnercountry__group=value).values("cooperativeproject"))

    def filter_lead_poc(self, queryset, name, value):
        return queryset.filter(Q(us_lead_poc=value) | Q(rok_lead_poc=value))

    def sort_by(self, queryset, name, value):
        return queryset.order_by(*SORTS[value])

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by("-updated_at", "-id")
        return queryset

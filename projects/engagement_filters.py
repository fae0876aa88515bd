"""The filters of engagement lists: one definition for the staff page
(``/engagements/``) and the API (``/api/v1/engagements/``)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contacts.models import PointOfContact
from rcf.list_filters import ModelChoiceFilter
from rcf.models import PartnerCountry

from .forms import DateInput
from .models import CooperativeProject, Engagement, EngagementKind


def engagements_in_country(queryset, country):
    """Engagements with ``country`` among their own partner countries, or
    about a live project that has it among its partner countries."""
    own = Engagement.partner_countries.through.objects.filter(partnercountry=country).values("engagement")
    through_projects = Engagement.projects.through.objects.filter(
        cooperativeproject__deleted_at__isnull=True,
        cooperativeproject__partner_countries=country,
    ).values("engagement")
    return queryset.filter(Q(pk__in=own) | Q(pk__in=through_projects))


class CountryCodeField(forms.ModelChoiceField):
    """A country by its ISO alpha-2 code, in either case (as the API's writes take it)."""

    def to_python(self, value):
        return super().to_python(value.upper() if isinstance(value, str) else value)


class CountryCodeFilter(django_filters.ModelChoiceFilter):
    field_class = CountryCodeField


class EngagementFilter(django_filters.FilterSet):
    # Several kinds at once (?kind=b2b&kind=working): any of them.
    kind = django_filters.MultipleChoiceFilter(choices=EngagementKind.choices, label=_("Kind"),
                                               widget=forms.CheckboxSelectMultiple)
    project = ModelChoiceFilter(
        queryset=CooperativeProject.objects.order_by("title", "id"), method="filter_project", label=_("Project"),
        empty_label=_("Any project"),
        help_text=_("A project's id: engagements about it (among others)."),
    )
    participant = ModelChoiceFilter(
        queryset=PointOfContact.objects.order_by("side", "full_name", "id"), method="filter_participant",
        label=_("Point of contact"), empty_label=_("Anyone"),
        help_text=_("A POC's id: engagements they took part in."),
    )
    country = CountryCodeFilter(
        queryset=PartnerCountry.objects.all(), to_field_name="iso2", method="filter_country",
        label=_("Partner country"), empty_label=_("Any country"),
        help_text=_("ISO alpha-2 code: the engagement's own partner countries or its projects'."),
    )
    date_after = django_filters.DateFilter(
        field_name="date", lookup_expr="gte", label=_("From"), widget=DateInput(),
        help_text=_("On or after this date (YYYY-MM-DD)."),
    )
    date_before = django_filters.DateFilter(
        field_name="date", lookup_expr="lte", label=_("To"), widget=DateInput(),
        help_text=_("On or before this date (YYYY-MM-DD)."),
    )

    class Meta:
        model = Engagement
        fields = []

    def filter_project(self, queryset, name, value):
        return queryset.filter(pk__in=Engagement.projects.through.objects.filter(
            cooperativeproject=value).values("engagement"))

    def filter_participant(self, queryset, name, value):
        return queryset.filter(pk__in=Engagement.participants.through.objects.filter(
            pointofcontact=value).values("engagement"))

    def filter_country(self, queryset, name, value):
        return engagements_in_country(queryset, value)

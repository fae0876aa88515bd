import django_filters
from django import forms
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from contacts.models import PointOfContact
from rcf.list_filters import ModelMultipleChoiceFilter, filter_bar, filter_chips, sort_headers
from rcf.models import CountryGroup, PartnerCountry, PriorityArea

from .models import CooperativeProject, LeadSide, ProjectStatus

# The lifecycle's order (concept first), not the codes' alphabetical one.
_LIFECYCLE = Case(*[When(status=value, then=Value(rank)) for rank, value in enumerate(ProjectStatus.values)],
                  output_field=IntegerField())

# Sort keys: "name" ascending, "-name" descending (the list's column headers toggle between the two).
SORTS = {
    "title": ("title", "id"),
    "-title": ("-title", "-id"),
    "status": (_LIFECYCLE.asc(), "-updated_at", "-id"),
    "-status": (_LIFECYCLE.desc(), "-updated_at", "-id"),
    "area": ("priority_area__sort_order", "priority_area__code", "title", "id"),
    "-area": ("-priority_area__sort_order", "-priority_area__code", "title", "id"),
    "scm_year": (F("scm_year").asc(nulls_last=True), "-updated_at", "-id"),
    "-scm_year": (F("scm_year").desc(nulls_last=True), "-updated_at", "-id"),
    "priority": (F("priority").asc(nulls_last=True), "id"),
    "-priority": (F("priority").desc(nulls_last=True), "-id"),
    "ready_on": (F("ready_on").asc(nulls_last=True), "id"),
    "-ready_on": (F("ready_on").desc(nulls_last=True), "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}
DEFAULT_SORT = "-updated"
SORT_LABELS = [
    ("-updated", _("Most recently changed")),
    ("updated", _("Least recently changed")),
    ("title", _("Title A–Z")),
    ("-title", _("Title Z–A")),
    ("status", _("Status, lifecycle order")),
    ("-status", _("Status, reverse lifecycle order")),
    ("area", _("Priority area")),
    ("-area", _("Priority area, reversed")),
    ("priority", _("Priority, highest first")),
    ("-priority", _("Priority, lowest first")),
    ("scm_year", _("SCM year, earliest first")),
    ("-scm_year", _("SCM year, latest first")),
    ("-ready_on", _("Ready, newest first")),
    ("ready_on", _("Ready, oldest first")),
]


def filter_by_area(queryset, area):
    """Projects whose primary area is ``area`` (one area, or several: any of
    them) or that touch it as another area."""
    areas = list(area) if isinstance(area, (list, tuple, QuerySet)) else [area]
    return queryset.filter(
        Q(priority_area__in=areas) | Q(pk__in=CooperativeProject.additional_areas.through.objects.filter(
            priorityarea__in=areas).values("cooperativeproject"))
    )


def filter_by_year(queryset, year):
    """Projects aimed at ``year``'s SCM (target year) or counting for it (the
    readiness rule's ``scm_year`` annotation, see projects.selectors)."""
    return queryset.filter(Q(target_year=year) | Q(scm_year=year))


class ProjectFilter(django_filters.FilterSet):
    """The staff list's filters. ``year`` is the SCM year a project counts for
    (the readiness rule, annotated by projects.selectors.project_list).

    Status, areas, lead side, countries, country groups and lead POCs take
    several values (``?status=ready&status=prioritized``): a project matches
    any of them within one filter, and every filter given."""

    q = django_filters.CharFilter(
        method="search", label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Title, summary or external id"),
                                      "autocomplete": "off"}))
    status = django_filters.MultipleChoiceFilter(
        choices=ProjectStatus.choices, label=_("Status"), widget=forms.CheckboxSelectMultiple)
    priority_area = django_filters.ModelMultipleChoiceFilter(
        queryset=PriorityArea.objects.all(), to_field_name="code", label=_("Priority area"),
        method="filter_area", widget=forms.CheckboxSelectMultiple,
    )
    # The primary area only: what the dashboard's areas × status matrix counts.
    primary_area = django_filters.ModelChoiceFilter(
        queryset=PriorityArea.objects.all(), to_field_name="code", field_name="priority_area",
        label=_("Primary priority area"), widget=forms.HiddenInput,
    )
    lead_side = django_filters.MultipleChoiceFilter(
        choices=LeadSide.choices, label=_("Lead side"), widget=forms.CheckboxSelectMultiple)
    country = django_filters.ModelMultipleChoiceFilter(
        queryset=PartnerCountry.objects.all(), to_field_name="iso2", method="filter_country",
        label=_("Partner country"), widget=forms.CheckboxSelectMultiple,
    )
    country_group = django_filters.MultipleChoiceFilter(
        choices=CountryGroup.choices, method="filter_group", label=_("Country group"),
        widget=forms.CheckboxSelectMultiple,
    )
    year = django_filters.NumberFilter(method="filter_year", label=_("SCM year"))
    # Only the projects that count for that year's SCM (the readiness rule), not those aimed at it:
    # what the SCM report's figures for earlier years count.
    counts_for = django_filters.NumberFilter(method="filter_counts_for", label=_("Counted for the SCM of"))
    lead_poc = ModelMultipleChoiceFilter(
        queryset=PointOfContact.objects.filter(is_lead=True).order_by("side", "full_name", "id"),
        method="filter_lead_poc", label=_("Lead POC"), widget=forms.CheckboxSelectMultiple,
    )
    sort = django_filters.ChoiceFilter(choices=SORT_LABELS, method="sort_by", label=_("Sort"), empty_label=None)

    class Meta:
        model = CooperativeProject
        fields = []

    def search(self, queryset, name, value):
        # The header search's rule (projects.search), so its "See all N in the list" lists the same N:
        # every word (or "quoted phrase") in the title or summary, either language, or the external id.
        from .search import clean_query, filter_projects

        query = clean_query(value)
        if not query.terms:
            return queryset
        return filter_projects(queryset, query)

    def filter_area(self, queryset, name, value):
        if not value:  # a multiple choice left empty is an empty queryset, not None
            return queryset
        return filter_by_area(queryset, value)

    def filter_year(self, queryset, name, value):
        return filter_by_year(queryset, value)

    def filter_counts_for(self, queryset, name, value):
        return queryset.filter(scm_year=value)

    def filter_country(self, queryset, name, value):
        if not value:  # a multiple choice left empty is an empty queryset, not None
            return queryset
        return queryset.filter(pk__in=CooperativeProject.partner_countries.through.objects.filter(
            partnercountry__in=value).values("cooperativeproject"))

    def filter_group(self, queryset, name, value):
        if not value:  # a multiple choice left empty is an empty queryset, not None
            return queryset
        return queryset.filter(pk__in=CooperativeProject.partner_countries.through.objects.filter(
            partnercountry__group__in=value).values("cooperativeproject"))

    def filter_lead_poc(self, queryset, name, value):
        if not value:  # a multiple choice left empty is an empty queryset, not None
            return queryset
        return queryset.filter(Q(us_lead_poc__in=value) | Q(rok_lead_poc__in=value))

    def sort_by(self, queryset, name, value):
        return queryset.order_by(*SORTS[value])

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by(*SORTS[DEFAULT_SORT])
        return queryset


def list_count_cap(filterset) -> int | None:
    """Where the list's count stops: ``projects.search.SEARCH_COUNT_CAP`` when a search is asked (a common
    word's count costs what the rows it counts do), else the list's own (None: rcf.keyset.COUNT_CAP)."""
    from .search import SEARCH_COUNT_CAP, clean_query

    data = filterset.form.cleaned_data if filterset.is_bound and filterset.is_valid() else {}
    return SEARCH_COUNT_CAP if clean_query(data.get("q")).terms else None


def list_ordering(filterset) -> tuple:
    """The sort keys the list is in (``SORTS``; the default when none or a bad one is asked for)."""
    data = filterset.form.cleaned_data if filterset.is_bound and filterset.is_valid() else {}
    return SORTS[data.get("sort") or DEFAULT_SORT]


# --- The list page (issue 12): its filter bar and sortable headers (helpers in rcf.list_filters) ----------

# The list's sortable columns: the key of their ascending sort (SORTS), in the table's order.
PROJECT_SORT_COLUMNS = [("title", _("Title")), ("area", _("Priority area")), ("status", _("Status")),
                        ("priority", _("Priority")), ("scm_year", _("SCM year")), ("updated", _("Updated"))]
# Shown in the bar; the others open under "More filters".
PROJECT_MAIN_FILTERS = ("status", "priority_area", "country")
PROJECT_MORE_FILTERS = ("lead_side", "country_group", "lead_poc", "year", "counts_for")


def project_list_context(filterset, query) -> dict:
    """What the list page shows around the rows: chips, the sortable headers,
    the number of active filters (in all, and under "More filters")."""
    data = filterset.form.cleaned_data if filterset.is_bound and filterset.is_valid() else {}
    current = data.get("sort") or DEFAULT_SORT
    chips = filter_chips(filterset, query)
    return {
        "chips": chips, "sort": current, "headers": sort_headers(query, current, PROJECT_SORT_COLUMNS),
        **filter_bar(filterset, chips, query, PROJECT_MAIN_FILTERS, PROJECT_MORE_FILTERS),
    }

"""The filters of action-item lists: the staff page (``/actions/``, choices
from the directory) and the API (``/api/v1/actions/``, ids and dates)."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contacts.models import PointOfContact
from rcf.list_filters import ModelChoiceFilter
from rcf.models import Side
from rcf.selectors import framework_today

from .forms import DateInput
from .models import ActionItem, ActionStatus, CooperativeProject, Engagement

_MAX_ID = 2**63 - 1


class ActionFilter(django_filters.FilterSet):
    """``/actions/``: whose (owner, or the owner's side), which project,
    status and due range. The page fills in the signed-in user's POC as
    owner and "open" as status when the query does not name them."""

    owner = ModelChoiceFilter(
        queryset=PointOfContact.objects.order_by("side", "full_name", "id"), label=_("Owner"),
        empty_label=_("Anyone"),
    )
    side = django_filters.ChoiceFilter(
        field_name="owner__side", choices=Side.choices, label=_("Owner's side"), empty_label=_("Both sides"),
    )
    project = ModelChoiceFilter(
        queryset=CooperativeProject.objects.order_by("title", "id"), label=_("Project"), empty_label=_("Any"),
    )
    status = django_filters.ChoiceFilter(choices=ActionStatus.choices, label=_("Status"),
                                         empty_label=_("Any status"))
    due_after = django_filters.DateFilter(field_name="due_on", lookup_expr="gte", label=_("Due from"),
                                          widget=DateInput())
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte", label=_("Due until"),
                                           widget=DateInput())

    class Meta:
        model = ActionItem
        fields = []


class ActionApiFilter(django_filters.FilterSet):
    """``/api/v1/actions/``: the same filters by id, plus the engagement and ``overdue``."""

    owner = django_filters.NumberFilter(field_name="owner_id", min_value=1, max_value=_MAX_ID,
                                        help_text=_("The owner's POC id."))
    side = django_filters.ChoiceFilter(field_name="owner__side", choices=Side.choices,
                                       help_text=_("The owner's side."))
    project = django_filters.NumberFilter(field_name="project_id", min_value=1, max_value=_MAX_ID,
                                          help_text=_("The project's id."))
    engagement = django_filters.NumberFilter(field_name="engagement_id", min_value=1, max_value=_MAX_ID,
                                             help_text=_("The engagement's id."))
    status = django_filters.ChoiceFilter(choices=ActionStatus.choices)
    due_after = django_filters.DateFilter(field_name="due_on", lookup_expr="gte",
                                          help_text=_("Due on or after this date (YYYY-MM-DD)."))
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte",
                                           help_text=_("Due on or before this date (YYYY-MM-DD)."))
    overdue = django_filters.BooleanFilter(
        method="filter_overdue",
        help_text=_("true: open actions past their due date (in the framework's time zone); false: the others."))

    class Meta:
        model = ActionItem
        fields = []

    def filter_overdue(self, queryset, name, value):
        late = Q(status=ActionStatus.OPEN, due_on__lt=framework_today())
        return queryset.filter(late) if value else queryset.exclude(late)


def engagement_choice_label(engagement: Engagement) -> str:
    summary = engagement.summary if len(engagement.summary) <= 60 else engagement.summary[:59] + "…"
    return f"{engagement.date.isoformat()} · {engagement.get_kind_display()} · {summary}"

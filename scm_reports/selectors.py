"""The framework's readiness rule: "presenting at least one project or
initiative each year before the SCM".

``readiness_by_year`` is the one place the rule lives; the Celery job, the
dashboard, the API and the SCM reports all call it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Case, Count, IntegerField, Value, When
from django.utils.translation import gettext_lazy as _

from projects.models import CooperativeProject
from rcf.validators import YEAR_MAX, YEAR_MIN, shift_date

from .models import SCMCycle


class ReadinessState:
    COVERED = "covered"
    MISSED = "missed"
    AT_RISK = "at_risk"
    PENDING = "pending"
    UNSCHEDULED = "unscheduled"

    ALL = (COVERED, MISSED, AT_RISK, PENDING, UNSCHEDULED)


STATE_LABELS = {
    ReadinessState.COVERED: _("Covered"),
    ReadinessState.MISSED: _("Missed"),
    ReadinessState.AT_RISK: _("At risk"),
    ReadinessState.PENDING: _("Pending"),
    ReadinessState.UNSCHEDULED: _("Unscheduled"),
}


@dataclass(frozen=True)
class YearReadiness:
    year: int
    state: str
    cycle: SCMCycle | None = None
    deadline: datetime.date | None = None
    # The window is (window_after, deadline]; window_after is None only when
    # the window starts on RCF_LAUNCH_DATE inclusive (the first cycle).
    window_start: datetime.date | None = None
    counting_projects: int = 0
    days_left: int | None = None
    counting_project_ids: list[int] = field(default_factory=list)

    @property
    def at_risk_from(self) -> datetime.date | None:
        """The first day the year is at risk if nothing is ready by then."""
        return shift_date(self.deadline, -settings.RCF_AT_RISK_DAYS)

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def scm_number(self) -> int | None:
        return self.cycle.number if self.cycle else None

    @property
    def meeting_date(self) -> datetime.date | None:
        return self.cycle.meeting_date if self.cycle else None

    def as_dict(self) -> dict:
        return {
            "year": self.year,
            "scm_number": self.scm_number,
            "meeting_date": self.meeting_date.isoformat() if self.meeting_date else None,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "window_start": self.window_start.isoformat() if self.window_start else None,
            "state": self.state,
            "days_left": self.days_left,
            "counting_projects": self.counting_projects,
            "counting_project_ids": self.counting_project_ids,
        }


def cycle_deadline(cycle: SCMCycle) -> datetime.date:
    """The last day a project can become ready for this SCM: the recorded
    deadline, or else the day before the meeting."""
    return cycle.readiness_deadline or shift_date(cycle.meeting_date, -1)


def _launch_date() -> datetime.date:
    return datetime.date.fromisoformat(str(settings.RCF_LAUNCH_DATE))


def _windows(cycles: list[SCMCycle]) -> dict[int, tuple[datetime.date, datetime.date]]:
    """year -> (first day, last day) of the window in which a project that
    becomes ready counts for that year's SCM. Windows are consecutive: each
    starts the day after the previous recorded cycle's deadline, the first
    on the launch date. A year with no recorded cycle has no window; its
    projects count for the next recorded SCM. A cycle outside the years
    rcf.validators bounds (stored before the bounds existed) means nothing
    and is left out."""
    windows = {}
    start = _launch_date()
    for cycle in cycles:
        if cycle.year < max(settings.RCF_FIRST_YEAR, YEAR_MIN) or cycle.year > YEAR_MAX:
            continue
        deadline = cycle_deadline(cycle)
        windows[cycle.year] = (start, deadline)
        start = shift_date(deadline, 1)
    return windows


def annotate_scm_year(
    queryset, windows: dict[int, tuple[datetime.date, datetime.date]] | None = None, *, guarded: bool = True
):
    """Annotate a project queryset with ``scm_year``: the SCM year each project
    counts for, NULL when it counts for none. Windows are consecutive, so "the
    first deadline on or after ready_on" is the year: one CASE expression."""
    if windows is None:
        windows = scm_windows()
    if not windows:
        return queryset.annotate(scm_year=Value(None, output_field=IntegerField()))
    first = min(start for start, _ in windows.values())
    # Unguarded when the caller already keeps only live projects inside the windows (projects_counting).
    whens = [When(deleted_at__isnull=False, then=Value(None)), When(ready_on__lt=first, then=Value(None))] \
        if guarded else []
    whens += [When(ready_on__lte=end, then=Value(year)) for year, (_, end) in sorted(windows.items())]
    return queryset.annotate(scm_year=Case(*whens, default=Value(None), output_field=IntegerField()))


def projects_counting(queryset, windows: dict[int, tuple[datetime.date, datetime.date]] | None = None):
    """Only the projects that count for some SCM year, annotated with it
    (the range condition lets the database use the ready_on index)."""
    if windows is None:
        windows = scm_windows()
    if not windows:
        return queryset.none().annotate(scm_year=Value(None, output_field=IntegerField()))
    first = min(start for start, _ in windows.values())
    last = max(end for _, end in windows.values())
    return annotate_scm_year(
        queryset.filter(deleted_at__isnull=True, ready_on__gte=first, ready_on__lte=last), windows, guarded=False
    )


def scm_windows() -> dict[int, tuple[datetime.date, datetime.date]]:
    """year -> (first day, last day) of each recorded SCM's readiness window."""
    return _windows(list(SCMCycle.objects.order_by("year")))


def _state(*, count: int, today: datetime.date, deadline: datetime.date) -> str:
    if count:
        return ReadinessState.COVERED
    if today > deadline:
        return ReadinessState.MISSED
    if today >= shift_date(deadline, -settings.RCF_AT_RISK_DAYS):  # YearReadiness.at_risk_from
        return ReadinessState.AT_RISK
    return ReadinessState.PENDING


def readiness_by_year(
    *, today: datetime.date, with_project_ids: bool = False, cycles: list[SCMCycle] | None = None
) -> list[YearReadiness]:
    """The state of the framework's goal for every year from ``RCF_FIRST_YEAR``
    to the later of ``today``'s year and the last recorded SCM, never beyond
    ``rcf.validators.YEAR_MAX`` (a year 9000 must not mean 7,000 rows).

    ``today`` is the calendar date in ``RCF_TIME_ZONE`` (see
    ``rcf.selectors.framework_today``); it is never read from the clock here.
    Two queries (cycles, counts), three with ``with_project_ids``; one less
    when the caller passes the live ``cycles`` it has already read.
    """
    if cycles is None:
        cycles = list(SCMCycle.objects.order_by("year"))
    by_year = {c.year: c for c in cycles}
    windows = _windows(cycles)
    counts: dict[int, int] = {}
    ids: dict[int, list[int]] = {}
    if windows:
        counted = projects_counting(CooperativeProject.objects.order_by(), windows)
        counts = dict(counted.values("scm_year").annotate(n=Count("*")).values_list("scm_year", "n"))
        if with_project_ids:
            for year, pk in counted.order_by("ready_on", "pk").values_list("scm_year", "pk"):
                ids.setdefault(year, []).append(pk)

    last_year = min(max([today.year, *(c.year for c in cycles)]), YEAR_MAX)
    result = []
    for year in range(settings.RCF_FIRST_YEAR, last_year + 1):
        cycle = by_year.get(year)
        if cycle is None or year not in windows:
            result.append(YearReadiness(year=year, state=ReadinessState.UNSCHEDULED))
            continue
        start, deadline = windows[year]
        count = counts.get(year, 0)
        result.append(
            YearReadiness(
                year=year,
                state=_state(count=count, today=today, deadline=deadline),
                cycle=cycle,
                deadline=deadline,
                window_start=start,
                counting_projects=count,
                days_left=(deadline - today).days,
                counting_project_ids=ids.get(year, []),
            )
        )
    return result


def readiness_for_year(*, year: int, today: datetime.date, with_project_ids: bool = False) -> YearReadiness | None:
    return next((r for r in readiness_by_year(today=today, with_project_ids=with_project_ids) if r.year == year), None)


def projects_counting_for(*, year: int):
    """The live projects that count for ``year``'s SCM (what will be presented)."""
    return projects_counting(CooperativeProject.objects.all()).filter(scm_year=year)


def open_flags():
    from .models import ReadinessFlag

    return ReadinessFlag.objects.filter(resolved_at__isnull=True).select_related("scm_cycle")


__all__ = [
    "ReadinessState",
    "YearReadiness",
    "cycle_deadline",
    "open_flags",
    "projects_counting_for",
    "readiness_by_year",
    "readiness_for_year",
]

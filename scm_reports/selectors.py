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
from django.db.models.functions import ExtractYear, Greatest
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


def _waiting_tail(windows: dict[int, tuple[datetime.date, datetime.date]]) -> tuple[datetime.date, int]:
    """Where the recorded windows end: (the first day after the last recorded
    deadline, or the launch date when none is recorded; the first year with no
    SCM recorded after it). A project ready on or after that day is *waiting*:
    it counts for the year it became ready in, but never for a year before
    that first unrecorded one (ready after the 57th SCM's deadline in late
    2025 means the 2026 SCM). Once that SCM is recorded its window covers
    the same days, up to the deadline, so nothing moves."""
    if not windows:
        return _launch_date(), max(settings.RCF_FIRST_YEAR, YEAR_MIN)
    last_year = max(windows)
    return shift_date(windows[last_year][1], 1), last_year + 1


def annotate_scm_year(
    queryset, windows: dict[int, tuple[datetime.date, datetime.date]] | None = None, *, guarded: bool = True
):
    """Annotate a project queryset with ``scm_year``: the SCM year each project
    counts for, NULL when it counts for none. Windows are consecutive, so "the
    first deadline on or after ready_on" is the year: one CASE expression. A
    project ready after the last recorded deadline counts for the year it
    became ready in, and at the earliest for the year after the last recorded
    SCM (``_waiting_tail``): it waits for that SCM to be recorded."""
    if windows is None:
        windows = scm_windows()
    tail_start, tail_year = _waiting_tail(windows)
    first = min([start for start, _ in windows.values()] + [tail_start])
    # Unguarded when the caller already keeps only live projects from the first window on (projects_counting).
    whens = [When(deleted_at__isnull=False, then=Value(None)), When(ready_on__lt=first, then=Value(None))] \
        if guarded else []
    whens += [When(ready_on__lte=end, then=Value(year)) for year, (_, end) in sorted(windows.items())]
    whens.append(When(ready_on__gte=tail_start, then=Greatest(ExtractYear("ready_on"), Value(tail_year))))
    return queryset.annotate(scm_year=Case(*whens, default=Value(None), output_field=IntegerField()))


def projects_counting(queryset, windows: dict[int, tuple[datetime.date, datetime.date]] | None = None):
    """Only the projects that count for some SCM year, recorded or waiting to
    be, annotated with it (the range condition lets the database use the
    ready_on index)."""
    if windows is None:
        windows = scm_windows()
    first = min([start for start, _ in windows.values()] + [_waiting_tail(windows)[0]])
    return annotate_scm_year(queryset.filter(deleted_at__isnull=True, ready_on__gte=first), windows, guarded=False)


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
    *, today: datetime.date, with_project_ids: bool = False, cycles: list[SCMCycle] | None = None,
    source: str = "projects",
) -> list[YearReadiness]:
    """The state of the framework's goal for every year from ``RCF_FIRST_YEAR``
    to the later of ``today``'s year and the last recorded SCM, never beyond
    ``rcf.validators.YEAR_MAX`` (a year 9000 must not mean 7,000 rows).

    ``today`` is the calendar date in ``RCF_TIME_ZONE`` (see
    ``rcf.selectors.framework_today``); it is never read from the clock here.
    Two queries (cycles, counts), three with ``with_project_ids``; one less
    when the caller passes the live ``cycles`` it has already read.

    A year with no SCM recorded is ``unscheduled``; from the year after the
    last recorded SCM on, its ``counting_projects`` are the ready projects
    waiting for that SCM to be recorded. Recording it changes their year
    only if they became ready after its deadline.

    ``source="counts"`` (the dashboard): the counts come from the summary
    rows (``projects.counts``), which store this rule's ``scm_year`` per
    project as it changes and recount it when the windows move: a row per
    year, never a scan of the projects; ``with_project_ids`` still reads them.
    """
    if cycles is None:
        cycles = list(SCMCycle.objects.order_by("year"))
    by_year = {c.year: c for c in cycles}
    windows = _windows(cycles)
    ids: dict[int, list[int]] = {}
    counted = projects_counting(CooperativeProject.objects.order_by(), windows)
    if source == "counts":
        from projects import counts as summary

        counts = summary.scm_year_counts()
    else:
        counts = dict(counted.values("scm_year").annotate(n=Count("*")).values_list("scm_year", "n"))
    if with_project_ids:
        for year, pk in counted.order_by("ready_on", "pk").values_list("scm_year", "pk"):
            ids.setdefault(year, []).append(pk)

    tail_year = _waiting_tail(windows)[1]
    # A year whose projects wait for its SCM is listed even before it begins
    # (ready in December, after that year's SCM: the next year's).
    waiting_years = [y for y in counts if y is not None and y >= tail_year]
    last_year = min(max([today.year, *(c.year for c in cycles), *waiting_years]), YEAR_MAX)
    result = []
    for year in range(settings.RCF_FIRST_YEAR, last_year + 1):
        cycle = by_year.get(year)
        if cycle is None or year not in windows:
            # Unscheduled. After the last recorded SCM the ready projects are
            # shown waiting; in a gap between recorded SCMs they count for the
            # next recorded one instead (its window spans the gap).
            waiting = year >= tail_year
            result.append(YearReadiness(
                year=year, state=ReadinessState.UNSCHEDULED,
                counting_projects=counts.get(year, 0) if waiting else 0,
                counting_project_ids=ids.get(year, []) if waiting else [],
            ))
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


# --- SCM presentations ---------------------------------------------------------------


def presentations_at(*, cycle) -> list:
    """What was presented at ``cycle`` (an SCMCycle, or None) and decided there, by priority area."""
    from .models import SCMPresentation

    if cycle is None:
        return []
    return list(SCMPresentation.objects.filter(scm_cycle=cycle, project__deleted_at__isnull=True)
                .select_related("project__priority_area", "recorded_by")
                .order_by("project__priority_area__sort_order", "project__title", "id"))


def presentations_of(*, project) -> list:
    """Every SCM ``project`` was presented or reported at, earliest first."""
    from .models import SCMPresentation

    return list(SCMPresentation.objects.filter(project=project).select_related("scm_cycle", "recorded_by")
                .order_by("scm_cycle__meeting_date", "id"))


# --- The weekly digest to lead POCs (issue 11) -------------------------------------------


def weekly_digest_for(*, poc, today: datetime.date) -> dict:
    """What ``poc``'s weekly digest lists for the week of ``today``
    (``scm_reports.digest.weekly_digest_for`` documents the keys)."""
    from .digest import weekly_digest_for as assemble

    return assemble(poc=poc, today=today)


# --- The readiness timeline's names (issue 12) -----------------------------------------------


def year_ready_range(year: int, windows: dict) -> tuple[datetime.date, datetime.date] | None:
    """The days a project must have become ready on to count for ``year``
    (``annotate_scm_year`` read backwards): its recorded window; after the
    last recorded SCM, the days of ``year`` from the end of the recorded
    windows on (the first unrecorded year also takes the days before it, ready
    after the last deadline). None for a year nothing can count for (no SCM
    recorded, between two recorded ones)."""
    if year in windows:
        return windows[year]
    tail_start, tail_year = _waiting_tail(windows)
    if year < tail_year or year > YEAR_MAX:
        return None
    first = tail_start if year == tail_year else max(tail_start, datetime.date(year, 1, 1))
    last = datetime.date(year, 12, 31)
    return (first, last) if first <= last else None


def counting_projects_by_year(*, years, windows: dict | None = None, limit: int = 5) -> dict[int, list]:
    """year -> the first ``limit`` live projects that count for that year's
    SCM (or wait for it to be recorded), earliest ready first: the same
    projects ``readiness_by_year`` counts (its counts say how many more), with
    what a page needs to name them. One query, whatever the data: each year
    reads at most ``limit`` rows along the ready_on index, within its range
    of days (``year_ready_range``)."""
    from projects.selectors import first_rows_each

    if windows is None:
        windows = scm_windows()
    base = CooperativeProject.objects.only("pk", "title", "title_ko", "ready_on", "status")
    parts = []
    for year in sorted(set(years)):
        days = year_ready_range(year, windows)
        if days is not None:
            # The range is exactly the days annotate_scm_year maps to ``year``: the year is a constant here (no
            # CASE over every window to plan per year, none for the planner to misjudge as a filter).
            parts.append(base.filter(ready_on__gte=days[0], ready_on__lte=days[1])
                         .annotate(scm_year=Value(year, output_field=IntegerField()))
                         .order_by("ready_on", "pk")[:limit])
    result: dict[int, list] = {}
    for project in first_rows_each(parts):
        result.setdefault(project.scm_year, []).append(project)
    return result

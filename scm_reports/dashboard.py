"""Reads for the POC priority dashboard and the SCM reports.

Every figure here comes from the readiness rule in ``selectors`` (one rule,
one place); this module only aggregates projects around it. The dashboard
reads everything in a fixed number of queries, whatever the data size.
"""

from __future__ import annotations

import bisect
import datetime
from dataclasses import dataclass, field

from django.db.models import CharField, Count, F, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value, Window

from projects import counts as project_counts
from projects import selectors as project_selectors
from projects.filters import filter_by_area, filter_by_year
from projects.models import CooperativeProject, ProjectStatus, ProjectTransition
from rcf.models import FOCUS_GROUPS, CountryGroup, PartnerCountry, PriorityArea

from .models import ReadinessFlag, SCMCycle
from .selectors import (
    YearReadiness,
    _windows,
    annotate_scm_year,
    projects_counting,
    readiness_by_year,
)

S = ProjectStatus
# Work still going on: the coverage of partner countries counts these (kept in projects.counts' summary rows).
ACTIVE_STATUSES = project_counts.ACTIVE_STATUSES
PIPELINE_STATUSES = (S.UNDER_REVIEW, S.PRIORITIZED)
PIPELINE_LIMIT = 25
PRESENTED_STATUSES = (S.PRESENTED, S.IN_IMPLEMENTATION, S.COMPLETED)


@dataclass(frozen=True)
class DashboardFilters:
    side: str | None = None  # the project's lead side: us, rok or joint
    area: PriorityArea | None = None  # primary or additional area
    year: int | None = None  # target SCM year, or the SCM year the project counts for

    @property
    def active(self) -> bool:
        return bool(self.side or self.area or self.year)


def filtered_projects(filters: DashboardFilters, windows) -> QuerySet:
    """The same filters as the project list (projects.filters), so that every
    dashboard link to the list shows the same projects."""
    queryset = CooperativeProject.objects.all()
    if filters.side:
        queryset = queryset.filter(lead_side=filters.side)
    if filters.area:
        queryset = filter_by_area(queryset, filters.area)
    if filters.year:
        queryset = filter_by_year(annotate_scm_year(queryset, windows), filters.year)
    return queryset


def next_scm(readiness: list[YearReadiness], today: datetime.date) -> YearReadiness | None:
    """The SCM the staff are working towards: the first recorded meeting on or
    after today; else, once this year's SCM has met, the next year's when
    projects already wait for it; else this year's entry."""
    for row in readiness:
        if row.meeting_date and row.meeting_date >= today:
            return row
    this_year = next((r for r in readiness if r.year == today.year), readiness[-1] if readiness else None)
    if this_year is not None and this_year.cycle is not None:
        waiting = next((r for r in readiness if r.year > this_year.year and r.counting_projects), None)
        return waiting or this_year
    return this_year


def area_status_matrix(filters: DashboardFilters, areas: list[PriorityArea]) -> dict:
    """Projects per primary area and status under ``filters``, from the
    summary rows (``projects.counts``). One query."""
    counts = project_counts.matrix_counts(filters)
    statuses = list(S)
    rows = []
    for area in areas:
        cells = [{"status": s, "count": counts.get((area.pk, s.value), 0)} for s in statuses]
        rows.append({"area": area, "cells": cells, "total": sum(c["count"] for c in cells)})
    totals = [{"status": s, "count": sum(r["cells"][i]["count"] for r in rows)} for i, s in enumerate(statuses)]
    return {"statuses": statuses, "rows": rows, "totals": totals, "total": sum(t["count"] for t in totals)}


PIPELINE_FIELDS = ("pk", "version", "title", "title_ko", "status", "priority", "created_at", "updated_at",
                   "priority_area__name", "priority_area__name_ko", "us_lead_poc__full_name",
                   "rok_lead_poc__full_name")


def pipeline(projects: QuerySet, today: datetime.date, limit: int = PIPELINE_LIMIT) -> dict:
    """Projects under review or prioritised, highest priority first, with the
    days they have spent in their current stage. At most ``limit``, read in
    order along the ``project_live_pipeline`` index (status, priority, latest
    change, id): no sort of every project in the pipeline (issue 14)."""
    entered = ProjectTransition.objects.filter(project=OuterRef("pk"), to_status=OuterRef("status")).order_by(
        "-at").values("at")[:1]
    queryset = (
        projects.filter(status__in=PIPELINE_STATUSES)
        .select_related("priority_area", "us_lead_poc", "rok_lead_poc")
        # Only what the pipeline shows (and the version its priority forms send back): a page of 25
        # rows costs the template and the fingerprint of its panel no more than it must (issue 14).
        .only(*PIPELINE_FIELDS)
        .prefetch_related(Prefetch("partner_countries", queryset=PartnerCountry.objects.only("pk", "name", "name_ko")))
        .annotate(stage_since=Subquery(entered))
        # "prioritized" sorts before "under_review": prioritised work first,
        # then priority 1 first, unset last.
        .order_by("status", F("priority").asc(nulls_last=True), "-updated_at", "pk")
    )
    rows = list(queryset[:limit])
    for project in rows:
        since = project.stage_since or project.created_at
        project.days_in_stage = (today - since.date()).days
    return {"projects": rows, "limit": limit}


def partner_coverage(filters: DashboardFilters, today: datetime.date) -> list[dict]:
    """Every ASEAN and Pacific Island country (members as of ``today``) with
    its number of active projects under ``filters``; the ones with none come
    first. One query: the countries with their summary rows (``projects.counts``)."""
    countries = project_counts.with_active_projects(
        PartnerCountry.objects.filter(group__in=FOCUS_GROUPS).order_by("group", "name"), filters)
    groups = {g: [] for g in FOCUS_GROUPS}
    for country in countries:
        if country.is_member_on(today):
            groups[country.group].append(country)
    return [
        {
            "group": group,
            "label": CountryGroup(group).label,
            "countries": sorted(members, key=lambda c: (c.active_projects > 0, c.name)),
            "uncovered": sum(1 for c in members if not c.active_projects),
        }
        for group, members in groups.items()
    ]


@dataclass
class Dashboard:
    today: datetime.date
    filters: DashboardFilters
    readiness: list[YearReadiness]
    next_scm: YearReadiness | None
    open_flags: list[ReadinessFlag]
    areas: list[PriorityArea]
    matrix: dict
    pipeline: dict
    coverage: list[dict]
    years: list[int] = field(default_factory=list)
    # Issue 11: projects in implementation by health (projects.selectors.implementation_by_health)
    # and resource totals per side, kind and currency (projects.selectors.resource_totals).
    implementation: dict = field(default_factory=dict)
    resource_totals: list = field(default_factory=list)
    # Issue 12: the readiness timeline (readiness_timeline): recent, current and next SCM years.
    timeline: list = field(default_factory=list)

    @property
    def next_scm_flags(self):
        if self.next_scm is None:
            return []
        return [f for f in self.open_flags if f.year == self.next_scm.year]


def dashboard(*, today: datetime.date, filters: DashboardFilters | None = None, areas=None) -> Dashboard:
    """Everything the dashboard shows, in a fixed number of queries whatever
    the amount of data (a year filter adds nothing: the SCM windows come from
    the cycles read once). Every figure (readiness per year, the area x
    status matrix, the coverage of partner countries, the projects in
    implementation per health, the resource totals) is read from the summary
    rows ``projects.counts`` keeps current, a few hundred rows, never the
    projects; only the lists (pipeline, projects in implementation, the
    timeline's names) read projects, each at most a page along an index.
    The timeline, like the readiness rule, ignores the filters: a year is met
    or not for everyone."""
    filters = filters or DashboardFilters()
    cycles = list(SCMCycle.objects.order_by("year"))
    windows = _windows(cycles)
    readiness = readiness_by_year(today=today, cycles=cycles, source="counts")
    areas = list(areas if areas is not None else PriorityArea.objects.all())
    projects = filtered_projects(filters, windows)
    upcoming = next_scm(readiness, today)
    return Dashboard(
        today=today,
        filters=filters,
        readiness=readiness,
        next_scm=upcoming,
        timeline=readiness_timeline(readiness, today=today, focus=upcoming, windows=windows),
        open_flags=list(ReadinessFlag.objects.filter(resolved_at__isnull=True).select_related("scm_cycle")
                        .order_by("year", "kind")),
        areas=areas,
        matrix=area_status_matrix(filters, areas),
        pipeline=pipeline(projects, today),
        coverage=partner_coverage(filters, today),
        years=[r.year for r in readiness],
        implementation=project_selectors.implementation_by_health(
            projects=projects, today=today, counts=project_counts.health_counts(filters, today)),
        resource_totals=project_counts.resource_totals(filters),
    )


# --- The SCM report ------------------------------------------------------------------


def scm_report(*, year: int, today: datetime.date) -> dict | None:
    """What the lead POCs take into the SCM of ``year``: the projects that
    count for it by priority area (in full), what became of those presented at
    earlier SCMs (``earlier_counts``: counts per year and status, not every
    project), the year's flags, and the coverage of the areas and partner
    groups. A fixed number of queries, whatever the data."""
    cycles = list(SCMCycle.objects.order_by("year"))
    readiness = {r.year: r for r in readiness_by_year(today=today, cycles=cycles)}
    row = readiness.get(year)
    if row is None:
        return None
    windows = _windows(cycles)
    base = projects_counting(CooperativeProject.objects.all(), windows).select_related(
        "priority_area", "us_lead_poc__organization", "rok_lead_poc__organization"
    ).prefetch_related("partner_countries", "additional_areas")
    counting = list(base.filter(scm_year=year).order_by("priority_area__sort_order", "priority", "title"))
    earlier = earlier_counts(year=year, windows=windows)
    areas = list(PriorityArea.objects.all())
    by_area = [{"area": a, "projects": [p for p in counting if p.priority_area_id == a.pk]} for a in areas]
    touched = {p.priority_area_id for p in counting} | {a.pk for p in counting for a in p.additional_areas.all()}
    countries = PartnerCountry.objects.filter(group__in=FOCUS_GROUPS).order_by("name")
    reference_day = row.meeting_date or today
    covered_countries = {c.pk for p in counting for c in p.partner_countries.all()}
    groups = []
    for group in FOCUS_GROUPS:
        members = [c for c in countries if c.group == group and c.is_member_on(reference_day)]
        groups.append({
            "label": CountryGroup(group).label,
            "covered": [c for c in members if c.pk in covered_countries],
            "uncovered": [c for c in members if c.pk not in covered_countries],
            "members": len(members),
        })
    return {
        "year": year,
        "readiness": row,
        "cycle": row.cycle,
        "by_area": by_area,
        "counting": counting,
        "earlier": earlier,
        "flags": list(ReadinessFlag.objects.filter(year=year).select_related("scm_cycle").order_by("raised_at")),
        "area_coverage": [{"area": a, "covered": a.pk in touched} for a in areas],
        "group_coverage": groups,
        "today": today,
        # The counting projects' resources per side, kind and currency (issue 11).
        "resource_totals": project_selectors.resource_totals(projects=base.filter(scm_year=year)),
    }


def earlier_counts(*, year: int, windows: dict) -> list[dict]:
    """The projects that counted for each SCM before ``year``, latest year
    first: ``year``, ``total`` and ``statuses`` (``status``, ``label``,
    ``count``, in lifecycle order, only those with projects). One grouped
    query along the ready_on index; the report links each figure to the
    project list of that SCM year."""
    from django.db.models import Count

    from .selectors import year_ready_range

    queryset = projects_counting(CooperativeProject.objects.order_by(), windows).filter(scm_year__lt=year)
    days = year_ready_range(year, windows)
    if days is not None:
        queryset = queryset.filter(ready_on__lt=days[0])  # the index's range: everything before the year's window
    counts: dict[int, dict[str, int]] = {}
    for scm_year, status, n in queryset.values("scm_year", "status").annotate(n=Count("pk")).values_list(
            "scm_year", "status", "n"):
        counts.setdefault(scm_year, {})[status] = n
    return [
        {"year": scm_year, "total": sum(by_status.values()),
         "statuses": [{"status": s.value, "label": s.label, "count": by_status[s.value]}
                      for s in S if by_status.get(s.value)]}
        for scm_year, by_status in sorted(counts.items(), reverse=True)
    ]


# --- Joint concurrence: what the signed-in lead POC is asked to answer -------------------


def awaiting_concurrence(*, poc) -> dict | None:
    """For the signed-in lead POC (``contacts.selectors.acting_lead_poc``):
    the open proposals of the other side awaiting this side's concurrence,
    and this side's own still awaiting the other side. None for anyone else
    (the panel is not shown). One query."""
    from projects.models import Concurrence

    if poc is None:
        return None
    still_open = (
        Concurrence.objects.filter(concurred_at__isnull=True, declined_at__isnull=True, withdrawn_at__isnull=True,
                                   project__deleted_at__isnull=True)
        .select_related("project", "proposer_poc")
        .order_by("proposed_at", "id")
    )
    rows = list(still_open)
    return {
        "poc": poc,
        "yours": [c for c in rows if c.side != poc.side],
        "theirs": [c for c in rows if c.side == poc.side],
    }


# --- The readiness timeline (issue 12) ---------------------------------------------------------

TIMELINE_YEARS_AHEAD = 2  # years after this one the timeline draws (the cycle list has them all)
TIMELINE_NAMES = 5  # projects named per year; the rest behind "and n more"


@dataclass
class TimelineYear:
    """One SCM year on the dashboard's readiness timeline. Its state, deadline,
    days left and counting projects are the readiness rule's
    (``selectors.readiness_by_year``); this only adds the projects' names, the
    day the year was met and the geometry of its window (``charts.readiness_window``)."""

    readiness: YearReadiness
    is_next: bool = False
    is_past: bool = False
    projects: list = field(default_factory=list)  # the counting (or, unscheduled, waiting) projects, named
    more: int = 0
    met_on: datetime.date | None = None
    candidates: list = field(default_factory=list)  # prioritised, not ready yet: what could still count
    candidates_more: int = 0
    window: dict | None = None
    has_report: bool = True  # False for the next year shown before the rule lists it (no report page yet)

    @property
    def year(self) -> int:
        return self.readiness.year

    @property
    def days_missed(self) -> int | None:
        days = self.readiness.days_left
        return -days if days is not None and days < 0 else None


def _prioritised_total() -> int:
    """How many live projects are prioritised: from the dashboard's summary
    rows (``projects.counts``, all filters off), never a count of the projects."""
    return sum(n for (_area, status), n in project_counts.matrix_counts(None).items() if status == S.PRIORITIZED)


def ready_candidates(limit: int = TIMELINE_NAMES) -> dict:
    """The projects that could still count for the next SCM: prioritised ones,
    those with a "Ready" proposal awaiting the other side's concurrence first,
    then by priority and title. ``projects`` (at most ``limit``), ``more`` (how
    many others are prioritised) and ``proposed`` (how many await
    concurrence). Two queries, neither growing with the data: the names (the
    proposed ones from the open proposals, counted there too, the others along
    the ``project_live_candidates`` index, each at most ``limit``, in one
    query) and the prioritised total from the summary rows."""
    from projects.models import Concurrence, ConcurrenceStep, ProposingSide
    from projects.selectors import first_rows_each

    open_ready = Concurrence.objects.filter(step=ConcurrenceStep.READY, concurred_at__isnull=True,
                                            declined_at__isnull=True, withdrawn_at__isnull=True)
    prioritised = CooperativeProject.objects.filter(status=S.PRIORITIZED).only(
        "pk", "title", "title_ko", "priority", "status")
    # The proposed ones are few (open proposals): counted in the same query (a window over them, before LIMIT).
    proposed_first = (prioritised.filter(pk__in=open_ready.values("project"))
                      .annotate(proposing_side=Subquery(open_ready.filter(project=OuterRef("pk")).values("side")[:1]),
                                proposed_total=Window(Count("pk")))
                      .order_by("priority", "title", "pk")[:limit])
    others = (prioritised.exclude(pk__in=open_ready.values("project"))
              .annotate(proposing_side=Value(None, output_field=CharField()),
                        proposed_total=Value(0, output_field=IntegerField()))
              .order_by("priority", "title", "pk")[:limit])
    named = first_rows_each([proposed_first, others])
    proposed = named[0].proposed_total if named and named[0].rcf_part == 0 else 0
    rows = named[:limit]
    for project in rows:
        project.ready_proposed = project.proposing_side is not None
        project.awaited_side = None
        if project.ready_proposed:
            project.awaited_side = ProposingSide.ROK if project.proposing_side == ProposingSide.US else ProposingSide.US
    return {"projects": rows, "more": max(_prioritised_total() - len(rows), 0), "proposed": proposed}


def _ready_days(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The days from ``start`` to ``end`` on which live projects became ready
    (the timeline's dots): from the summary rows, one query of at most a row a day."""
    return [day for day, _n in project_counts.ready_days(start, end)]


def readiness_timeline(readiness: list[YearReadiness], *, today: datetime.date, focus: YearReadiness | None,
                       windows=None) -> list[TimelineYear]:
    """The years the dashboard draws: last year, this year and every later one
    the rule lists (a recorded SCM, or projects waiting for one); once the
    last recorded SCM has met, the next year too (unscheduled: no SCM
    recorded yet). Two queries: the counting projects' names, and the
    prioritised projects that could still count (shown for the next SCM
    when nothing counts for it yet).

    Bounded whatever the data (issue 14): at most ``TIMELINE_NAMES`` names a
    year in one query along the ready_on index (``counting_projects_by_year``),
    "and n more" from the readiness counts, the dots from the days projects
    became ready (the summary rows: one row a day at most), and the
    candidates in two small queries (``ready_candidates``)."""
    from rcf.validators import YEAR_MAX

    from . import charts
    from .selectors import ReadinessState, counting_projects_by_year

    rows = [r for r in readiness if r.year >= today.year - 1]
    listed = {r.year for r in rows}
    last = readiness[-1] if readiness else None
    if last is not None and last.meeting_date is not None and last.meeting_date < today and last.year < YEAR_MAX:
        # What readiness_by_year says of a later year with no SCM and nothing waiting.
        rows.append(YearReadiness(year=last.year + 1, state=ReadinessState.UNSCHEDULED))
    focus_year = focus.year if focus is not None else None
    if focus is not None and focus.meeting_date is not None and focus.meeting_date < today and rows \
            and rows[-1].year > focus.year:
        focus_year = rows[-1].year  # this year's SCM has met: the next one is the one to work towards
    # SCMs recorded far ahead are the cycle list's ("All SCM years"), not the dashboard's: a few years
    # ahead at most, so the page costs the same with 3 cycles recorded or 60.
    horizon = max(today.year + TIMELINE_YEARS_AHEAD, focus_year or 0)
    rows = [r for r in rows if r.year <= horizon]
    named = counting_projects_by_year(years=[r.year for r in rows], windows=windows, limit=TIMELINE_NAMES)
    candidates = ready_candidates()
    drawn = [r for r in rows if r.window_start is not None and r.deadline is not None]
    days = _ready_days(min(r.window_start for r in drawn), max(r.deadline for r in drawn)) if drawn else []
    result = []
    for row in rows:
        projects = named.get(row.year, [])
        # The days inside the row's window: a slice of the sorted days (one a day at most), not a scan a row.
        counting_days = (days[bisect.bisect_left(days, row.window_start):bisect.bisect_right(days, row.deadline)]
                         if row.window_start is not None and row.deadline is not None else [])
        item = TimelineYear(
            readiness=row,
            is_next=row.year == focus_year,
            is_past=row.meeting_date is not None and row.meeting_date < today,
            projects=projects[:TIMELINE_NAMES],
            more=max(row.counting_projects - len(projects[:TIMELINE_NAMES]), 0),
            met_on=projects[0].ready_on if projects and row.state == ReadinessState.COVERED else None,
            window=charts.readiness_window(row, today=today, ready_days=counting_days),
            has_report=row.year in listed,
        )
        if item.is_next and not row.counting_projects:
            item.candidates, item.candidates_more = candidates["projects"], candidates["more"]
        result.append(item)
    return result


# --- The dashboard's rendered panels, cached by what they show (issue 14) -------------------------------


def fingerprint(*values) -> str:
    """A digest of everything in ``values`` (what one dashboard panel shows),
    so that a panel rendered once is reused only while its data is the same:
    a change of any figure, name, date or label changes the digest, and a
    panel is never stale (``scm_reports.templatetags.dashboard_panels``).

    It walks the values the selectors already returned, never the database:
    model instances by every field and annotation read (``__dict__``), with
    the related objects and prefetched lists they carry; dataclasses, dicts,
    lists, dates, numbers, strings and lazy labels (in the active language).
    Anything else (an unevaluated queryset above all) is refused with a
    TypeError rather than guessed at."""
    import dataclasses
    import decimal
    import enum
    import hashlib

    from django.db.models import Model
    from django.utils.functional import Promise

    out: list = []
    add = out.append
    plain = (str, int, float, bool, decimal.Decimal, datetime.date, datetime.datetime, datetime.time, type(None))
    exactly_plain = frozenset(plain)

    def walk(value):
        if type(value) in exactly_plain:  # most values: the fast path
            add(value)
        elif isinstance(value, enum.Enum):  # before str: a TextChoices member is a str too
            add(repr(value))
        elif isinstance(value, plain):
            add(value)
        elif isinstance(value, Promise):
            add(str(value))
        elif isinstance(value, (list, tuple)):
            add(len(value))
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            add(len(value))
            for key, item in value.items():
                add(key)
                walk(item)
        elif isinstance(value, Model):
            add(value._meta.label)
            for key, item in value.__dict__.items():
                if key == "_state":
                    for name, related in item.fields_cache.items():
                        add(name)
                        walk(related)
                elif key == "_prefetched_objects_cache":
                    for name, queryset in item.items():
                        add(name)
                        walk(list(queryset) if queryset._result_cache is not None else _unread(queryset))
                elif key[0] != "_":
                    add(key)
                    if type(item) in exactly_plain:
                        add(item)
                    else:
                        walk(item)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            add(type(value).__name__)
            for f in dataclasses.fields(value):
                add(f.name)
                walk(getattr(value, f.name))
        else:
            raise TypeError(f"fingerprint: cannot digest a {type(value).__name__}")

    for value in values:
        walk(value)
    return hashlib.blake2b(repr(out).encode(), digest_size=16).hexdigest()


def _unread(queryset):
    raise TypeError(f"fingerprint: {queryset.model.__name__} queryset not read yet (it would query)")

"""The dashboard's summary rows (``DashboardCount``), never stale.

Every service that moves a dashboard figure wraps its change in
``tracking(project ids)``: the projects are locked (``select_for_update``,
by id), their current contributions to the figures are computed, the change
happens, their contributions are computed again, and the difference is
applied as increments, sorted by key (the same lock order everywhere, so two
writers cannot deadlock), in the same transaction. Nested ``tracking``
blocks join the outermost one, so a service calling another counts once,
and a transaction making many tracked changes (an import, an admin bulk
action) opens ``batch()`` first: every change joins it, and the summary rows
are written once, in one sorted pass at its end (each change flushing its own
would lock rows in a different order per change and hold them meanwhile: a
deadlock with a concurrent single edit). A nested block is a savepoint: if it
fails, the projects it was the first to see are forgotten (their locks went
with the savepoint, and its change too).

A live project contributes, under each filter it matches (``area``: 0 and
every area it touches; ``year``: 0, its target year and the SCM year it
counts for; and its lead side), one ``matrix`` row (primary area and
status), one ``country`` row per partner country while active, a ``health``
and an ``hday`` row while in implementation (latest live update's health,
and its day), its live resource lines per side, kind and currency
(``res``); and, whatever the filters, one ``ready`` row on its ready day and
one ``scm`` row for the SCM year it counts for. The SCM year comes from the readiness rule
(``projects.selectors.annotate_scm_year``, registered by scm_reports): when
the SCM windows move, ``windows_changed`` recounts the projects whose ready
day can change year. ``rebuild``/``drift`` repair and check everything from
scratch (``manage.py rebuild_dashboard_counts [--check]``).
"""

from __future__ import annotations

import datetime
import functools
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, DecimalField, Max, Min, OuterRef, Q, Subquery, Sum

from .models import NO_DAY, CooperativeProject, DashboardCount, ProgressUpdate, ProjectStatus, ResourceLine

S = ProjectStatus
# Work still going on: the dashboard's coverage of partner countries counts these.
ACTIVE_STATUSES = (S.CONCEPT, S.UNDER_REVIEW, S.PRIORITIZED, S.READY, S.PRESENTED, S.IN_IMPLEMENTATION)
HEALTH_NONE = "none"  # projects.selectors.HEALTH_NONE: in implementation without a live update
CHUNK = 2000  # projects per snapshot query (IN lists stay small)

Key = tuple  # (metric, area, year, side, key, day)
KEY_COLUMNS = ("metric", "area", "year", "side", "key", "day")
# Standard SQL both databases run (double-quoted names; ON CONFLICT: PostgreSQL 9.5+, SQLite 3.24+).
UPSERT_SQL = """
INSERT INTO "projects_dashboardcount" ("metric", "area", "year", "side", "key", "day", "n", "amount")
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT ("metric", "area", "year", "side", "key", "day")
DO UPDATE SET "n" = "projects_dashboardcount"."n" + %s, "amount" = "projects_dashboardcount"."amount" + %s
"""
DELETE_EMPTIED_SQL = """
DELETE FROM "projects_dashboardcount" WHERE "metric" = %s AND "area" = %s AND "year" = %s AND "side" = %s
AND "key" = %s AND "day" = %s AND "n" = 0
"""


# --- Contributions -------------------------------------------------------------------------------


def _amount_sum():
    return Sum("amount", output_field=DecimalField(max_digits=30, decimal_places=2))


class Figures:
    """Contributions to the summary rows: ``n[key]`` (projects, or lines for
    ``res``) and ``amount[key]`` (``res`` only), key = ``KEY_COLUMNS``."""

    __slots__ = ("amount", "n")

    def __init__(self):
        self.n: Counter = Counter()
        self.amount: dict[Key, Decimal] = defaultdict(Decimal)

    def merge(self, other: Figures) -> None:
        self.n.update(other.n)
        for key, value in other.amount.items():
            self.amount[key] += value

    def get(self, key: Key) -> tuple[int, Decimal]:
        return self.n.get(key, 0), self.amount.get(key, ZERO)

    def keys(self) -> set:
        return set(self.n) | set(self.amount)


ZERO = Decimal("0")


def _snapshot(where: dict, windows=None) -> Figures:
    """The contributions of the live projects matching ``where`` (lookups on
    the project: ``pk__in`` or a ``pk`` range). Four queries, whatever the
    number of projects."""
    from .selectors import annotate_scm_year

    through_areas = CooperativeProject.additional_areas.through
    through_countries = CooperativeProject.partner_countries.through
    rel = {f"cooperativeproject_id{k[2:]}": v for k, v in where.items()}  # pk__in -> cooperativeproject_id__in
    areas: dict[int, set[int]] = defaultdict(set)
    for pid, aid in through_areas.objects.filter(**rel).values_list("cooperativeproject_id", "priorityarea_id"):
        areas[pid].add(aid)
    countries: dict[int, list[str]] = defaultdict(list)
    for pid, cid in through_countries.objects.filter(**rel).values_list("cooperativeproject_id",
                                                                          "partnercountry_id"):
        countries[pid].append(str(cid))
    lines: dict[int, list] = defaultdict(list)
    line_rows = (ResourceLine.objects.filter(**{f"project_id{k[2:]}": v for k, v in where.items()}).order_by()
                 .values_list("project_id", "side", "kind", "currency")
                 .annotate(total=_amount_sum(), lines=Count("id")))
    for pid, side, kind, currency, total, count in line_rows:
        lines[pid].append((f"{side}:{kind}:{currency}", count, total or ZERO))
    # The latest live update (by date, then id): projects.selectors.with_current_health's rule, read here
    # from the updates themselves so the counts never depend on a cached column.
    latest = ProgressUpdate.objects.filter(project=OuterRef("pk")).order_by("-date", "-id")
    projects = annotate_scm_year(CooperativeProject.objects.filter(**where).order_by(), windows).annotate(
        latest_health=Subquery(latest.values("health")[:1]), latest_day=Subquery(latest.values("date")[:1]))
    projects = projects.values_list("pk", "lead_side", "status", "priority_area_id", "target_year", "scm_year",
                                    "ready_on", "latest_health", "latest_day")
    found = Figures()
    n, amount = found.n, found.amount
    for pid, side, status, primary, target_year, scm_year, ready_on, health, health_day in projects:
        if ready_on is not None:
            n[("ready", 0, 0, "", "", ready_on)] += 1
        if scm_year is not None:
            n[("scm", 0, 0, "", str(scm_year), NO_DAY)] += 1
        touched = {0, primary} | areas.get(pid, set())
        years = {0} | {y for y in (target_year, scm_year) if y}
        matrix_key = f"{primary}:{status}"
        active = countries.get(pid, ()) if status in ACTIVE_STATUSES else ()
        in_implementation = status == S.IN_IMPLEMENTATION
        health = health or HEALTH_NONE
        project_lines = lines.get(pid, ())
        for a in touched:
            for y in years:
                n[("matrix", a, y, side, matrix_key, NO_DAY)] += 1
                for c in active:
                    n[("country", a, y, side, c, NO_DAY)] += 1
                if in_implementation:
                    n[("health", a, y, side, health, NO_DAY)] += 1
                    if health_day is not None:  # without an update a project is always stale
                        n[("hday", a, y, side, health, health_day)] += 1
                for key, count, total in project_lines:
                    n[("res", a, y, side, key, NO_DAY)] += count
                    amount[("res", a, y, side, key, NO_DAY)] += total
    return found


def contributions(ids: Iterable[int], windows=None) -> Figures:
    """The contributions of the projects ``ids`` (deleted ones contribute nothing)."""
    ids = sorted(set(ids))
    result = Figures()
    for start in range(0, len(ids), CHUNK):
        result.merge(_snapshot({"pk__in": ids[start:start + CHUNK]}, windows))
    return result


def _difference(before: Figures, after: Figures) -> list[tuple[Key, int, Decimal]]:
    changes = []
    for key in sorted(before.keys() | after.keys()):
        n0, a0 = before.get(key)
        n1, a1 = after.get(key)
        if n1 != n0 or a1 != a0:
            changes.append((key, n1 - n0, a1 - a0))
    return changes


def _apply(changes: list[tuple[Key, int, Decimal]]) -> None:
    """Increments, in key order. A row is created with a positive count and
    updated by a signed one (the check constraint n >= 0 applies to the row
    proposed for insertion too); rows left at 0 are deleted."""
    if not changes:
        return
    rows = []
    for (metric, area, year, side, key, day), dn, damount in changes:
        rows.append((metric, area, year, side, key, _day(day), max(dn, 0), damount if dn >= 0 else Decimal("0"),
                     dn, damount))
    emptied = [(m, a, y, s, k, _day(d)) for (m, a, y, s, k, d), dn, _ in changes if dn < 0]
    with connection.cursor() as cursor:
        cursor.executemany(UPSERT_SQL, rows)
        if emptied:
            cursor.executemany(DELETE_EMPTIED_SQL, emptied)


def _day(day: datetime.date):
    return connection.ops.adapt_datefield_value(day)


# --- Tracking changes ----------------------------------------------------------------------------

_local = threading.local()


class Tracker:
    """The projects a ``tracking`` block changes and their contributions before."""

    def __init__(self):
        self.ids: set[int] = set()
        # (ids first seen, their contributions then), in order: a failed nested block drops its own.
        self.seen: list[tuple[list[int], Figures]] = []

    def add(self, *ids: int, new: bool = False) -> None:
        """Track ``ids`` from now on (their contributions now are the "before");
        ``new=True``: just created (they contributed nothing before)."""
        fresh = sorted({int(i) for i in ids if i is not None} - self.ids)
        if not fresh:
            return
        self.ids.update(fresh)
        if new:
            self.seen.append((fresh, Figures()))
            return
        _lock(fresh)
        self.seen.append((fresh, contributions(fresh)))

    def forget_since(self, mark: int) -> None:
        """Forget the projects first seen after ``len(self.seen) == mark``
        (their savepoint rolled back: no change of theirs, no lock)."""
        for fresh, _before in self.seen[mark:]:
            self.ids.difference_update(fresh)
        del self.seen[mark:]

    @property
    def before(self) -> Figures:
        result = Figures()
        for _ids, figures in self.seen:
            result.merge(figures)
        return result

    def finish(self) -> None:
        _apply(_difference(self.before, contributions(self.ids)))


def _lock(ids: list[int]) -> None:
    for start in range(0, len(ids), CHUNK):
        list(CooperativeProject.all_objects.filter(pk__in=ids[start:start + CHUNK]).order_by("pk")
             .select_for_update().values_list("pk", flat=True))


@contextmanager
def tracking(ids: Iterable[int] = ()):
    """Keep the summary rows right across the change made in the block, for
    the projects ``ids`` (and any the block adds: ``tracker.add(pk)``, or
    ``tracker.add(pk, new=True)`` for a project it creates). Runs in a
    transaction; inside another ``tracking`` block it joins that one."""
    outer = getattr(_local, "tracker", None)
    if outer is not None:
        mark = len(outer.seen)
        try:
            with transaction.atomic():
                outer.add(*ids)
                yield outer
        except BaseException:
            outer.forget_since(mark)
            raise
        return
    with transaction.atomic():
        tracker = Tracker()
        _local.tracker = tracker
        try:
            tracker.add(*ids)
            yield tracker
        finally:
            _local.tracker = None
        tracker.finish()


def batch():
    """Around many tracked changes in one transaction (an import, an admin
    bulk action, a service taking two steps): they all join one tracker and
    the summary rows are written once, in one sorted pass, at the end. Usable
    as a decorator."""
    return tracking()


def hold_writers() -> None:
    """Until the transaction ends, keep every tracked change waiting (they
    lock their projects first; plain reads go on): for a change to what the
    counts depend on beyond the projects (the SCM windows), so no change is
    counted with the windows of before and committed after. PostgreSQL
    (SQLite has one writer at a time anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute('LOCK TABLE "projects_cooperativeproject" IN EXCLUSIVE MODE')


def windows_changed(before: dict, after: dict) -> int:
    """The SCM windows moved from ``before`` to ``after`` (year -> (first day,
    last day), ``scm_reports.selectors.scm_windows``): recount the year a
    project counts for, for the live projects ready on or after the earliest
    window that differs whose year does change (earlier ones keep theirs).
    Returns how many projects were recounted. Call it in the transaction of
    the change (``scm_reports.services.scm_windows_moving``)."""
    moved = set(before.items()) ^ set(after.items())
    if not moved:
        return 0
    from .selectors import annotate_scm_year

    since = min(start for _, (start, _) in moved)
    candidates = CooperativeProject.objects.filter(ready_on__gte=since).order_by()
    # Only the projects whose year does change: the rule applied with both windows (two reads of ids).
    old_years = dict(annotate_scm_year(candidates, before).values_list("pk", "scm_year").iterator(chunk_size=10000))
    ids = sorted(pk for pk, year in annotate_scm_year(candidates, after).values_list("pk", "scm_year")
                 .iterator(chunk_size=10000) if old_years.get(pk) != year)
    with transaction.atomic():
        _lock(ids)
        was, now = Figures(), Figures()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            was.merge(_snapshot({"pk__in": chunk}, before))
            now.merge(_snapshot({"pk__in": chunk}, after))
        _apply(_difference(was, now))  # one sorted pass: the same lock order as every other writer
    return len(ids)


# --- Repair and check ----------------------------------------------------------------------------


def actual(batch: int = 20000) -> Figures:
    """Every figure counted from scratch over the projects (by id ranges)."""
    result = Figures()
    bounds = CooperativeProject.objects.order_by().aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return result
    for lo in range(bounds["lo"], bounds["hi"] + 1, batch):
        result.merge(_snapshot({"pk__gte": lo, "pk__lt": lo + batch}))
    return result


def stored() -> Figures:
    result = Figures()
    rows = DashboardCount.objects.filter(n__gt=0).values_list(*KEY_COLUMNS, "n", "amount")
    for *key, n, amount in rows.iterator(chunk_size=10000):
        result.n[tuple(key)] = n
        if amount:
            result.amount[tuple(key)] = Decimal(amount)
    return result


def drift() -> list[dict]:
    """The rows whose stored figure differs from a count from scratch:
    ``{"key", "stored", "actual"}`` (each ``(n, amount)``), by key. Reads only,
    all in one snapshot (on PostgreSQL a REPEATABLE READ, READ ONLY
    transaction): a change committed meanwhile is seen by none of the reads
    or by all, never as a false drift."""
    from rcf.api import repeatable_read_only

    with repeatable_read_only(), transaction.atomic():
        have, want = stored(), actual()
    rows = []
    for key in sorted(have.keys() | want.keys()):
        h, w = have.get(key), want.get(key)
        if h != w and (h[0] or w[0]):  # a row at 0 is no row
            rows.append({"key": key, "stored": h, "actual": w})
    return rows


@transaction.atomic
def rebuild() -> int:
    """Replace every summary row with a count from scratch, in one
    transaction; on PostgreSQL the projects' table is locked against writers
    meanwhile (every tracked change locks its projects first, so none runs
    half before and half after). Returns the number of rows written."""
    hold_writers()
    want = actual()
    DashboardCount.objects.all().delete()
    keys = sorted(key for key, n in want.n.items() if n)
    DashboardCount.objects.bulk_create(
        (DashboardCount(metric=m, area=a, year=y, side=s, key=k, day=d, n=want.n[(m, a, y, s, k, d)],
                        amount=want.amount.get((m, a, y, s, k, d), ZERO))
         for m, a, y, s, k, d in keys),
        batch_size=5000)
    return len(keys)


# --- Reads (the dashboard's figures) -------------------------------------------------------------


def _filtered(metric: str | None, filters) -> object:
    area = getattr(filters, "area", None) if filters is not None else None
    year = getattr(filters, "year", None) if filters is not None else None
    side = getattr(filters, "side", None) if filters is not None else None
    rows = DashboardCount.objects.filter(area=getattr(area, "pk", area) or 0, year=year or 0)
    if metric is not None:
        rows = rows.filter(metric=metric)
    if side:
        rows = rows.filter(side=side)
    return rows.order_by()


def matrix_counts(filters=None) -> dict[tuple[int, str], int]:
    """(primary area id, status) -> projects, under the dashboard's filters. One query."""
    rows = _filtered("matrix", filters).values("key").annotate(total=Sum("n")).values_list("key", "total")
    result = {}
    for key, total in rows:
        area, status = key.split(":", 1)
        if total:
            result[(int(area), status)] = total
    return result


def country_counts(filters=None) -> dict[int, int]:
    """Partner country id -> active projects (``ACTIVE_STATUSES``). One query."""
    rows = _filtered("country", filters).values("key").annotate(total=Sum("n")).values_list("key", "total")
    return {int(key): total for key, total in rows if total}


def with_active_projects(countries, filters=None):
    """``countries`` (a PartnerCountry queryset) annotated with
    ``active_projects``: ``country_counts`` in the same query (a correlated
    sum over a country's few summary rows)."""
    from django.db.models import CharField, IntegerField
    from django.db.models.functions import Cast, Coalesce

    per_country = (_filtered("country", filters).filter(key=Cast(OuterRef("pk"), CharField())).values("key")
                   .annotate(total=Sum("n")).values("total")[:1])
    return countries.annotate(active_projects=Coalesce(Subquery(per_country, output_field=IntegerField()), 0))


def health_counts(filters, today: datetime.date) -> dict[str, dict]:
    """Health key (a ``Health`` value, or ``"none"`` without a live update) ->
    ``{"count", "stale"}`` of the projects in implementation; stale: the
    latest update is older than ``projects.selectors.stale_before(today)``,
    or there is none. One query: the counts per health, and the recent
    updates' days (an index range: the days since the threshold)."""
    from .selectors import stale_before

    threshold = stale_before(today)
    fresh = Q(metric="hday", day__gte=threshold)
    rows = (_filtered(None, filters).filter(Q(metric="health") | fresh).values("key")
            .annotate(count=Sum("n", filter=Q(metric="health")), fresh=Sum("n", filter=fresh))
            .values_list("key", "count", "fresh"))
    return {key: {"count": count, "stale": count - (recent or 0)} for key, count, recent in rows if count}


def resource_totals(filters=None) -> list[dict]:
    """The resource totals of the filtered projects per side, kind and
    currency: the same rows as ``projects.selectors.resource_totals``. One query."""
    from .models import ResourceKind
    from .selectors import _resource_order, resource_side_label

    rows = []
    for key, total, lines in (_filtered("res", filters).values("key")
                              .annotate(total=_amount_sum(), lines=Sum("n")).values_list("key", "total", "lines")):
        if not lines:
            continue
        side, kind, currency = key.split(":", 2)
        rows.append({
            "side": side, "kind": kind, "currency": currency, "total": total, "lines": lines,
            "side_label": resource_side_label(side),
            "kind_label": str(ResourceKind(kind).label) if kind in ResourceKind.values else kind,
        })
    return sorted(rows, key=_resource_order())


def ready_days(start: datetime.date | None = None, end: datetime.date | None = None) -> list[tuple]:
    """``(day, live projects ready that day)`` for the days from ``start`` to
    ``end`` (inclusive; None: unbounded), earliest first. One query."""
    rows = DashboardCount.objects.filter(metric="ready", area=0, year=0, side="", key="", n__gt=0)
    if start is not None:
        rows = rows.filter(day__gte=start)
    if end is not None:
        rows = rows.filter(day__lte=end)
    return list(rows.order_by("day").values_list("day", "n"))


def scm_year_counts() -> dict[int, int]:
    """SCM year -> live projects counting for it (the readiness rule's
    ``scm_year``, stored per project as it changes; recounted when the SCM
    windows move). One query over a row per year."""
    rows = DashboardCount.objects.filter(metric="scm", area=0, year=0, side="", n__gt=0).values_list("key", "n")
    return {int(key): n for key, n in rows}


def moves_figures(argument: str | None = None):
    """Decorate a service whose change moves dashboard figures: it runs in
    ``tracking`` for the project its keyword ``argument`` names (a project,
    or a record with a ``project_id``); a project it returns that was not
    tracked yet is new (created by the service)."""

    def decorate(service):
        @functools.wraps(service)
        def wrapper(*args, **kwargs):
            target = kwargs.get(argument) if argument else None
            pk = target.pk if isinstance(target, CooperativeProject) else getattr(target, "project_id", None)
            with tracking([pk] if pk else []) as tracker:
                result = service(*args, **kwargs)
                if isinstance(result, CooperativeProject) and result.pk not in tracker.ids:
                    tracker.add(result.pk, new=True)
            return result

        wrapper.moves_figures = True
        return wrapper

    return decorate

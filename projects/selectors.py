"""Reads on cooperative projects.

The SCM year a project counts for is the readiness rule's business, which
lives in ``scm_reports`` (to the right of this app in the dependency chain).
``scm_reports`` plugs its annotator in at start-up, so pages here can show and
filter by SCM year without a second copy of the rule.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import IntegerField, Prefetch, QuerySet, Value

from .models import CooperativeProject, Engagement, ProjectTransition

_scm_year_annotator: Callable[[QuerySet], QuerySet] | None = None


def register_scm_year_annotator(annotator: Callable[[QuerySet], QuerySet]) -> None:
    global _scm_year_annotator
    _scm_year_annotator = annotator


def annotate_scm_year(queryset: QuerySet, windows: dict | None = None) -> QuerySet:
    """``scm_year`` by the readiness rule; ``windows`` (year -> (first day, last
    day)): the SCM windows to apply, default the recorded ones."""
    if _scm_year_annotator is None:
        return queryset.annotate(scm_year=Value(None, output_field=IntegerField()))
    return _scm_year_annotator(queryset) if windows is None else _scm_year_annotator(queryset, windows)


def project_list(*, include_deleted: bool = False) -> QuerySet:
    """Projects with what a list row shows, in a fixed number of queries."""
    base = CooperativeProject.all_objects if include_deleted else CooperativeProject.objects
    queryset = base.select_related("priority_area", "us_lead_poc", "rok_lead_poc").prefetch_related(
        "partner_countries"
    )
    return annotate_scm_year(queryset)


def project_detail(*, pk: int, include_deleted: bool = False) -> CooperativeProject:
    base = CooperativeProject.all_objects if include_deleted else CooperativeProject.objects
    queryset = annotate_scm_year(
        base.select_related(
            "priority_area", "us_lead_poc__organization", "rok_lead_poc__organization", "created_by", "updated_by"
        ).prefetch_related(
            "additional_areas",
            "partner_countries",
            "industry_partners",
            "complemented_partners",
            project_engagements_prefetch(),
            Prefetch("transitions", queryset=ProjectTransition.objects.select_related("by")),
        )
    )
    return queryset.get(pk=pk)


# --- Implementation tracking (issue 11) -------------------------------------------------
# Each feature's selectors live in its own section below.


LIVE_PROJECTS_SQL = ('SELECT COALESCE(SUM("n"), 0) FROM "projects_dashboardcount" '
                     "WHERE \"metric\" = 'matrix' AND \"area\" = 0 AND \"year\" = 0")


def live_project_count(*, statuses=(), sides=(), area_code: str | None = None, year: int | None = None) -> int:
    """How many live projects there are (of these statuses, lead sides, touching this priority area, aimed at
    or counting for this SCM year: the API list's filters of the same names), read from the dashboard's
    summary rows in one small query, not by counting the projects. Exact: projects.counts keeps the rows in
    the transaction of every change. Every live project has one ``matrix`` row (key ``"<primary area
    id>:<status>"``) under area 0 (and each area it touches), year 0 (and each year it is aimed at or counts
    for) and its lead side."""
    from django.db import connection
    from django.db.models import Q, Subquery, Sum

    from rcf.models import PriorityArea

    from .models import DashboardCount

    if not (statuses or sides or area_code or year):
        # Every API list page without filters asks this: the SQL as text (the ORM's compiling costs more
        # than the query).
        with connection.cursor() as cursor:
            cursor.execute(LIVE_PROJECTS_SQL)
            return int(cursor.fetchone()[0])
    rows = DashboardCount.objects.filter(metric="matrix", year=year or 0)
    if area_code is None:
        rows = rows.filter(area=0)
    else:
        rows = rows.filter(area=Subquery(PriorityArea.objects.filter(code=area_code).values("id")[:1]))
    if sides:
        rows = rows.filter(side__in=sorted(set(sides)))
    if statuses:
        matching = Q()
        for status in sorted(set(statuses)):
            matching |= Q(key__endswith=f":{status}")
        rows = rows.filter(matching)
    return rows.aggregate(total=Sum("n"))["total"] or 0


def resource_totals(*, projects: QuerySet) -> list:
    """Resource totals of ``projects`` (a queryset, filters and all) per
    side, kind and currency: one aggregate query, never adding one currency
    to another. See ``_resource_total_rows`` for the rows' shape."""
    from .models import ResourceLine

    return _resource_total_rows(ResourceLine.objects.filter(project__in=projects.order_by().values("pk")))


def first_rows_sql(querysets: list[QuerySet]) -> tuple[str, list]:
    """``first_rows_each``'s statement and parameters (also for ``EXPLAIN``).
    A part that can match nothing (the ORM's ``EmptyResultSet``: a filter on
    a value no column can hold) is left out; with no part left, ("", [])."""
    from django.core.exceptions import EmptyResultSet

    parts, params = [], []
    for number, queryset in enumerate(querysets):
        try:
            sql, part_params = queryset.query.sql_with_params()
        except EmptyResultSet:
            continue
        # The ORM's own SQL, its values as parameters: nothing from a user is pasted in.
        parts.append(f"SELECT {number} AS rcf_part, rcf_{number}.* FROM ({sql}) rcf_{number}")  # noqa: S608
        params.extend(part_params)
    return " UNION ALL ".join(parts), params


def first_rows_each(querysets: list[QuerySet]) -> list:
    """The rows of several sliced, ordered querysets of one model (each "the
    first n of a group", read along an index) in one query: ``UNION ALL`` of
    each as a subquery (SQLite refuses ``LIMIT`` directly in a compound
    statement, and so does Django's ``union()`` there). Rows come back group
    after group, each in its own order; annotations are attributes."""
    if not querysets:
        return []
    sql, params = first_rows_sql(querysets)
    if not sql:
        return []
    rows = list(querysets[0].model._base_manager.raw(sql, params))
    # Stable: each part keeps the order its subquery gave (the outer query adds no ORDER BY of its own).
    return sorted(rows, key=lambda row: row.rcf_part)


# --- Engagements (issue 11) ---------------------------------------------------------


def engagement_prefetches() -> tuple:
    """What an engagement row shows (its projects, participants, industry
    organisations, countries): one query each, whatever the number of rows."""
    from contacts.models import Organization, PointOfContact

    return (
        Prefetch("projects", queryset=CooperativeProject.objects.only("id", "title", "title_ko", "status")
                 .order_by("title", "id")),
        Prefetch("participants", queryset=PointOfContact.objects.select_related("organization")
                 .order_by("side", "full_name", "id")),
        Prefetch("industry_organizations", queryset=Organization.objects.order_by("name", "id")),
        "partner_countries",
    )


def engagement_list(*, include_deleted: bool = False) -> QuerySet:
    """Engagements, newest first, with what a list row shows, in a fixed
    number of queries."""
    base = Engagement.all_objects if include_deleted else Engagement.objects
    return base.select_related("created_by").prefetch_related(*engagement_prefetches()).order_by("-date", "-id")


def engagement_detail(*, pk: int) -> Engagement:
    """One live engagement with its links (its follow-up actions and
    documents come from their own sections' selectors)."""
    return engagement_list().select_related("updated_by").get(pk=pk)


def project_engagements_prefetch() -> Prefetch:
    """A project page's engagements (an engagement about several projects is
    on each of their pages), with what each shows."""
    return Prefetch(
        "engagements",
        queryset=Engagement.objects.select_related("created_by").prefetch_related(*engagement_prefetches())
        .order_by("-date", "-id"),
    )


# --- Action items ------------------------------------------------------------------


def poc_of_user(user):
    """The point of contact a login is linked to (any side, lead or not), or
    None: whose actions are "mine". A deleted POC is nobody's."""
    from contacts.models import PointOfContact

    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return PointOfContact.objects.select_related("organization").filter(user_id=user.pk).first()


def _live_actions():
    """Live actions whose project (if any) is live too. A deleted
    engagement's follow-ups stay: they are still to be done."""
    from django.db.models import Q

    from .models import ActionItem

    return ActionItem.objects.filter(Q(project__isnull=True) | Q(project__deleted_at__isnull=True))


def action_list(*, today) -> QuerySet:
    """Actions for the list page and the API, with what a row shows (owner
    and organisation, project, engagement) in the same query; open overdue
    ones first (annotated ``is_overdue``), then by due date."""
    from django.db.models import BooleanField, Case, When

    return (
        _live_actions()
        .select_related("owner__organization", "project", "engagement")
        .annotate(is_overdue=Case(When(status="open", due_on__lt=today, then=Value(True)), default=Value(False),
                                  output_field=BooleanField()))
        .order_by("-is_overdue", "due_on", "id")
    )


def due_soon_until(*, today):
    """The last day an action counts as "due soon" (``RCF_ACTION_DUE_SOON_DAYS``, default 7)."""
    import datetime

    from django.conf import settings

    return today + datetime.timedelta(days=getattr(settings, "RCF_ACTION_DUE_SOON_DAYS", 7))


def actions_due_for(*, poc, today) -> tuple[QuerySet, QuerySet]:
    """``poc``'s open actions that are overdue (due before ``today``) and due
    soon (from ``today`` to ``RCF_ACTION_DUE_SOON_DAYS`` days on), each by due
    date: the one rule for the reminders, the weekly digest and the pages."""
    mine = (
        _live_actions().filter(owner=poc, status="open")
        .select_related("owner", "project", "engagement").order_by("due_on", "id")
    )
    return mine.filter(due_on__lt=today), mine.filter(due_on__gte=today, due_on__lte=due_soon_until(today=today))


def overdue_milestones_for(*, poc, today) -> QuerySet:
    """Milestones not done and past their date, of live projects ``poc``
    leads (U.S. or ROK lead POC): an overdue milestone counts like an overdue
    action for its project's lead POCs."""
    from django.db.models import Q

    from .models import Milestone

    return (
        Milestone.objects.filter(milestone_overdue_q(today), project__deleted_at__isnull=True)
        .filter(Q(project__us_lead_poc=poc) | Q(project__rok_lead_poc=poc))
        .select_related("project").order_by("due_on", "id")
    )


def action_reminder_pocs(*, today):
    """Active POCs with an e-mail address and something to be reminded of
    today: an open action overdue or due soon, or (lead POCs of a project) an
    overdue milestone."""
    from django.db.models import Q

    from contacts.models import PointOfContact

    from .models import Milestone

    with_actions = _live_actions().filter(status="open", due_on__lte=due_soon_until(today=today)).values("owner_id")
    late = Milestone.objects.filter(milestone_overdue_q(today), project__deleted_at__isnull=True)
    return (
        PointOfContact.objects.filter(active=True).exclude(email="")
        .filter(Q(pk__in=with_actions) | Q(pk__in=late.values("project__us_lead_poc"))
                | Q(pk__in=late.values("project__rok_lead_poc")))
        .order_by("pk")
    )


# --- Documents -----------------------------------------------------------------------


def documents_of(*, project=None, engagement=None):
    """The live documents of one project or one engagement, newest first,
    with who uploaded them (one query)."""
    from .models import Document

    queryset = Document.objects.select_related("uploaded_by")
    if project is not None:
        return queryset.filter(project=project)
    return queryset.filter(engagement=engagement)


def document_for_download(*, pk: int):
    """A live document whose project or engagement is live too; else
    ``Document.DoesNotExist`` (the download and the edit page answer 404)."""
    from django.db.models import Q

    from .models import Document

    return Document.objects.select_related("project", "engagement").filter(
        Q(project__isnull=False, project__deleted_at__isnull=True)
        | Q(engagement__isnull=False, engagement__deleted_at__isnull=True)
    ).get(pk=pk)


# --- Progress and milestones ---
# A project's health is its latest live progress update's (by date, then id);
# "stale" means no update for settings.RCF_PROGRESS_STALE_DAYS days (or none
# at all). Every read here is a fixed number of queries: the latest and the
# previous update come from correlated subqueries, never one query a project.

HEALTH_NONE = "none"  # a project in implementation without an update yet
IMPLEMENTATION_PANEL_LIMIT = 25  # projects listed per health on the dashboard (all are counted)


def _update_value(field: str, position: int = 0):
    """The ``field`` of the project's update at ``position`` (0: the latest, 1: the one before)."""
    from django.db.models import OuterRef, Subquery

    from .models import ProgressUpdate

    newest_first = ProgressUpdate.objects.filter(project=OuterRef("pk")).order_by("-date", "-id")
    return Subquery(newest_first.values(field)[position:position + 1])


def with_current_health(queryset: QuerySet) -> QuerySet:
    """``queryset`` (projects) annotated with ``current_date`` (the latest
    update's date, None without one; ``current_health`` is the project's own
    column, kept by the progress update services) and ``previous_health`` (the
    update before it)."""
    from django.db.models import F

    return queryset.annotate(current_date=F("current_health_on"), previous_health=_update_value("health", 1))


def stale_before(today):
    """Updates dated before this day are stale (``RCF_PROGRESS_STALE_DAYS`` before ``today``)."""
    from django.conf import settings

    from rcf.validators import shift_date

    return shift_date(today, -settings.RCF_PROGRESS_STALE_DAYS)


def _mark(project, today, threshold) -> None:
    day = project.current_date
    project.stale = day is None or day < threshold
    project.days_since = (today - day).days if day is not None else None


def health_group_counts(*, projects: QuerySet, today) -> dict[str, dict[str, int]]:
    """``{key: {"count", "stale"}}`` of ``projects`` in implementation per
    latest health (``HEALTH_NONE`` without an update): one grouped count on the
    ``current_health`` columns. What the dashboard uses when it has no summary
    rows to read (``projects.counts``)."""
    from django.db.models import Count, Q

    from .models import ProjectStatus

    threshold = stale_before(today)
    rows = (projects.filter(status=ProjectStatus.IN_IMPLEMENTATION).order_by().values("current_health")
            .annotate(n=Count("pk"), stale=Count("pk", filter=Q(current_health_on__isnull=True)
                                                 | Q(current_health_on__lt=threshold))))
    return {row["current_health"] or HEALTH_NONE: {"count": row["n"], "stale": row["stale"]} for row in rows}


def implementation_by_health(*, projects: QuerySet, today, limit: int = IMPLEMENTATION_PANEL_LIMIT,
                             counts: dict | None = None) -> dict:
    """The dashboard's "projects in implementation" panel: ``projects`` in
    implementation grouped by their latest update's health, worst first, then
    those without an update. Each group: ``key`` (a Health value or
    ``HEALTH_NONE``), ``label``, ``count``, ``stale`` (how many are stale),
    ``projects`` (at most ``limit``, stale and oldest update first, each with
    ``current_health``, ``current_date``, ``stale``, ``days_since``) and
    ``more`` (how many are not listed). Also ``total``, ``stale``,
    ``stale_days`` and ``stale_before``.

    ``counts``: ``{key: {"count", "stale"}}`` per group when the caller has
    them (the dashboard's summary rows); else ``health_group_counts``. The
    projects listed come from one query of at most ``limit`` rows per group,
    read in the order of the ``project_live_health`` index (status, latest
    health, its date, title): its cost does not grow with the data."""
    from django.conf import settings
    from django.db.models import F
    from django.utils.translation import gettext as _

    from .models import Health, ProjectStatus

    threshold = stale_before(today)
    if counts is None:
        counts = health_group_counts(projects=projects, today=today)
    order = [Health.OFF_TRACK, Health.AT_RISK, Health.ON_TRACK]
    groups = {key: {"key": str(key), "label": label, "count": counts.get(str(key), {}).get("count", 0),
                    "stale": counts.get(str(key), {}).get("stale", 0), "projects": [], "more": 0}
              for key, label in [(h.value, h.label) for h in order] + [(HEALTH_NONE, _("No update yet"))]}
    base = projects.filter(status=ProjectStatus.IN_IMPLEMENTATION).only(
        "id", "title", "title_ko", "status", "current_health", "current_health_on")
    listed = [
        base.filter(**({"current_health": key} if key != HEALTH_NONE else {"current_health__isnull": True}))
        .annotate(current_date=F("current_health_on"))
        # Within a group every date is set (or, without an update, none is): oldest first is stale first.
        .order_by("current_health", "current_health_on", "title", "id")[:limit]
        for key in groups  # every group, even one counted empty: the same one query whatever the data
    ]
    for project in first_rows_each(listed):
        _mark(project, today, threshold)
        groups[project.current_health or HEALTH_NONE]["projects"].append(project)
    for group in groups.values():
        group["more"] = max(group["count"] - len(group["projects"]), 0)
    result = list(groups.values())
    return {
        "groups": result,
        "total": sum(g["count"] for g in result),
        "stale": sum(g["stale"] for g in result),
        "stale_days": settings.RCF_PROGRESS_STALE_DAYS,
        "stale_before": threshold,
        "limit": limit,
    }


def progress_history(*, project) -> QuerySet:
    """A project's live updates, newest first, with who posted them."""
    from .models import ProgressUpdate

    return ProgressUpdate.objects.filter(project=project).select_related("created_by").order_by("-date", "-id")


def latest_health(project, *, today=None, updates=None) -> dict:
    """What the project page shows at the top of its implementation card:
    ``update`` (the latest live update, or None), ``health`` (its value, or
    None), ``stale`` (no update for ``RCF_PROGRESS_STALE_DAYS`` days, or none
    at all), ``days_since`` and ``stale_days``. ``updates``: the history the
    caller already read, newest first (no further query)."""
    from django.conf import settings

    from rcf.selectors import framework_today

    today = today or framework_today()
    if updates is None:
        latest = progress_history(project=project).first()
    else:
        latest = updates[0] if updates else None
    day = latest.date if latest else None
    return {
        "update": latest,
        "health": latest.health if latest else None,
        "stale": day is None or day < stale_before(today),
        "days_since": (today - day).days if day else None,
        "stale_days": settings.RCF_PROGRESS_STALE_DAYS,
    }


def health_worsened(*, since, projects: QuerySet | None = None) -> QuerySet:
    """Live projects (of ``projects``, default all) whose latest update, dated
    ``since`` or later, has a worse health (``models.HEALTH_RANK``) than the
    update before it; annotated with ``current_health``, ``previous_health``
    and ``current_date``. A project's first update never counts as worsened."""
    from django.db.models import Case, F, IntegerField, Value, When

    from .models import HEALTH_RANK

    def rank(name):
        return Case(*[When(**{name: health}, then=Value(value)) for health, value in HEALTH_RANK.items()],
                    output_field=IntegerField())

    base = CooperativeProject.objects.all() if projects is None else projects
    return (
        with_current_health(base.filter(deleted_at__isnull=True))
        .annotate(current_rank=rank("current_health"), previous_rank=rank("previous_health"))
        .filter(current_date__gte=since, current_rank__gt=F("previous_rank"))
        .order_by("title", "id")
    )


MILESTONE_DONE, MILESTONE_OVERDUE, MILESTONE_UPCOMING = "done", "overdue", "upcoming"


def milestone_state(milestone, today) -> str:
    """done; overdue (not done after its due date); upcoming."""
    if milestone.done_on is not None:
        return MILESTONE_DONE
    return MILESTONE_OVERDUE if milestone.due_on < today else MILESTONE_UPCOMING


def milestone_timeline(*, project, today) -> list:
    """A project's live milestones by due date, each with ``state``
    (``milestone_state``) and ``days`` (days overdue, or until due). One query."""
    from .models import Milestone

    milestones = list(Milestone.objects.filter(project=project).order_by("due_on", "id"))
    for milestone in milestones:
        milestone.state = milestone_state(milestone, today)
        milestone.days = abs((milestone.due_on - today).days)
    return milestones


def milestone_overdue_q(today):
    """The condition "overdue on ``today``": not done, and due before that day
    (``milestone_state`` says the same of one milestone)."""
    from django.db.models import Q

    return Q(done_on__isnull=True, due_on__lt=today)


# --- Resource lines ------------------------------------------------------------------
# Totals are per side, kind and currency: a sum of USD and KRW means nothing,
# so no read here ever adds one currency to another. Each read is one query.


def _resource_order():
    """Sort keys: sides, kinds and currencies in their declared order (a
    migrated line without a side last)."""
    from .models import Currency, ResourceKind, ResourceSide

    sides = {value: i for i, value in enumerate([*ResourceSide.values, ""])}
    kinds = {value: i for i, value in enumerate(ResourceKind.values)}
    currencies = {value: i for i, value in enumerate(Currency.values)}
    return lambda row: (currencies.get(row["currency"], 99), sides.get(row["side"], 99),
                        kinds.get(row["kind"], 99))


def resource_side_label(side: str) -> str:
    from django.utils.translation import gettext as _

    from .models import ResourceSide

    return str(ResourceSide(side).label) if side in ResourceSide.values else _("Side not given")


def _resource_total_rows(lines: QuerySet) -> list[dict]:
    """``lines`` summed per side, kind and currency, as dicts ``side``,
    ``side_label``, ``kind``, ``kind_label``, ``currency``, ``total``
    (Decimal) and ``lines`` (how many), by currency, side and kind. One query."""
    from django.db.models import Count

    from .models import ResourceKind

    rows = list(lines.order_by().values("side", "kind", "currency").annotate(total=_amount_sum(), lines=Count("id")))
    for row in rows:
        row["side_label"] = resource_side_label(row["side"])
        row["kind_label"] = str(ResourceKind(row["kind"]).label) if row["kind"] in ResourceKind.values else row["kind"]
    return sorted(rows, key=_resource_order())


def _amount_sum():
    """The sum of line amounts, wider than one amount (16 digits): many large
    lines add up to more digits than any one line may have."""
    from django.db.models import DecimalField, Sum

    return Sum("amount", output_field=DecimalField(max_digits=30, decimal_places=2))


def _declared_order(field: str, values: list[str]):
    """``field``'s position among ``values`` (the choices' declared order, not the alphabet's)."""
    from django.db.models import Case, IntegerField, When

    return Case(*[When(**{field: value}, then=Value(i)) for i, value in enumerate(values)],
                default=Value(len(values)), output_field=IntegerField())


def project_resource_lines(*, project) -> QuerySet:
    """A project's live lines by fiscal year (none last), then side and kind
    in their declared order (U.S., ROK, partner, industry; planned,
    committed, spent)."""
    from django.db.models import F

    from .models import ResourceKind, ResourceLine, ResourceSide

    return (ResourceLine.objects.filter(project=project)
            .alias(side_order=_declared_order("side", ResourceSide.values),
                   kind_order=_declared_order("kind", ResourceKind.values))
            .order_by(F("fiscal_year").asc(nulls_last=True), "side_order", "kind_order", "id"))


def project_resource_totals(project) -> list[dict]:
    """One project's totals per side, kind and currency (``resource_totals``' rows). One query."""
    return _resource_total_rows(project_resource_lines(project=project))


def resource_totals_by_project(*, projects: QuerySet) -> dict[int, dict[tuple[str, str, str], object]]:
    """For exports: ``{project id: {(side, kind, currency): total}}`` for
    every project of ``projects`` that has lines. One query, whatever the
    number of projects."""

    from .models import ResourceLine

    found: dict[int, dict] = {}
    rows = (ResourceLine.objects.filter(project__in=projects.order_by().values("pk")).order_by()
            .values_list("project_id", "side", "kind", "currency").annotate(total=_amount_sum()))
    for project_id, side, kind, currency, total in rows:
        found.setdefault(project_id, {})[(side, kind, currency)] = total
    return found


def resource_tables(rows: list[dict]) -> list[dict]:
    """``resource_totals`` rows laid out for reading: one table per currency
    (never a sum across currencies), a row per side, a column per kind, and
    an "all sides" row when there is more than one side. No query.

    ``[{"currency", "kinds": [(kind, label)], "rows": [{"side", "label",
    "cells": [{"kind", "label", "total" (None without a line)} per kind]}], "all":
    the same cells summed over the sides, or None}]``"""
    from .models import Currency, ResourceKind

    kinds = [(kind.value, kind.label) for kind in ResourceKind]
    tables = []
    for currency in [*Currency.values, *sorted({r["currency"] for r in rows} - set(Currency.values))]:
        mine = [r for r in rows if r["currency"] == currency]
        if not mine:
            continue
        sides: dict[str, dict] = {}
        for row in mine:  # already in side order
            entry = sides.setdefault(row["side"], {"side": row["side"], "label": row["side_label"],
                                                   "cells": [{"kind": kind, "label": label, "total": None}
                                                             for kind, label in kinds]})
            for cell in entry["cells"]:
                if cell["kind"] == row["kind"]:
                    cell["total"] = row["total"]
        all_sides = None
        if len(sides) > 1:
            all_sides = []
            for i, (kind, label) in enumerate(kinds):
                values = [entry["cells"][i]["total"] for entry in sides.values()
                          if entry["cells"][i]["total"] is not None]
                all_sides.append({"kind": kind, "label": label, "total": sum(values) if values else None})
        tables.append({"currency": currency, "kinds": kinds, "rows": list(sides.values()), "all": all_sides})
    return tables


# --- The project page's lifecycle stepper (issue 12) -----------------------------------

LIFECYCLE_PATH = ("concept", "under_review", "prioritized", "ready", "presented", "in_implementation", "completed")
# Reasons the step form itself can fix (its inputs); the others are fixed elsewhere (the project form, a role).
STEP_FORM_FIELDS = ("priority", "ready_on")
# Reasons fixed in the project form: the field it links to.
PROJECT_FORM_FIELDS = ("summary", "us_lead_poc", "rok_lead_poc", "partner_countries", "priority_area")


def _reasons(problems) -> list[dict]:
    """projects.services.transition_problems' refusals as (field, message) rows."""
    from django.core.exceptions import PermissionDenied

    rows = []
    for problem in problems:
        if isinstance(problem, PermissionDenied):
            rows.append({"field": "role", "message": str(problem)})
        elif hasattr(problem, "error_dict"):
            for field, messages in problem.message_dict.items():
                rows.extend({"field": field, "message": m} for m in messages)
        else:
            rows.extend({"field": "", "message": m} for m in problem.messages)
    return rows


def step_requirements(*, project: CooperativeProject, user, today=None) -> list[dict]:
    """For each status ``project`` may move to next (lifecycle order), whether
    ``user`` may take that step now and, if not, every reason why, from the
    same checks that enforce the step (``services.transition_problems``,
    ``services.proposal_conflict``): nothing is decided here.

    Each row: ``status``, ``label``, ``direction`` ("forward", "back", "side"),
    ``scm`` (the step is taken by recording an SCM presentation), ``reasons``
    (list of {field, message}), ``blocked`` (reasons the step form cannot fix),
    ``allowed`` (no reason at all), and for the ready step ``ready_on_min`` /
    ``ready_on_max`` with the messages a date outside them gets."""
    import datetime

    from django.conf import settings

    from contacts.selectors import acting_lead_poc
    from rcf.selectors import framework_today

    from . import services
    from .models import ProjectStatus

    if project.is_deleted:
        return []
    today = today or framework_today()
    here = project.status
    position = LIFECYCLE_PATH.index(here) if here in LIFECYCLE_PATH else None
    poc = acting_lead_poc(user) if user is not None else None
    rows = []
    for status in services.allowed_transitions(project=project):
        scm = (here, status) in services.SCM_STEPS
        # The SCM step is taken by recording the presentation (scm_reports, at_scm=True).
        reasons = _reasons(services.transition_problems(project=project, to=status, by=user, today=today,
                                                        at_scm=scm))
        if (poc is not None and settings.RCF_JOINT_CONCURRENCE
                and services.is_joint_step(from_status=here, to_status=status)):
            conflict = services.proposal_conflict(project=project, step=status, poc=poc)
            if conflict is not None:
                reasons.extend(_reasons([conflict]))
        if status in (ProjectStatus.ON_HOLD, ProjectStatus.WITHDRAWN) or position is None \
                or status not in LIFECYCLE_PATH:
            direction = "side" if status in (ProjectStatus.ON_HOLD, ProjectStatus.WITHDRAWN) else "forward"
        else:
            direction = "forward" if LIFECYCLE_PATH.index(status) > position else "back"
        row = {
            "status": status,
            "label": ProjectStatus(status).label,
            "direction": direction,
            "scm": scm,
            "joint": services.is_joint_step(from_status=here, to_status=status),
            "reasons": reasons,
            "blocked": [r for r in reasons if r["field"] not in STEP_FORM_FIELDS],
            "fixable": [r for r in reasons if r["field"] in STEP_FORM_FIELDS],
            "allowed": not reasons,
            "role_blocked": any(r["field"] == "role" for r in reasons),
            # Refused for a reason the project form cannot fix either (role, an open proposal): no form to fill.
            "no_form": any(r["field"] not in STEP_FORM_FIELDS + PROJECT_FORM_FIELDS for r in reasons),
            "asks_priority": status == ProjectStatus.PRIORITIZED and direction == "forward",
            "asks_ready_on": status == ProjectStatus.READY,
        }
        if status == ProjectStatus.READY:
            # The limits on the backfill date, with the messages the rule itself gives outside them.
            left = services._last_left_ready(project)
            row["ready_on_max"] = today
            row["ready_on_min"] = left
            row["ready_on_max_message"] = _field_message(services.transition_problems(
                project=project, to=status, by=None, today=today, ready_on=today + datetime.timedelta(days=1)),
                "ready_on")
            if left is not None:
                row["ready_on_min_message"] = _field_message(services.transition_problems(
                    project=project, to=status, by=None, today=today, ready_on=left - datetime.timedelta(days=1)),
                    "ready_on")
        if row["asks_priority"]:
            row["priority_message"] = _field_message(services.transition_problems(
                project=project, to=status, by=None, today=today, priority=9), "priority")
        rows.append(row)
    order = {"forward": 0, "side": 1, "back": 2}
    rows.sort(key=lambda r: order[r["direction"]])  # stable: lifecycle order within each group
    return rows


def _field_message(problems, field: str) -> str:
    """The first message the rule gives ``field`` (what a bad value in the step form's input is told)."""
    return next((r["message"] for r in _reasons(problems) if r["field"] == field), "")


def lifecycle_path(project: CooperativeProject) -> dict:
    """The stepper's path: each status of the forward path as done, current or
    to do. On hold or withdrawn, the path stops where the project was held or
    withdrawn from (``paused_at``) and ``side`` names the side state."""
    from .models import ProjectStatus

    here = project.status
    side = None
    at = here
    if here not in LIFECYCLE_PATH:
        side = here
        left = [t for t in project.transitions.all() if t.to_status == here]
        left.sort(key=lambda t: (t.at, t.id))
        at = left[-1].from_status if left else None
        while at not in LIFECYCLE_PATH and at is not None:  # withdrawn while on hold: where it was held from
            earlier = [t for t in project.transitions.all() if t.to_status == at and t.at <= left[-1].at]
            earlier.sort(key=lambda t: (t.at, t.id))
            at = earlier[-1].from_status if earlier else None
            left = earlier
    position = LIFECYCLE_PATH.index(at) if at in LIFECYCLE_PATH else -1
    steps = []
    for index, status in enumerate(LIFECYCLE_PATH):
        if index < position or (here == ProjectStatus.COMPLETED and status == here):
            state = "done"
        elif index == position:
            state = "paused" if side else "current"
        else:
            state = "todo"
        steps.append({"status": status, "label": ProjectStatus(status).label, "state": state,
                      "number": index + 1})
    return {"steps": steps, "side": side, "side_label": ProjectStatus(side).label if side else "",
            "paused_at": ProjectStatus(at).label if side and at else "", "count": len(LIFECYCLE_PATH),
            "position": position + 1}

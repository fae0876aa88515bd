"""The dashboard's server time (a real ``GET /`` through Django's middleware,
view and templates) beside the fastest hand-written SQL we know for the same
figures: plain joins with ``GROUP BY`` and index range scans, a few rows to
Python, never the app's own query shapes. Before timing, every figure the
baseline computes is checked equal to the one the dashboard shows
(``scm_reports.dashboard.dashboard``, what the view calls)."""

from __future__ import annotations

import bisect
import datetime
import time

from . import common

CYCLES_SQL = """
SELECT year, COALESCE(readiness_deadline, meeting_date - 1) FROM scm_reports_scmcycle
WHERE deleted_at IS NULL AND year BETWEEN %(first)s AND 2100 ORDER BY year
"""
# Live projects per ready day (an index-only scan of the partial ready_on index): the readiness
# counts per SCM window and the timeline's dots both come from these rows.
READY_DAYS_SQL = """
SELECT ready_on, COUNT(*) FROM projects_cooperativeproject
WHERE deleted_at IS NULL AND ready_on >= %(launch)s GROUP BY ready_on ORDER BY ready_on
"""
# The timeline names the first five counting projects of each year it shows.
TIMELINE_SQL = """
SELECT w.year, p.id, p.title, p.title_ko, p.ready_on, p.status
FROM unnest(%(years)s::int[], %(starts)s::date[], %(ends)s::date[]) AS w(year, start, deadline)
CROSS JOIN LATERAL (
    SELECT id, title, title_ko, ready_on, status FROM projects_cooperativeproject
    WHERE deleted_at IS NULL AND ready_on BETWEEN w.start AND w.deadline ORDER BY ready_on, id LIMIT 5
) p ORDER BY w.year, p.ready_on, p.id
"""
FLAGS_SQL = """
SELECT f.year, f.kind, f.counting_projects, f.deadline, c.number FROM scm_reports_readinessflag f
LEFT JOIN scm_reports_scmcycle c ON c.id = f.scm_cycle_id WHERE f.resolved_at IS NULL ORDER BY f.year, f.kind
"""
MATRIX_SQL = """
SELECT priority_area_id, status, COUNT(*) FROM projects_cooperativeproject
WHERE deleted_at IS NULL GROUP BY priority_area_id, status
"""
PIPELINE_SQL = """
SELECT p.id, p.title, p.title_ko, p.status, p.priority, p.created_at, a.name, u.full_name, r.full_name,
       (SELECT max(t.at) FROM projects_projecttransition t WHERE t.project_id = p.id AND t.to_status = p.status),
       (SELECT string_agg(c.name, ', ' ORDER BY c.name) FROM projects_cooperativeproject_partner_countries pc
          JOIN rcf_partnercountry c ON c.id = pc.partnercountry_id WHERE pc.cooperativeproject_id = p.id)
FROM projects_cooperativeproject p
JOIN rcf_priorityarea a ON a.id = p.priority_area_id
LEFT JOIN contacts_pointofcontact u ON u.id = p.us_lead_poc_id
LEFT JOIN contacts_pointofcontact r ON r.id = p.rok_lead_poc_id
WHERE p.deleted_at IS NULL AND p.status IN ('under_review', 'prioritized')
ORDER BY p.status, p.priority NULLS LAST, p.updated_at DESC, p.id LIMIT 25
"""
# A plain join and GROUP BY (a project is in a country's through table at most once).
COVERAGE_SQL = """
SELECT c.id, c.iso2, c.name, c."group", c.member_since, COALESCE(n.projects, 0)
FROM rcf_partnercountry c LEFT JOIN (
    SELECT pc.partnercountry_id AS country, COUNT(*) AS projects
    FROM projects_cooperativeproject_partner_countries pc
    JOIN projects_cooperativeproject p ON p.id = pc.cooperativeproject_id
    WHERE p.deleted_at IS NULL
      AND p.status IN ('concept', 'under_review', 'prioritized', 'ready', 'presented', 'in_implementation')
    GROUP BY pc.partnercountry_id
) n ON n.country = c.id
WHERE c."group" IN ('asean', 'pacific_islands')
"""
# Projects in implementation by their latest live update's health: counts and stale counts per
# group, and the first 25 of each group (stale and oldest update first).
IMPLEMENTATION_SQL = """
WITH current AS (
    SELECT p.id, p.title, p.title_ko, COALESCE(u.health, 'none') AS health, u.date
    FROM projects_cooperativeproject p
    LEFT JOIN LATERAL (
        SELECT health, date FROM projects_progressupdate
        WHERE project_id = p.id AND deleted_at IS NULL ORDER BY date DESC, id DESC LIMIT 1
    ) u ON true
    WHERE p.deleted_at IS NULL AND p.status = 'in_implementation'
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY health ORDER BY date NULLS FIRST, title, id) AS n,
           COUNT(*) OVER (PARTITION BY health) AS projects,
           COUNT(*) FILTER (WHERE date IS NULL OR date < %(stale)s) OVER (PARTITION BY health) AS stale
    FROM current
)
SELECT health, projects, stale, id, title, title_ko, date FROM ranked WHERE n <= 25 ORDER BY health, n
"""
RESOURCES_SQL = """
SELECT r.side, r.kind, r.currency, SUM(r.amount), COUNT(*) FROM projects_resourceline r
JOIN projects_cooperativeproject p ON p.id = r.project_id
WHERE r.deleted_at IS NULL AND p.deleted_at IS NULL GROUP BY r.side, r.kind, r.currency
"""
# The prioritised projects that could still count: the first five and how many in all.
CANDIDATES_SQL = """
WITH c AS (
    SELECT p.id, p.title, p.priority, EXISTS (
        SELECT 1 FROM projects_concurrence k WHERE k.project_id = p.id AND k.step = 'ready'
          AND k.concurred_at IS NULL AND k.declined_at IS NULL AND k.withdrawn_at IS NULL) AS proposed
    FROM projects_cooperativeproject p WHERE p.deleted_at IS NULL AND p.status = 'prioritized'
)
SELECT id, title, priority, proposed, COUNT(*) OVER (), COUNT(*) FILTER (WHERE proposed) OVER ()
FROM c ORDER BY proposed DESC, priority NULLS LAST, title, id LIMIT 5
"""


def baseline_figures(conn, *, today: datetime.date, launch: datetime.date, first_year: int, stale: datetime.date):
    """Every figure of the dashboard, from hand-written SQL: a dict of comparable values."""
    from scm_reports.dashboard import TIMELINE_YEARS_AHEAD  # the years the timeline draws (the cycle list has all)

    cycles = conn.execute(CYCLES_SQL, {"first": first_year}).fetchall()
    days = conn.execute(READY_DAYS_SQL, {"launch": launch}).fetchall()
    # The windows: consecutive, (previous deadline, deadline]; the first from the launch date.
    deadlines = [deadline for _, deadline in cycles]
    counts = dict.fromkeys((year for year, _ in cycles), 0)
    for day, n in days:
        i = bisect.bisect_left(deadlines, day)
        if i < len(cycles):
            counts[cycles[i][0]] += n
    shown = [(year, deadlines[i - 1] + datetime.timedelta(days=1) if i else launch, deadlines[i])
             for i, (year, _) in enumerate(cycles) if today.year - 1 <= year <= today.year + TIMELINE_YEARS_AHEAD]
    names = {}
    for year, pk, *_rest in conn.execute(TIMELINE_SQL, {"years": [s[0] for s in shown],
                                                        "starts": [s[1] for s in shown],
                                                        "ends": [s[2] for s in shown]}):
        names.setdefault(year, []).append(pk)
    implementation = {}
    for health, projects, stale_n, pk, *_rest in conn.execute(IMPLEMENTATION_SQL, {"stale": stale}):
        group = implementation.setdefault(health, {"count": projects, "stale": stale_n, "ids": []})
        group["ids"].append(pk)
    candidates = conn.execute(CANDIDATES_SQL).fetchall()
    return {
        "readiness": counts,
        "timeline": names,
        "flags": [(y, k) for y, k, *_ in conn.execute(FLAGS_SQL)],
        "matrix": {(a, s): n for a, s, n in conn.execute(MATRIX_SQL)},
        "pipeline": [row[0] for row in conn.execute(PIPELINE_SQL)],
        "coverage": {pk: n for pk, _iso, _name, _group, since, n in conn.execute(COVERAGE_SQL)
                     if since is None or since <= today},
        "implementation": implementation,
        "resources": {(s, k, c): (total, n) for s, k, c, total, n in conn.execute(RESOURCES_SQL)},
        "candidates": ([row[0] for row in candidates], candidates[0][4] if candidates else 0),
    }


def app_figures(board) -> dict:
    """The same figures from what the dashboard view shows."""
    return {
        "readiness": {r.year: r.counting_projects for r in board.readiness if r.cycle},
        "timeline": {t.year: [p.pk for p in t.projects] for t in board.timeline if t.projects},
        "flags": [(f.year, f.kind) for f in board.open_flags],
        "matrix": {(row["area"].pk, cell["status"].value): cell["count"]
                   for row in board.matrix["rows"] for cell in row["cells"] if cell["count"]},
        "pipeline": [p.pk for p in board.pipeline["projects"]],
        "coverage": {c.pk: c.active_projects for group in board.coverage for c in group["countries"]},
        "implementation": {g["key"]: {"count": g["count"], "stale": g["stale"],
                                      "ids": [p.pk for p in g["projects"]]}
                           for g in board.implementation["groups"] if g["count"]},
        "resources": {(r["side"], r["kind"], r["currency"]): (r["total"], r["lines"]) for r in board.resource_totals},
    }


def _remember_get_median(seconds: float) -> float | None:
    """Keep this run's GET / median per project count (var/bench/dashboard-get.json) and return the one
    measured at 1,000 projects, for the "÷ at 1,000" ratio (a fill of 1,000 is a run of its own: one bench
    database at a time)."""
    import json

    from django.conf import settings

    path = settings.VAR_DIR / "bench" / "dashboard-get.json"
    try:
        figures = json.loads(path.read_text())
    except (OSError, ValueError):
        figures = {}
    figures[str(common.N_PROJECTS)] = seconds
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=1, sort_keys=True))
    return figures.get("1000")


def run() -> bool:
    import psycopg
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.core.signals import request_finished
    from django.db import close_old_connections, connection
    from django.db.backends.signals import connection_created
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from projects.selectors import stale_before
    from rcf.selectors import framework_today
    from scm_reports.dashboard import dashboard, ready_candidates
    from scm_reports.services import readiness_flags_sync
    from tests.factories import UserFactory

    today = framework_today()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # As Django's own test client setup does: keep one connection across requests.
    request_finished.disconnect(close_old_connections)
    readiness_flags_sync(today=today)
    user = UserFactory(username="bench-viewer")
    user.groups.set([Group.objects.get(name="viewer")])
    client = Client()
    client.force_login(user)

    # Each request as production serves it: Django's request_started / request_finished handling (which the
    # test client skips) around it, with the settings' persistent connection (CONN_MAX_AGE, health checks):
    # the connection is reused, checked once a request, reopened only when older than CONN_MAX_AGE.
    opened, served = [], []
    connection_created.connect(lambda **kwargs: opened.append(1), weak=False, dispatch_uid="bench-dashboard")

    def view():
        served.append(1)
        close_old_connections()
        response = client.get("/")
        close_old_connections()
        assert response.status_code == 200, response.status_code
        return response

    with CaptureQueriesContext(connection) as queries:
        view()
    query_count = len(queries.captured_queries)
    launch = datetime.date.fromisoformat(str(settings.RCF_LAUNCH_DATE))
    params = {"today": today, "launch": launch, "first_year": settings.RCF_FIRST_YEAR, "stale": stale_before(today)}
    with psycopg.connect(common.dsn(), autocommit=True) as conn:
        expected = baseline_figures(conn, **params)
        got = app_figures(dashboard(today=today))
        candidates = ready_candidates()
        got["candidates"] = ([p.pk for p in candidates["projects"]],
                             len(candidates["projects"]) + candidates["more"])
        wrong = [key for key in expected if expected[key] != got.get(key)]
        assert not wrong, f"the dashboard and the hand-written SQL disagree on: {', '.join(wrong)}"
        base = "fastest hand-written SQL, same figures (psycopg)"
        times = common.interleaved({base: lambda: baseline_figures(conn, **params),
                                    "GET / (dashboard, full request)": view})
    sql = []

    def timer(execute, statement, params, many, context):
        start = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            sql.append(time.perf_counter() - start)

    with connection.execute_wrapper(timer):
        start = time.perf_counter()
        view()
        total = time.perf_counter() - start
    print(f"\n  dashboard: {query_count} queries at {common.N_PROJECTS:,} projects; figures checked equal to the "
          f"baseline's ({', '.join(expected)})")
    print(f"  one more GET /: {common.ms(total)}, of which {common.ms(sum(sql))} in its {len(sql)} queries "
          f"(slowest {common.ms(max(sql))})")
    print(f"  database connections opened by {len(served)} requests: {len(opened)} "
          f"(CONN_MAX_AGE={settings.DATABASES['default'].get('CONN_MAX_AGE')})")
    worst = common.report("Dashboard", times, baseline=base)
    get_median = common.statistics.median(times["GET / (dashboard, full request)"])
    common.summary("GET / server time (dashboard, full request)",
                   f"{common.ms(get_median)} at {common.N_PROJECTS:,} projects", "≤ 60 ms at 1,000,000",
                   get_median <= 0.060 if common.N_PROJECTS >= 1_000_000 else None)
    at_1000 = _remember_get_median(get_median)
    common.summary("GET / at this size ÷ GET / at 1,000 projects",
                   f"{get_median / at_1000:.2f}x ({common.ms(get_median)} / {common.ms(at_1000)})" if at_1000
                   else "no figure at 1,000 yet: run python -m bench dashboard --projects 1000 first",
                   "≤ 1.5x", get_median / at_1000 <= 1.5 if at_1000 else None)
    common.summary("dashboard ÷ fastest hand-written SQL of the same aggregates",
                   common.ratio_text(times, "GET / (dashboard, full request)", base), "≤ 0.3x", worst <= 0.3)
    return True

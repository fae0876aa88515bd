"""Issue 14: every list the dashboard and the SCM report show is bounded. The
dashboard's query count is the same with 5 and 50 projects, with and without
each filter; the readiness timeline names at most five projects a year (the
readiness counts say how many more); the candidates are the first few
prioritised projects; the SCM report lists the year's projects in full and
earlier years as counts linking to the project list. On PostgreSQL the lists
read their indexes (EXPLAIN of the queries the pages run, never a timing)."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import services
from projects.models import CooperativeProject, ProgressUpdate
from projects.services import project_transition
from scm_reports.dashboard import ready_candidates
from scm_reports.selectors import counting_projects_by_year, scm_windows
from tests.factories import area

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 3, 1)
NOW = datetime.datetime(2026, 3, 1, 3, 0, tzinfo=datetime.UTC)
AREAS = ("maritime-security", "technical-cooperation")
FILTERS = [{}, {"side": "us"}, {"side": "joint"}, {"area": "maritime-security"}, {"year": "2026"},
           {"year": "2025", "side": "joint", "area": "technical-cooperation"}]


@pytest.fixture
def populate(make_project, advance, lead, scm_2026):
    """Projects of every kind the dashboard lists, made through the services:
    in review, prioritised, ready for 2026, presented at the 2025 SCM and in
    implementation with a progress update, and concepts."""

    def make(start, count):
        for i in range(start, start + count):
            kind = i % 5
            project = make_project(title=f"Project {i:03d}", priority_area=area(AREAS[i % 2]),
                                   lead_side=("joint", "us", "rok")[i % 3])
            if kind == 0:
                advance(project, "under_review")
            elif kind == 1:
                advance(project, "under_review", "prioritized")
            elif kind == 2:
                advance(project, "under_review", "prioritized", "ready", ready_on=D(2026, 1, 5) + datetime.timedelta(
                    days=i), today=TODAY)
            elif kind == 3:
                project = advance(project, "under_review", "prioritized", "ready", "presented",
                                  ready_on=D(2025, 5, 1) + datetime.timedelta(days=i), today=TODAY)
                project_transition(project=project, to="in_implementation", by=lead)
                services.progress_update_create(project=project, date=TODAY - datetime.timedelta(days=i * 5),
                                                health=("on_track", "at_risk", "off_track")[i % 3],
                                                narrative="Report.", today=TODAY)

    return make


def _get(client, path, **params):
    with time_machine.travel(NOW, tick=False):
        return client.get(path, params)


def _capture(client, path, **params):
    _get(client, path, **params)  # warm: what a first request caches (sessions, permissions) is not data
    with CaptureQueriesContext(connection) as queries:
        response = _get(client, path, **params)
    assert response.status_code == 200
    return queries.captured_queries, response


def _count(client, path, **params):
    queries, response = _capture(client, path, **params)
    return len(queries), response


def _unbounded_project_reads(queries) -> list[str]:
    """The queries that read projects row by row without a LIMIT (aggregates aside)."""
    return [q["sql"] for q in queries
            if re.search(r'^\s*SELECT .*? FROM "projects_cooperativeproject"', q["sql"], re.S)
            and not re.search(r"\bLIMIT\b|\bGROUP BY\b", q["sql"]) and not re.match(r"\s*SELECT COUNT\(", q["sql"])]


def test_the_dashboard_costs_the_same_queries_for_5_and_50_projects_with_every_filter(client, viewer, populate):
    client.force_login(viewer)
    populate(0, 5)
    few = {str(f): _count(client, "/", **f) for f in FILTERS}
    populate(5, 45)
    many = {str(f): _count(client, "/", **f) for f in FILTERS}
    assert {k: n for k, (n, _) in many.items()} == {k: n for k, (n, _) in few.items()}
    board = many["{}"][1].context["board"]
    assert board.matrix["total"] == 50 and few["{}"][1].context["board"].matrix["total"] == 5
    assert len(board.pipeline["projects"]) == 20  # in review and prioritised, under the pipeline's limit
    # Every list reads at most a page of projects: no query loads projects without a LIMIT.
    for filters in FILTERS:
        queries, _response = _capture(client, "/", **filters)
        assert _unbounded_project_reads(queries) == [], filters


def test_the_timeline_names_five_projects_a_year_and_counts_the_rest(client, viewer, populate):
    client.force_login(viewer)
    populate(0, 50)
    board = _get(client, "/").context["board"]
    years = {item.year: item for item in board.timeline}
    for year, kind in ((2025, 3), (2026, 2)):
        counting = list(CooperativeProject.objects.filter(title__in=[f"Project {i:03d}" for i in range(50)
                                                                     if i % 5 == kind]).order_by("ready_on", "pk"))
        item = years[year]
        assert [p.title for p in item.projects] == [p.title for p in counting[:5]]
        assert item.more == len(counting) - 5 == 5
        assert item.readiness.counting_projects == 10
    # Every day a counting project became ready is a dot, not only the named ones'.
    assert len(years[2026].window["dots"]) == 10
    assert years[2026].met_on == D(2026, 1, 7)  # "Project 002", the first ready
    html = _get(client, "/").content.decode()
    assert re.search(r'data-year="2026".*?and 5 more', html, re.S)


def test_a_year_waiting_for_its_scm_is_named_from_its_own_days(make_project, advance, scm_2026):
    late = advance(make_project(title="Ready after the deadline"), "under_review", "prioritized", "ready",
                   ready_on=D(2026, 11, 20), today=D(2026, 12, 1))
    inside = advance(make_project(title="Ready in the window"), "under_review", "prioritized", "ready",
                     ready_on=D(2026, 2, 1), today=TODAY)
    named = counting_projects_by_year(years=[2025, 2026, 2027, 2028], windows=scm_windows())
    assert {year: [p.pk for p in projects] for year, projects in named.items()} == {2026: [inside.pk],
                                                                                    2027: [late.pk]}
    assert [p.scm_year for p in named[2027]] == [2027]


def test_the_candidates_are_the_first_prioritised_proposed_first(make_project, advance, lead):
    for n in range(6):
        advance(make_project(title=f"Prioritised {n}"), "under_review", "prioritized")
    proposed = advance(make_project(title="Zulu proposed"), "under_review", "prioritized")
    assert project_transition(project=proposed, to="ready", by=lead, today=TODAY).__class__.__name__ == "Concurrence"
    services.project_update(project=CooperativeProject.objects.get(title="Prioritised 5"), by=lead, priority=1)
    advance(make_project(title="Only in review"), "under_review")
    with CaptureQueriesContext(connection) as queries:
        candidates = ready_candidates(limit=4)
    assert len(queries) == 2
    assert [p.title for p in candidates["projects"]] == ["Zulu proposed", "Prioritised 5", "Prioritised 0",
                                                         "Prioritised 1"]
    assert candidates["projects"][0].awaited_side == "rok" and candidates["projects"][1].awaited_side is None
    assert (candidates["more"], candidates["proposed"]) == (3, 1)


def test_the_report_lists_the_year_in_full_and_earlier_years_as_linked_counts(client, viewer, populate,
                                                                              make_project):
    client.force_login(viewer)
    populate(0, 5)
    few = _count(client, "/scm/2026/report/")[0]
    few_xlsx = _count(client, "/scm/2026/report.xlsx")[0]
    populate(5, 45)
    queries, response = _capture(client, "/scm/2026/report/")
    many = len(queries)
    # The year's projects are read in full (their own window on the ready_on index); nothing before it is.
    unbounded = _unbounded_project_reads(queries)
    assert len(unbounded) == 1 and all("ready_on" in sql for sql in unbounded), unbounded
    assert many == few and _count(client, "/scm/2026/report.xlsx")[0] == few_xlsx
    report = response.context["report"]
    assert len(report["counting"]) == 10  # the year's own projects, every one
    assert [(r["year"], r["total"]) for r in report["earlier"]] == [(2025, 10)]
    assert [(s["status"], s["count"]) for s in report["earlier"][0]["statuses"]] == [("in_implementation", 10)]
    html = response.content.decode()
    assert 'href="/projects/?counts_for=2025"' in html
    assert 'href="/projects/?counts_for=2025&amp;status=in_implementation"' in html
    assert "Project 003" not in html  # an earlier year's project is counted, not listed
    # The link lists what the figure counts: the projects that counted for 2025's SCM, not those aimed at it.
    aimed = make_project(title="Aimed at 2025, counted for nothing yet", target_year=2025)
    listed = _get(client, "/projects/", counts_for="2025", status="in_implementation")
    assert listed.status_code == 200 and "Project 003" in listed.content.decode()
    assert "10 projects" in listed.content.decode()
    everything = _get(client, "/projects/", counts_for="2025").content.decode()
    assert aimed.title not in everything and aimed.title in _get(client, "/projects/", year="2025").content.decode()


# --- PostgreSQL: the lists read their indexes ---------------------------------------------------------------

postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's query plans")


def _bulk(count):
    """A table large enough that a scan costs more than an index (rows written around the services)."""
    statuses = ["concept", "under_review", "prioritized", "ready", "in_implementation", "completed"]
    primary = area()  # read once: a query a row was most of this test's time
    projects = CooperativeProject.objects.bulk_create(
        [CooperativeProject(title=f"Bulk {n:05d}", priority_area=primary, lead_side=("us", "rok", "joint")[n % 3],
                            status=statuses[n % 6], priority=1 + n % 5 if statuses[n % 6] in ("prioritized", "ready")
                            else None,
                            ready_on=D(2020, 1, 1) + datetime.timedelta(days=n % 2400)
                            if statuses[n % 6] in ("ready", "in_implementation", "completed") else None)
         for n in range(count)], batch_size=2000)
    ProgressUpdate.objects.bulk_create(
        [ProgressUpdate(project=p, date=D(2025, 1, 1) + datetime.timedelta(days=n % 400),
                        health=("on_track", "at_risk", "off_track")[n % 3], narrative="Bulk.")
         for n, p in enumerate(projects) if p.status == "in_implementation"], batch_size=2000)
    services.current_health_rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _plans(call) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        call()
    plans = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            cursor.execute("EXPLAIN " + query["sql"])
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@postgres_only
def test_postgres_the_dashboard_lists_read_their_indexes(client, viewer, scm_2026):
    from projects.selectors import implementation_by_health
    from scm_reports.dashboard import pipeline

    # 10,000 rows: enough for every list below to prefer its index with fresh statistics (measured on
    # PostgreSQL 15: from about 3,000 rows; at 2,000 the readiness names still sort a year's window); a
    # third of the 30,000 this test first made, and the same plans.
    _bulk(10_000)
    projects = CooperativeProject.objects.all()
    (plan,) = _plans(lambda: list(pipeline(projects, TODAY)["projects"]) and None)[:1]
    assert "project_live_pipeline" in plan and "Seq Scan on projects_cooperativeproject " not in plan + " ", plan
    plans = _plans(lambda: implementation_by_health(projects=projects, today=TODAY, counts={}))
    assert len(plans) == 1, plans
    plan = plans[0]
    assert plan.count("project_live_health") == 4 and "Seq Scan" not in plan, plan
    names, _total = _plans(ready_candidates)
    assert "project_live_candidates" in names and "Seq Scan on projects_cooperativeproject " not in names + " ", names
    windows = scm_windows()
    (plan,) = _plans(lambda: counting_projects_by_year(years=[2024, 2025, 2026], windows=windows))
    # Each year with a window (2024 has none: before the framework's first year): the first five along a
    # ready_on index; at most the projects of one day sorted by id (incremental), never the year's.
    assert plan.count("Index Scan using") == 2 and "ready_on" in plan and "->Sort" not in plan.replace(" ", ""), plan
    assert "Seq Scan" not in plan, plan


def test_a_year_with_a_project_ready_every_day_draws_at_most_one_dot_per_percent():
    # A busy year: a ready project every day of its window. The bar stays a bar, not 365 overlapping dots,
    # and the deadline's own day stays left of the deadline's line.
    from scm_reports.charts import readiness_window
    from scm_reports.selectors import ReadinessState, YearReadiness

    start, deadline = D(2025, 10, 1), D(2026, 11, 4)
    row = YearReadiness(year=2026, state=ReadinessState.COVERED, deadline=deadline, window_start=start,
                        cycle=None)
    days = [start + datetime.timedelta(days=i) for i in range((deadline - start).days + 1)]
    window = readiness_window(row, today=D(2026, 9, 1), ready_days=days)
    assert 90 <= len(window["dots"]) <= 101
    assert max(window["dots"]) < window["deadline_at"]
    assert window["dots"] == sorted(set(window["dots"]))

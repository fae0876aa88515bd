"""Issue 14: the API's project list costs the same on every page and sort.

* The count comes from the dashboard's summary rows (projects.counts) when they hold it (no filter, or
  status, lead side, one priority area, one SCM year), in one small query: no ``COUNT(*)`` over the
  projects. It stays exact through the services' creates, deletes and restores; other filters count the
  projects, without the join the representation adds.
* A page's ids come from a subquery on the sort's index, then its rows by id (a deferred join): the
  same records, order, links and count as before, in as many queries on every page and sort.
* On PostgreSQL, each indexed sort's page query reads its index (EXPLAIN), never a scan of the table.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from projects import counts, services
from projects.filters import SORTS
from projects.models import CooperativeProject
from rcf import keyset
from tests.factories import ProjectFactory, area

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's query plans")
API = "/api/v1/projects/"
TABLE = "projects_cooperativeproject"
LOREM = ("maritime domain awareness, logistics, joint training and the exchange of liaison officers "
         "between the partners' coast guards, with a review at the next consultative meeting. ") * 3


def _body(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def _counts_projects(queries) -> list[str]:
    """The queries that count the projects table itself."""
    return [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and f'FROM "{TABLE}"' in q["sql"]]


def _page_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if f'FROM "{TABLE}"' in q["sql"] and "ORDER BY" in q["sql"]]


@pytest.fixture
def projects(db):
    """Eleven projects in three statuses, two areas, three lead sides; two share an updated_at."""
    made = []
    for n in range(11):
        project = ProjectFactory(title=f"Project {'KBCAEDGFJIH'[n]}", priority=(n % 5) + 1 if n % 3 else None,
                                 lead_side=("us", "rok", "joint")[n % 3],
                                 priority_area=area("maritime-security" if n % 2 else "capacity-building"))
        made.append(project)
    CooperativeProject.objects.filter(pk=made[4].pk).update(status="ready", ready_on=datetime.date(2025, 3, 1))
    CooperativeProject.objects.filter(pk=made[7].pk).update(status="ready", ready_on=datetime.date(2025, 6, 1))
    same = timezone.now()
    CooperativeProject.objects.filter(pk__in=[made[1].pk, made[2].pk]).update(updated_at=same)
    return made


def _walk_by_numbers(client, sort, page_size=3) -> list[list[int]]:
    pages, number = [], 1
    while True:
        body = _body(client.get(API, {"sort": sort, "page_size": page_size, "page": number}))
        pages.append([row["id"] for row in body["results"]])
        if body["next"] is None:
            return pages
        number += 1


@pytest.mark.parametrize("sort", list(SORTS))
def test_every_page_of_every_sort_lists_what_the_sort_orders_in_as_many_queries(api_client, viewer, projects,
                                                                                  sort):
    client = api_client(viewer)
    from projects.api import ProjectApiFilter

    expected = list(ProjectApiFilter({"sort": sort}, queryset=CooperativeProject.objects.all()).qs
                    .values_list("pk", flat=True)) if sort.lstrip("-") != "scm_year" else None
    pages = _walk_by_numbers(client, sort)
    if expected is not None:
        assert [pk for page in pages for pk in page] == expected
    assert sorted(pk for page in pages for pk in page) == sorted(p.pk for p in projects)
    counts = set()
    for number in range(1, len(pages) + 1):
        with CaptureQueriesContext(connection) as queries:
            body = _body(client.get(API, {"sort": sort, "page_size": 3, "page": number}))
        assert body["count"] == 11
        assert not _counts_projects(queries.captured_queries), queries.captured_queries
        counts.add(len(queries))
    # Following the links (cursors) costs the same too, and gives the same pages.
    body = _body(client.get(API, {"sort": sort, "page_size": 3}))
    walked = [[row["id"] for row in body["results"]]]
    while body["next"] is not None:
        with CaptureQueriesContext(connection) as queries:
            body = _body(client.get(body["next"]))
        assert body["count"] == 11 and not _counts_projects(queries.captured_queries)
        counts.add(len(queries))
        walked.append([row["id"] for row in body["results"]])
    assert walked == pages
    assert len(counts) == 1, counts


def test_a_page_by_number_has_the_links_a_cursor_walk_has(api_client, viewer, projects):
    client = api_client(viewer)
    by_number = _body(client.get(API, {"sort": "title", "page_size": 3, "page": 3}))
    first = _body(client.get(API, {"sort": "title", "page_size": 3}))
    second = _body(client.get(first["next"]))
    third = _body(client.get(second["next"]))
    assert by_number == third
    assert _body(client.get(by_number["previous"])) == second
    assert _body(client.get(second["previous"])) == first
    # Past the last page, a page that is not a number: 404 as before.
    assert client.get(API, {"page_size": 3, "page": 5}).status_code == 404
    assert client.get(API, {"page_size": 3, "page": "x"}).status_code == 404
    assert client.get(API, {"page_size": 3, "page": 0}).status_code == 404


def test_the_count_comes_from_the_summary_rows_and_stays_exact_through_the_services(
        api_client, viewer, administrator, make_project):
    client = api_client(viewer)
    made = [make_project(title=f"Project {n}") for n in range(4)]
    with CaptureQueriesContext(connection) as queries:
        body = _body(client.get(API))
    assert body["count"] == 4 == CooperativeProject.objects.count()
    assert not _counts_projects(queries.captured_queries)
    assert any("projects_dashboardcount" in q["sql"] for q in queries.captured_queries)

    services.project_soft_delete(project=made[0], by=administrator)
    services.project_soft_delete(project=CooperativeProject.objects.get(pk=made[1].pk), by=administrator)
    assert _body(client.get(API))["count"] == 2 == CooperativeProject.objects.count()
    services.project_restore(project=CooperativeProject.all_objects.get(pk=made[0].pk), by=administrator)
    make_project(title="Project 5")
    body = _body(client.get(API, {"page_size": 2}))
    assert body["count"] == 4 == CooperativeProject.objects.count()
    assert len(_body(client.get(body["next"]))["results"]) == 2


AREA, OTHER = "maritime-security", "capacity-building"


@pytest.mark.parametrize("query", [
    {"status": "under_review"}, {"status": ["under_review", "concept"]}, {"lead_side": "us"},
    {"lead_side": ["us", "rok"]}, {"priority_area": OTHER},
    {"status": "concept", "lead_side": "joint", "priority_area": AREA},
    {"year": "2027"}, {"search": "Project"}, {"country": "PH"}, {"priority_area": [OTHER, AREA]},
    {"year": ""}, {"primary_area": OTHER}, {"year": "0"},
])
def test_filtered_counts_are_exact(api_client, viewer, make_project, advance, query):
    client = api_client(viewer)
    for n in range(6):
        project = make_project(title=f"Project {n}", lead_side=("us", "rok", "joint")[n % 3],
                               priority_area=area(OTHER if n % 2 else AREA), target_year=2027 - n % 2)
        if n % 3 == 0:
            advance(project, "under_review")
    with CaptureQueriesContext(connection) as queries:
        body = _body(client.get(API, {**query, "page_size": 1000}))
    assert body["count"] == len(body["results"])
    summary = set(query) <= {"status", "lead_side", "priority_area", "year"} and all(query.values()) \
        and not isinstance(query.get("priority_area"), list) and query.get("year") != "0"
    if summary:
        assert not _counts_projects(queries.captured_queries)
    else:
        counted = _counts_projects(queries.captured_queries)
        assert counted and all("rcf_priorityarea" not in sql for sql in counted), counted  # no needless join


# --- PostgreSQL: each sort's page reads its index ---------------------------------------------------------

INDEXED = {"updated": "project_live_updated", "-updated": "project_live_updated",
           "title": "project_live_title_id", "-title": "project_live_title_id",
           "status": "project_live_lifecycle", "-status": "project_live_lifecycle_asc",
           "priority": "project_live_priority", "-priority": "project_live_priority_desc",
           "ready_on": "project_live_ready_id", "-ready_on": "project_live_ready_desc"}


def test_every_sort_but_the_computed_ones_has_an_index():
    assert set(SORTS) - set(INDEXED) == {"area", "-area", "scm_year", "-scm_year"}


@pytest.fixture(scope="module")
def many_projects(django_db_setup, django_db_blocker):
    """10,100 projects of a realistic width (the table's size is what makes a scan cost more than the
    indexes), their summary rows rebuilt, committed and vacuumed as autovacuum leaves a table (the
    visibility map is what lets a page's ids come from an index alone), deleted after the module's tests
    (each test's own writes are rolled back as usual)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's query plans")
    with django_db_blocker.unblock():
        primary = area()
        now = timezone.now()
        rows = []
        for i in range(10_100):
            status = ("ready", "prioritized", "concept")[i % 3]
            rows.append(CooperativeProject(
                title=f"Bench project {i}", summary=f"Exercise {i}: {LOREM}", priority_area=primary,
                lead_side="joint", status=status, priority=(i % 5) + 1 if status != "concept" else None,
                ready_on=datetime.date(2024, 1, 1) + datetime.timedelta(days=i % 700) if status == "ready" else None,
                updated_at=now - datetime.timedelta(seconds=i)))
        try:
            with transaction.atomic():
                CooperativeProject.objects.bulk_create(rows, batch_size=1000)
                counts.rebuild()
            with connection.cursor() as cursor:
                cursor.execute(f'VACUUM ANALYZE "{TABLE}"')
            yield
        finally:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute('DELETE FROM "projects_cooperativeproject" WHERE "title" LIKE %s',
                                   ["Bench project %"])
                counts.rebuild()


@postgres_only
@pytest.mark.parametrize("sort", list(INDEXED))
def test_postgres_each_sorts_page_reads_its_index_on_the_first_and_a_deep_page(many_projects, api_client,
                                                                              administrator, sort):
    client = api_client(administrator)
    for number in (1, 180):
        with CaptureQueriesContext(connection) as queries:
            body = _body(client.get(API, {"sort": sort, "page": number}))
        assert len(body["results"]) == 50
        [page_sql] = _page_queries(queries.captured_queries)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + page_sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert INDEXED[sort] in plan, plan
        assert f"Seq Scan on {TABLE}" not in plan, plan


@postgres_only
def test_postgres_a_cursor_page_starts_in_the_index_where_the_last_one_ended(many_projects, api_client,
                                                                            administrator):
    client = api_client(administrator)
    body = _body(client.get(API, {"sort": "-updated", "page": 180}))
    with CaptureQueriesContext(connection) as queries:
        following = _body(client.get(body["next"]))
    found = _page_queries(queries.captured_queries)  # read before the next request resets the log
    assert following["results"] == _body(client.get(API, {"sort": "-updated", "page": 181}))["results"]
    assert len(found) == 1, found
    page_sql = found[0]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + page_sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "project_live_updated" in plan and "Index Cond" in plan, plan
    assert f"Seq Scan on {TABLE}" not in plan, plan
    assert body["count"] == CooperativeProject.objects.count() > keyset.COUNT_CAP  # exact, not capped

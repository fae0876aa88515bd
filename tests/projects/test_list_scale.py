"""Issue 14: the project list's search on indexes, deep pages by keyset
(rcf.keyset), a capped count. The plan tests run on PostgreSQL (EXPLAIN on
a table with a few thousand rows and fresh statistics; enable_seqscan left
on): they assert the plan, never a timing."""

from __future__ import annotations

import datetime
import html
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from projects import search, selectors
from projects.filters import SORTS, ProjectFilter
from projects.models import CooperativeProject
from projects.views import ProjectListView
from rcf import keyset
from tests.factories import PointOfContactFactory, ProjectFactory, area, country

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's query plans")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
# A summary of a realistic length: the table's size is what makes a scan cost more than the indexes.
LOREM = ("maritime domain awareness, logistics, joint training and the exchange of liaison officers "
         "between the partners' coast guards, with a review at the next consultative meeting. ") * 3


def _rows(response) -> list[str]:
    return re.findall(r'data-testid="project-row-(\d+)"', response.content.decode())


def _link(response, testid) -> str | None:
    text = {"page-next": "Next", "page-previous": "Previous"}[testid]
    nav = re.search(r'<nav class="pagination".*?</nav>', response.content.decode(), re.S)
    found = re.search(rf'<a class="button secondary" href="\?([^"]*)">{text}</a>', nav.group()) if nav else None
    return html.unescape(found.group(1)) if found else None


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(ProjectListView, "paginate_by", 2)


@pytest.fixture
def projects(db):
    made = []
    for number, (status_priority, ready) in enumerate([(None, None), (3, None), (1, 5), (None, None), (2, 40),
                                                       (1, None), (None, 9)]):
        project = ProjectFactory(title=f"Project {'BCAEDGF'[number]}", priority=status_priority)
        if ready:
            CooperativeProject.objects.filter(pk=project.pk).update(
                ready_on=datetime.date(2025, 1, 1) + datetime.timedelta(days=ready), status="ready", priority=1)
        made.append(project)
    # Two projects changed at the same moment: the sorts' tie-breaker (the id) orders them.
    same = timezone.now()
    CooperativeProject.objects.filter(pk__in=[made[1].pk, made[2].pk]).update(updated_at=same)
    return made


@pytest.mark.parametrize("sort", list(SORTS))
def test_next_and_previous_walk_every_sort_in_the_same_order_as_page_numbers(client, viewer, projects,
                                                                           small_pages, sort):
    client.force_login(viewer)
    expected = [str(p.pk) for p in ProjectFilter({"sort": sort}, queryset=selectors.project_list()).qs]
    response = client.get("/projects/", {"sort": sort}, headers=EN)
    walked, pages = [], []
    while True:
        assert response.status_code == 200
        pages.append(_rows(response))
        walked += pages[-1]
        following = _link(response, "page-next")
        if following is None:
            break
        assert "cursor=" in following and "sort=" in following  # the filters ride along
        response = client.get("/projects/?" + following, headers=EN)
    assert walked == expected
    assert len(pages) == 4 and "Page 4 of 4" in response.content.decode()
    # Back from the last page, page by page, to the first (which has no Previous).
    for page in reversed(pages[:-1]):
        response = client.get("/projects/?" + _link(response, "page-previous"), headers=EN)
        assert _rows(response) == page
    assert _link(response, "page-previous") is None
    # The page numbers of old links name the same pages.
    for number, page in enumerate(pages, start=1):
        assert _rows(client.get("/projects/", {"sort": sort, "page": number}, headers=EN)) == page


def test_past_the_last_page_and_a_damaged_cursor_are_answered_not_errors(client, viewer, projects, small_pages):
    client.force_login(viewer)
    last = client.get("/projects/", {"page": 4}, headers=EN)
    # A page number past the end is the last page, as before.
    assert _rows(client.get("/projects/", {"page": 99}, headers=EN)) == _rows(last)
    assert client.get("/projects/", {"page": "x"}, headers=EN).status_code == 200
    assert _rows(client.get("/projects/", {"page": "9" * 40}, headers=EN)) == _rows(last)
    damaged = client.get("/projects/", {"cursor": "not-a-cursor"}, headers=EN)
    assert damaged.status_code == 200
    assert "damaged or out of date" in damaged.content.decode()
    assert _rows(damaged) == _rows(client.get("/projects/", headers=EN))
    # A cursor made for one sort sent with another (values of other types) is refused the same way.
    title_cursor = _link(client.get("/projects/", {"sort": "title"}, headers=EN), "page-next").split("cursor=")[1]
    other = client.get("/projects/?sort=-updated&cursor=" + title_cursor, headers=EN)
    assert other.status_code == 200
    # ...and one of a sort whose values would fit (rsec 3): page 1 with the message, not a wrong page 2.
    status_cursor = _link(client.get("/projects/", {"sort": "status"}, headers=EN), "page-next").split("cursor=")[1]
    assert client.get("/projects/?sort=status&cursor=" + status_cursor, headers=EN).status_code == 200
    crossed = client.get("/projects/?sort=-scm_year&cursor=" + status_cursor, headers=EN)
    assert "damaged or out of date" in crossed.content.decode()
    assert _rows(crossed) == _rows(client.get("/projects/", {"sort": "-scm_year"}, headers=EN))
    # A cursor past the last row (the rows after it were deleted since) says so and links to page 1.
    following = _link(last, "page-next")
    assert following is None
    first = client.get("/projects/", headers=EN)
    following = _link(first, "page-next")
    CooperativeProject.objects.exclude(pk__in=[int(pk) for pk in _rows(first)]).update(deleted_at=timezone.now())
    stale = client.get("/projects/?" + following, headers=EN)
    assert stale.status_code == 200 and "past the end of this list" in stale.content.decode()


def test_the_count_stops_at_the_cap(client, viewer, projects, small_pages, monkeypatch):
    monkeypatch.setattr(keyset, "COUNT_CAP", 5)
    client.force_login(viewer)
    page = client.get("/projects/", headers=EN).content.decode()
    assert "More than 5 projects" in page and "Page 1 of more than 3" in page
    korean = client.get("/projects/", headers={"Accept-Language": "ko"}).content.decode()
    assert "사업 5건 초과" in korean
    with CaptureQueriesContext(connection) as queries:
        client.get("/projects/", headers=EN)
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    assert counts and all("LIMIT 6" in sql for sql in counts), counts


def test_queries_a_page_do_not_grow_with_the_rows(client, viewer, monkeypatch):
    client.force_login(viewer)
    monkeypatch.setattr(ProjectListView, "paginate_by", 50)

    def queries_for_a_page():
        with CaptureQueriesContext(connection) as queries:
            first = client.get("/projects/", headers=EN)
            client.get("/projects/?" + (_link(first, "page-next") or ""), headers=EN)
        return len(queries.captured_queries)

    for _ in range(5):
        ProjectFactory().partner_countries.add(country("PH"))
    five = queries_for_a_page()
    for _ in range(50):
        ProjectFactory().partner_countries.add(country("VN"))
    assert queries_for_a_page() == five


def test_search_finds_the_same_projects_on_every_database(client, viewer, projects):
    client.force_login(viewer)
    CooperativeProject.objects.filter(pk=projects[3].pk).update(external_id="EXT-77")
    assert _rows(client.get("/projects/", {"q": "ext-77"}, headers=EN)) == [str(projects[3].pk)]
    assert _rows(client.get("/projects/", {"q": "Project D"}, headers=EN)) == [str(projects[4].pk)]


# --- PostgreSQL: the plans use the indexes -------------------------------------------------------------


def _bulk_projects(n: int) -> None:
    """``n`` projects in one INSERT (no history, no counts: only the plans are looked at), then ANALYZE."""
    primary = area()
    now = timezone.now()
    CooperativeProject.objects.bulk_create(
        [CooperativeProject(title=f"Bench project {i}", title_ko=f"협력 사업 {i}",
                            summary=f"Coordination of exercise number {i} with the partners: {LOREM}",
                            priority_area=primary, lead_side="joint", updated_at=now - datetime.timedelta(minutes=i))
         for i in range(n)], batch_size=1000)
    through = CooperativeProject.partner_countries.through
    ids = list(CooperativeProject.objects.values_list("pk", flat=True))
    countries = [country("PH").pk, country("VN").pk, country("ID").pk]
    through.objects.bulk_create([through(cooperativeproject_id=pk, partnercountry_id=countries[pk % 3])
                                 for pk in ids], batch_size=1000)
    _fresh_statistics()


def _fresh_statistics() -> None:
    """As autovacuum leaves a table: statistics, and the GIN indexes' pending lists merged (rows inserted
    since the last vacuum wait in a list every search reads whole; the planner counts it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list(indexrelid::regclass) FROM pg_index JOIN pg_class c "
                       "ON c.oid = indexrelid JOIN pg_am am ON am.oid = c.relam WHERE am.amname = 'gin'")
        cursor.execute("ANALYZE")


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture(scope="module")
def many_projects(django_db_setup, django_db_blocker):
    """20,000 projects, made once for all the plan tests of this module (a fill each cost the suite ~10 s a
    test): in a transaction of their own, which each test's transaction nests in as a savepoint (so what a
    test writes is undone after it), rolled back after the module's last test. PostgreSQL only: the tests
    that ask for it are skipped before it is made on SQLite. 20,000, because the search plans only turn to
    the trigram indexes above some 10,000 rows of this width (measured on PostgreSQL 15: at 5,000 every
    search scans, at 10,000 the header search still does, at 14,000 none does)."""
    with django_db_blocker.unblock(), transaction.atomic():
        _bulk_projects(20_000)
        yield
        transaction.set_rollback(True)


@postgres_only
@pytest.mark.parametrize("q, index", [("4321", "search_trgm_projects_cooperativeproject_title"),
                                      ("사업 4321", "search_trgm_projects_cooperativeproject_title_ko"),
                                      ("exercise 4321", "search_trgm_projects_cooperativeproject_summary"),
                                      ("EXT-4321", "project_external_id_upper")])
def test_postgres_list_search_reads_the_indexes(many_projects, q, index):
    CooperativeProject.objects.filter(title="Bench project 4321").update(external_id="EXT-4321")
    query = search.clean_query(q)
    condition = search.match_q(search.LIST_FIELDS, query, exact=search.LIST_EXACT)
    probe = selectors.project_list().filter(condition).order_by().values_list("pk", flat=True)[:search.PROBE_LIMIT]
    plan = _plan(probe)
    assert "BitmapOr" in plan and index in plan, plan
    assert "Seq Scan on projects_cooperativeproject" not in plan, plan
    # The page reads the matches by primary key.
    page = ProjectFilter({"q": q}, queryset=selectors.project_list())
    assert page.is_valid()
    assert "projects_cooperativeproject_pkey" in _plan(page.qs[:25]), _plan(page.qs[:25])


@postgres_only
def test_postgres_header_search_reads_the_indexes(many_projects):
    from contacts.models import PointOfContact

    template = PointOfContactFactory()
    PointOfContact.objects.bulk_create([
        PointOfContact(full_name=f"Contact {n} Person", email=f"contact{n}@example.org", side="us",
                       organization_id=template.organization_id) for n in range(30_000)], batch_size=2000)
    _fresh_statistics()
    query = search.clean_query("Whitfield")
    for model, fields in ((CooperativeProject, ("title", "title_ko", "summary", "summary_ko")),
                          (PointOfContact, ("full_name", "full_name_ko", "email"))):
        plan = _plan(model.objects.filter(search.match_q(fields, query)).annotate(
            search_rank=search.rank_expression(fields, query)).order_by("-search_rank")[:8])
        assert "Bitmap Index Scan on search_trgm_" in plan and "Seq Scan" not in plan.split("Sort")[-1], plan


@postgres_only
def test_postgres_country_group_filter_reads_an_index(many_projects):
    page = ProjectFilter({"country_group": ["asean"]}, queryset=selectors.project_list())
    assert page.is_valid()
    plan = _plan(page.qs.values("pk")[:25])
    assert "Seq Scan on projects_cooperativeproject_partner_countries" not in plan, plan
    assert "Index" in plan and "projects_cooperativeproject_partner_countries" in plan, plan


@postgres_only
@pytest.mark.parametrize("sort, index", [("-updated", "updated_at"), ("updated", "updated_at"),
                                         ("title", "project_live_title_id"), ("-title", "project_live_title_id")])
def test_postgres_a_deep_page_starts_in_the_index_where_the_last_one_ended(many_projects, sort, index):
    queryset = selectors.project_list()
    keys = keyset.keys_of(queryset, SORTS[sort])
    annotated = queryset.annotate(**{key.alias: key.expression for key in keys})
    before = annotated.order_by(*keyset.ordering(keys))[4000]
    deep = keyset.seek(annotated, keys, [getattr(before, key.alias) for key in keys]).order_by(*keyset.ordering(keys))
    plan = _plan(deep[:26])
    assert index in plan and "Index Cond" in plan, plan
    assert "Seq Scan on projects_cooperativeproject " not in plan + " ", plan

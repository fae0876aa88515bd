"""Issue 14: the project search's cost does not grow with the number of
matches (projects.search.plan). A common word is found by walking the
list's sort index and stopping after the page, its count stops after
SEARCH_COUNT_CAP + 1 rows; a rare word is read on the trigram indexes; a
misspelt word is looked up among the projects' words (migration 0016) and
searched as the words it stands for. Plans are asserted on PostgreSQL
(EXPLAIN, actual row counts), results on both databases against the
substring truth computed here."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import search, selectors
from projects.filters import ProjectFilter
from projects.models import CooperativeProject
from rcf import keyset
from tests.factories import area

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's query plans")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ROWS = 3000
FILLER = ("maritime domain awareness, joint training and the exchange of liaison officers between the "
          "partners' coast guards, with a review at the next consultative meeting. ") * 3


def _summary(i: int) -> str:
    # "logistics" in 4 of 5 projects (a common word, as in the bench's data); the rest without it.
    return f"Exercise {i}: {'logistics support and ' if i % 5 else ''}{FILLER}"


def _bulk(start: int, n: int) -> None:
    primary = area()
    CooperativeProject.objects.bulk_create(
        [CooperativeProject(title=f"Scale project {i}", title_ko=f"협력 사업 {i}", summary=_summary(i),
                            priority_area=primary, lead_side="joint") for i in range(start, start + n)],
        batch_size=1000)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT gin_clean_pending_list(indexrelid::regclass) FROM pg_index JOIN pg_class c "
                           "ON c.oid = indexrelid JOIN pg_am am ON am.oid = c.relam WHERE am.amname = 'gin'")
        cursor.execute(f"ANALYZE {CooperativeProject._meta.db_table}")


@pytest.fixture(scope="module")
def many(django_db_setup, django_db_blocker):
    """``ROWS`` projects made once for the module, in a transaction each test's nests in as a savepoint
    (what a test writes is undone after it), rolled back after the last test (as test_list_scale's)."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        _bulk(0, ROWS)
        yield
        transaction.set_rollback(True)


def _truth(word: str) -> list[int]:
    """The live projects with ``word`` in a title or summary (any case), most recently changed first."""
    rows = CooperativeProject.objects.order_by("-updated_at", "-id").values_list(
        "pk", "title", "title_ko", "summary", "summary_ko")
    return [pk for pk, *texts in rows if any(word.casefold() in (t or "").casefold() for t in texts)]


def _listed(client, user, q, **extra):
    client.force_login(user)
    response = client.get("/projects/", {"q": q, **extra}, **EN)
    assert response.status_code == 200
    return response, [int(pk) for pk in re.findall(r'data-testid="project-row-(\d+)"', response.content.decode())]


def _explain(queryset, analyze=False) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(("EXPLAIN (ANALYZE, COSTS OFF) " if analyze else "EXPLAIN ") + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _scanned(plan: str) -> int:
    """The rows the plan's scans of the projects produced and removed (EXPLAIN ANALYZE)."""
    total = 0
    for found in re.finditer(r"Scan[^\n]*on projects_cooperativeproject[^\n]*actual[^\n]*rows=(\d+)(?:\n[^\n]*"
                             r"(?:Filter|Cond)[^\n]*)*(?:\n\s*Rows Removed by Filter: (\d+))?", plan):
        total += int(found.group(1)) + int(found.group(2) or 0)
    return total


# --- Results: as the substring truth, on SQLite and PostgreSQL ----------------------------


def test_a_common_word_lists_its_newest_matches_and_a_capped_count(client, viewer, many):
    truth = _truth("logistics")
    response, rows = _listed(client, viewer, "logistics")
    assert rows == truth[:25]
    assert response.context["page"].count_capped and response.context["count"] == search.SEARCH_COUNT_CAP
    assert f"More than {search.SEARCH_COUNT_CAP:,} projects" in response.content.decode()
    # Sorted by title, the page is the first 25 of the matches in that order.
    by_title = sorted(CooperativeProject.objects.filter(pk__in=truth).values_list("title", "pk"))
    assert _listed(client, viewer, "logistics", sort="title")[1] == [pk for _title, pk in by_title[:25]]
    # The next page follows on.
    nxt = re.search(r'href="\?([^"]*cursor=[^"]*)">Next', response.content.decode())
    assert nxt
    page2 = client.get("/projects/?" + nxt.group(1).replace("&amp;", "&"), **EN).content.decode()
    assert [int(pk) for pk in re.findall(r'data-testid="project-row-(\d+)"', page2)] == truth[25:50]


def test_a_rare_word_lists_every_match_with_its_exact_count(client, viewer, many):
    truth = _truth("project 2345")
    response, rows = _listed(client, viewer, '"project 2345"')
    assert rows == truth and len(truth) == 1
    assert response.context["count"] == 1 and not response.context["page"].count_capped
    assert _listed(client, viewer, "2345")[1] == _truth("2345")


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="a misspelling is found on PostgreSQL only")
def test_a_misspelt_word_finds_what_the_word_finds(client, viewer, many):
    response, rows = _listed(client, viewer, "logisitcs")
    assert rows == _truth("logistics")[:25]
    assert response.context["page"].count_capped
    # A misspelt rare word too; a correctly spelt word gains nothing from words like it.
    CooperativeProject.objects.filter(title="Scale project 17").update(summary="Hydrography survey of the strait.")
    assert _listed(client, viewer, "hydrograhpy")[1] == _truth("hydrography")
    assert _listed(client, viewer, "hydrography")[1] == _truth("hydrography")
    # Nothing like it: nothing found, no error.
    assert _listed(client, viewer, "zqxwvy")[1] == []


def test_the_header_search_counts_a_common_word_to_the_cap(client, viewer, many):
    client.force_login(viewer)
    response = client.get("/search/", {"q": "logistics"}, **EN)
    group = response.context["groups"][0]
    assert group.kind == "projects" and group.capped and len(group.results) == search.GROUP_LIMIT
    html = response.content.decode()
    assert f"See more than {search.SEARCH_COUNT_CAP} in the list" in html
    assert f"{search.SEARCH_COUNT_CAP}+" in html
    # The eight shown are matches, the most recently changed first (every one matches the word whole).
    assert [int(r.url.split("/")[2]) for r in group.results] == _truth("logistics")[:search.GROUP_LIMIT]


def test_the_query_count_does_not_grow_with_the_matches(client, viewer, many):
    client.force_login(viewer)

    def queries(q):
        client.get("/projects/", {"q": q}, **EN)
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/projects/", {"q": q}, **EN).status_code == 200
        return len(captured)

    before = {q: queries(q) for q in ("logistics", "2345", "logisitcs")}
    _bulk(ROWS, 1500)
    assert {q: queries(q) for q in before} == before


# --- PostgreSQL: the plans ------------------------------------------------------------------


def _page_queryset(q, sort="-updated"):
    filterset = ProjectFilter({"q": q, "sort": sort}, queryset=selectors.project_list())
    assert filterset.is_valid()
    return filterset.qs


@postgres_only
@pytest.mark.parametrize("sort", ["-updated", "title"])
def test_postgres_a_common_word_walks_the_sort_index_and_stops_after_the_page(many, sort):
    page = _page_queryset("logistics", sort)[:26]
    plan = _explain(page)
    assert plan.lstrip().startswith("Limit"), plan
    assert "Index Scan" in plan and "Bitmap" not in plan and "Seq Scan on projects_cooperativeproject " not in plan
    assert not re.search(r"->  Sort ", plan), plan  # no sort of every match (an incremental one is the index's)
    # Run: the scan stops after about 26 / 80% rows, not after the 4,000 matches.
    assert _scanned(_explain(page, analyze=True)) < 100


@postgres_only
def test_postgres_a_common_word_is_counted_to_the_cap_only(many):
    queryset = _page_queryset("logistics")
    counted = queryset.order_by().values("pk")[: search.SEARCH_COUNT_CAP + 1]
    plan = _explain(counted, analyze=True)
    assert "Bitmap" not in plan and "Sort" not in plan, plan
    assert _scanned(plan) < 1.5 * (search.SEARCH_COUNT_CAP + 1) / 0.8, plan
    assert keyset.capped_count(queryset, search.SEARCH_COUNT_CAP) == search.SEARCH_COUNT_CAP + 1


@postgres_only
@pytest.mark.parametrize("q", ["2345", "hydrograhpy"])
def test_postgres_a_rare_or_misspelt_word_is_read_on_the_trigram_indexes(client, viewer, many, q):
    CooperativeProject.objects.filter(title="Scale project 17").update(summary="Hydrography survey of the strait.")
    client.force_login(viewer)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/projects/", {"q": q}, **EN)
    assert response.context["count"] == 1
    sql = [query["sql"] for query in captured.captured_queries]
    probes = [i for i, text in enumerate(sql) if text.startswith('SELECT "projects_cooperativeproject"."id" AS "pk"')
              and "ILIKE" in text and "LIMIT 501" in text]
    assert probes, sql
    # The probe ran with scans of the whole table off: its plan reads the trigram GIN indexes.
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off; SET enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql[probes[-1]])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan; RESET enable_indexscan")
    if q == "2345":  # (the misspelt word's nine ILIKEs: at 3,000 rows one pass over a partial index costs less;
        # at 20,000 the planner takes the BitmapOr of the trigram indexes, as here)
        assert "BitmapOr" in plan and "search_trgm_projects_cooperativeproject_summary" in plan, plan
    else:
        assert "'%hydrography%'" in sql[probes[-1]] and "Seq Scan" not in plan, plan
    # The page reads the match by primary key; the misspelt word's was looked up among the words.
    assert "projects_cooperativeproject_pkey" in _explain(_page_queryset(q)[:26])
    assert (search.WORDS_TABLE in " ".join(sql)) == (q == "hydrograhpy")  # a number is never looked up


@postgres_only
def test_postgres_the_words_follow_the_projects():
    primary = area()
    project = CooperativeProject.objects.create(title="Bathymetry", summary="Seabed mapping", priority_area=primary,
                                                lead_side="joint")
    CooperativeProject.objects.filter(pk=project.pk).update(summary="Seabed cartography, 2026")
    with connection.cursor() as cursor:
        cursor.execute("SELECT word FROM projects_search_word WHERE word IN "
                       "('bathymetry', 'seabed', 'mapping', 'cartography', '2026')")
        assert {row[0] for row in cursor.fetchall()} == {"bathymetry", "seabed", "mapping", "cartography"}

"""The project list: the SQL time of page 1, of page 2,000 and of a search
for a rare term (``/projects/?q=12345``: the bench titles end with the
project's number), each a real request through Django. Page 2,000 is
reached as "Next" links reach it (a keyset cursor, rcf.keyset); the old
``?page=2000`` link (OFFSET) is timed too, for comparison. SQL time is the time
spent in the database driver, summed over the request's queries
(``connection.execute_wrapper``)."""

from __future__ import annotations

import re
import statistics
import time

from . import common

RARE_TERM = "12345"
DEEP_PAGE = 2000


def _deep_page() -> int:
    """Page 2,000, or the last full page of a smaller database (a 20,000-project dev run has 800)."""
    from projects.models import CooperativeProject
    from projects.views import ProjectListView

    return min(DEEP_PAGE, CooperativeProject.objects.count() // ProjectListView.paginate_by)


def _deep_cursor(deep_page: int) -> str:
    """The cursor of page ``DEEP_PAGE``'s "Next"-link chain (rcf.keyset), as a user reaches it by
    following "Next" from page 1: the sort keys of the row just before it."""
    from projects import selectors
    from projects.filters import DEFAULT_SORT, SORTS
    from projects.views import ProjectListView
    from rcf import keyset

    queryset = selectors.project_list()
    keys = keyset.keys_of(queryset, SORTS[DEFAULT_SORT])
    ordered = queryset.annotate(**{key.alias: key.expression for key in keys}).order_by(*keyset.ordering(keys))
    before = ordered[(deep_page - 1) * ProjectListView.paginate_by - 1]
    return keyset.encode(keys, [getattr(before, key.alias) for key in keys], deep_page, "after", model=queryset.model)


def run() -> bool:
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.core.signals import request_finished
    from django.db import close_old_connections, connection
    from django.test import Client

    from tests.factories import UserFactory

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    request_finished.disconnect(close_old_connections)
    user = UserFactory(username="bench-list-viewer")
    user.groups.set([Group.objects.get(name="viewer")])
    client = Client()
    client.force_login(user)
    sql = {"seconds": 0.0, "queries": 0}

    def timer(execute, statement, params, many, context):
        start = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            sql["seconds"] += time.perf_counter() - start
            sql["queries"] += 1

    sql_times: dict[str, list[float]] = {}
    query_counts: dict[str, int] = {}

    def request(name, params):
        def go():
            sql["seconds"], sql["queries"] = 0.0, 0
            with connection.execute_wrapper(timer):
                response = client.get("/projects/", params)
            assert response.status_code == 200, (name, response.status_code)
            sql_times.setdefault(name, []).append(sql["seconds"])
            query_counts[name] = sql["queries"]
            return response
        return go

    deep_page = _deep_page()
    page1, deep, search = "page 1", f"page {deep_page:,}", f"?q={RARE_TERM}"
    offset = f"?page={deep_page:,} (OFFSET, old links)"
    cursor = _deep_cursor(deep_page)
    found = request(search, {"q": RARE_TERM})()
    assert RARE_TERM.encode() in found.content, "the search found nothing"
    same = request(deep, {"cursor": cursor})().content, request(offset, {"page": deep_page})().content
    rows = [re.findall(rb'data-testid="project-row-(\d+)"', content) for content in same]
    assert rows[0] and rows[0] == rows[1], "the cursor's deep page is not the OFFSET's"
    request_times = common.interleaved({
        page1: request(page1, {}),
        deep: request(deep, {"cursor": cursor}),
        offset: request(offset, {"page": deep_page}),
        search: request(search, {"q": RARE_TERM}),
    })
    for name in sql_times:  # drop the warm-up runs: the same count as the request timings
        sql_times[name] = sql_times[name][-len(request_times[name]):]
    print(f"\n  queries per request: {', '.join(f'{n} {c}' for n, c in query_counts.items())}")
    common.report("Project list, SQL time only", sql_times, baseline=page1)
    common.report("Project list, full request", request_times, baseline=page1)
    common.summary(f"/projects/?q=<rare term> SQL time ({search})",
                   f"{common.ms(statistics.median(sql_times[search]))} at {common.N_PROJECTS:,} projects",
                   "≤ 20 ms at 1,000,000", None)
    ratio = common.ratio(sql_times, deep, page1)
    common.summary(f"list page {deep_page:,} ÷ page 1 (SQL time)", common.ratio_text(sql_times, deep, page1),
                   "≤ 1.5x", ratio <= 1.5)
    return True

"""The project list: the SQL time of page 1, of page 2,000 and of a search
for a rare term (``/projects/?q=12345``: the bench titles end with the
project's number), each a real request through Django. SQL time is the time
spent in the database driver, summed over the request's queries
(``connection.execute_wrapper``)."""

from __future__ import annotations

import statistics
import time

from . import common

RARE_TERM = "12345"
DEEP_PAGE = 2000


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

    page1, deep, search = "page 1", f"page {DEEP_PAGE:,}", f"?q={RARE_TERM}"
    found = request(search, {"q": RARE_TERM})()
    assert RARE_TERM.encode() in found.content, "the search found nothing"
    request_times = common.interleaved({
        page1: request(page1, {}),
        deep: request(deep, {"page": DEEP_PAGE}),
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
    common.summary(f"list page {DEEP_PAGE:,} ÷ page 1 (SQL time)", common.ratio_text(sql_times, deep, page1),
                   "≤ 1.5x", ratio <= 1.5)
    return True

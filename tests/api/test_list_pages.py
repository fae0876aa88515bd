"""API list pages (issue 14): the load benchmark's main request. A page reads only what
it shows: the SCM-year annotation (and the SCM windows it needs) only when the page
filters or sorts by it."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/"


def captured(client, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params)
    assert response.status_code == 200, response.content[:300]
    return [q["sql"] for q in queries], [r["id"] for r in response.json()["results"]]


def test_a_plain_page_skips_the_scm_year_and_year_pages_still_use_it(api_client, viewer, make_project, advance,
                                                                      scm_2026):
    plain = make_project(title="Plain")
    ready = advance(make_project(title="Ready"), "under_review", "prioritized", "ready",
                    today=datetime.date(2026, 5, 2), ready_on=datetime.date(2026, 5, 1))
    client = api_client(viewer)

    sql, ids = captured(client, {})
    assert sorted(ids) == sorted([plain.pk, ready.pk])
    assert not any("scm_reports_scmcycle" in q for q in sql)  # no SCM windows read for a plain page

    sql, ids = captured(client, {"year": 2026})
    assert ids == [ready.pk]
    sql, ids = captured(client, {"sort": "-scm_year"})
    assert ids == [ready.pk, plain.pk]  # counted for 2026 first, the one without an SCM year last
    sql, ids = captured(client, {"sort": "scm_year"})
    assert ids == [ready.pk, plain.pk]  # nulls last either way

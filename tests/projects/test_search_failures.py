"""The search's plans when something goes wrong (review of issue 14): a probe the statement timeout
cancels ends in that error (the middleware's 503), not in a second one; words too short for a trigram
are not probed on the trigram indexes."""

import pytest
from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from projects import search
from projects.models import CooperativeProject
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's planner settings")]


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


def test_a_probe_the_statement_timeout_cancels_raises_the_timeout_and_puts_the_settings_back():
    from psycopg import errors

    ProjectFactory(title="Slow harbour")
    slow = CooperativeProject.objects.extra(where=["pg_sleep(0.3) IS NOT NULL"])  # noqa: S610 (a test's own SQL)
    with transaction.atomic():  # as a request runs (ATOMIC_REQUESTS)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 50")
        with pytest.raises(OperationalError) as raised:
            search._index_probe(slow, [Q(pk__gt=0)], 10)
        # The timeout itself (rcf.middleware answers it with a 503), not "current transaction is aborted".
        assert isinstance(raised.value.__cause__, errors.QueryCanceled)
        # The request's transaction goes on, with plain scans allowed again.
        assert _setting("enable_seqscan") == "on" and _setting("enable_indexscan") == "on"
        assert CooperativeProject.objects.filter(title="Slow harbour").exists()


def test_a_probe_that_succeeds_puts_the_settings_back():
    ProjectFactory(title="Quiet harbour")
    with transaction.atomic():
        (ids,) = search._index_probe(CooperativeProject.objects.all(), [Q(title__icontains="quiet")], 10)
        assert len(ids) == 1
        assert _setting("enable_seqscan") == "on" and _setting("enable_indexscan") == "on"


def test_words_of_two_characters_are_left_to_the_planner_not_probed():
    ProjectFactory(title="Radar zq upgrade")
    query = search.clean_query("zq")
    with CaptureQueriesContext(connection) as queries:
        found = search.plan(CooperativeProject.objects.all(), search.LIST_FIELDS, query, exact=search.LIST_EXACT,
                            words=True)
    assert not any("enable_seqscan" in q["sql"] for q in queries.captured_queries)
    assert not found.few and not found.common
    assert list(CooperativeProject.objects.filter(found.condition).values_list("title", flat=True)) == [
        "Radar zq upgrade"]
    # A word of three characters has trigrams: probed on the indexes as before.
    with CaptureQueriesContext(connection) as queries:
        found = search.plan(CooperativeProject.objects.all(), search.LIST_FIELDS, search.clean_query("zqx"),
                            exact=search.LIST_EXACT, words=True)
    assert any("enable_seqscan" in q["sql"] for q in queries.captured_queries)

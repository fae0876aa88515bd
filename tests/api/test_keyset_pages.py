"""Issue 14: API list pages by cursor (rcf.keyset via rcf.api_policies.PageNumberPagination): ``next``
and ``previous`` carry ``cursor=``, so a deep page costs what the first does; ``?page=N`` still works.
Every answer is checked against the schema (tests/api/conftest.py)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from projects.filters import SORTS
from projects.models import CooperativeProject
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/projects/"


@pytest.fixture
def projects(db):
    made = [ProjectFactory(title=f"Project {letter}", priority=priority)
            for letter, priority in zip("BCAEDGF", [None, 3, None, None, 2, 1, None], strict=True)]
    CooperativeProject.objects.filter(pk=made[2].pk).update(
        ready_on=datetime.date(2025, 3, 1), status="ready", priority=1)
    same = timezone.now()
    CooperativeProject.objects.filter(pk__in=[made[1].pk, made[3].pk]).update(updated_at=same)
    return made


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize("sort", list(SORTS))
def test_next_and_previous_walk_every_sort_as_page_numbers_do(api_client, viewer, projects, sort):
    client = api_client(viewer)
    response = client.get(API, {"sort": sort, "page_size": 2})
    pages = []
    while True:
        pages.append(_ids(response))
        body = response.json()
        assert body["count"] == 7
        if body["next"] is None:
            break
        assert "cursor=" in body["next"] and f"sort={sort}" in body["next"].replace("%2D", "-")
        assert response["Link"].startswith(f"<{body['next']}>")
        response = client.get(body["next"])
    assert len(pages) == 4
    by_number = [_ids(client.get(API, {"sort": sort, "page_size": 2, "page": n})) for n in range(1, 5)]
    assert pages == by_number
    for page in reversed(pages[:-1]):
        response = client.get(response.json()["previous"])
        assert _ids(response) == page
    assert response.json()["previous"] is None


def test_a_page_past_the_end_or_a_bad_cursor_is_a_404_not_an_error(api_client, viewer, projects):
    client = api_client(viewer)
    assert client.get(API, {"page_size": 2, "page": 5}).status_code == 404
    assert client.get(API, {"page_size": 2, "page": "x"}).status_code == 404
    assert client.get(API, {"page_size": 2, "page": "9" * 40}).status_code == 404
    assert client.get(API, {"page_size": 2, "cursor": "forged"}).status_code == 404
    last = client.get(API, {"page_size": 2, "page": 4}).json()
    assert last["next"] is None and last["previous"]


def test_queries_a_page_do_not_grow_with_the_rows(api_client, viewer):
    client = api_client(viewer)

    def queries(*args):
        with CaptureQueriesContext(connection) as captured:
            body = client.get(*args).json()
        return len(captured.captured_queries), body

    for _ in range(5):
        ProjectFactory().partner_countries.add(*CooperativeProject._meta.get_field(
            "partner_countries").related_model.objects.all()[:2])
    five, _ = queries(API, {"page_size": 50})
    for _ in range(100):
        ProjectFactory()
    first, body = queries(API, {"page_size": 50})
    second, _ = queries(body["next"])
    assert first == five and second == five


def _cursor(url: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(url).query)["cursor"][0]


def test_a_cursor_of_another_sort_or_list_is_a_404_not_a_wrong_page(api_client, viewer, projects):
    """rsec 3: a cursor is signed for its list and its sort; elsewhere it names no position."""
    client = api_client(viewer)
    status_next = client.get(API, {"sort": "status", "page_size": 2}).json()["next"]
    cursor = _cursor(status_next)
    assert client.get(API, {"sort": "status", "page_size": 2, "cursor": cursor}).status_code == 200
    assert client.get(API, {"sort": "-scm_year", "page_size": 2, "cursor": cursor}).status_code == 404
    assert client.get(API, {"sort": "-status", "page_size": 2, "cursor": cursor}).status_code == 404
    ProjectFactory.create_batch(3)
    contacts_next = client.get("/api/v1/organizations/", {"page_size": 1}).json()["next"]
    if contacts_next:  # a cursor of another resource (same sort keys: the primary key) on this one
        other = _cursor(contacts_next)
        assert client.get(API, {"page_size": 2, "cursor": other, "sort": "-updated"}).status_code == 404

"""The list pages' filter bar (issue 12): several values per filter, chips that
remove one value, sortable headers, exporting the rows ticked, and no
aria-describedby that points nowhere."""

import csv
import io
import re

import pytest
from django.http import QueryDict

from tests.factories import ProjectFactory, area, country

pytestmark = pytest.mark.django_db


@pytest.fixture
def projects(db):
    ready = ProjectFactory(title="Alpha review", status="under_review", priority=2)
    prioritized = ProjectFactory(title="Bravo prioritised", status="prioritized", priority=1,
                                 priority_area=area("technical-cooperation"))
    concept = ProjectFactory(title="Charlie concept", status="concept")
    ready.partner_countries.set([country("PH")])
    prioritized.partner_countries.set([country("FJ")])
    concept.partner_countries.set([country("VN")])
    return {"ready": ready, "prioritized": prioritized, "concept": concept}


def _get(client, viewer, query=""):
    client.force_login(viewer)
    response = client.get(f"/projects/?{query}")
    assert response.status_code == 200
    return response, response.content.decode()


def _titles(response):
    return [p.title for p in response.context["projects"]]


def _chip_links(html):
    return re.findall(r'<a class="chip" href="\?([^"]*)"', html)


def test_two_statuses_show_both_kinds_of_rows_and_a_chip_for_each(client, viewer, projects):
    response, html = _get(client, viewer, "status=under_review&status=prioritized")
    assert sorted(_titles(response)) == ["Alpha review", "Bravo prioritised"]
    assert len(_chip_links(html)) == 2
    assert "Status:</span> Under review" in html and "Status:</span> Prioritised" in html
    assert 'data-testid="clear-filters"' in html
    # Both boxes stay ticked in the Status menu, which counts them.
    assert re.search(r'value="under_review"[^>]*checked', html) and re.search(r'value="prioritized"[^>]*checked', html)


def test_a_chip_link_removes_only_its_value(client, viewer, projects):
    _response, html = _get(client, viewer, "status=under_review&status=prioritized&q=a")
    links = _chip_links(html)
    assert len(links) == 3  # search, two statuses
    ready_chip = next(link for link in links
                      if QueryDict(link.replace("&amp;", "&")).getlist("status") == ["prioritized"])
    query = QueryDict(ready_chip.replace("&amp;", "&"))
    assert query.get("q") == "a"  # the other filters stay
    response, html = _get(client, viewer, query.urlencode())
    assert _titles(response) == ["Bravo prioritised"]
    assert len(_chip_links(html)) == 2


def test_no_filter_no_chip(client, viewer, projects):
    response, html = _get(client, viewer)
    assert len(_titles(response)) == 3
    assert _chip_links(html) == [] and 'data-testid="clear-filters"' not in html


def test_several_areas_and_countries(client, viewer, projects):
    response, _html = _get(client, viewer, "country=PH&country=FJ")
    assert sorted(_titles(response)) == ["Alpha review", "Bravo prioritised"]
    response, _html = _get(client, viewer, "priority_area=technical-cooperation")
    assert _titles(response) == ["Bravo prioritised"]


def test_a_column_header_sorts_and_says_so_and_toggles_the_direction(client, viewer, projects):
    response, html = _get(client, viewer, "sort=title")
    assert _titles(response) == ["Alpha review", "Bravo prioritised", "Charlie concept"]
    title_th = re.search(r'<th scope="col" class="col-title"([^>]*)><a class="sort" href="([^"]*)"', html)
    assert 'aria-sort="ascending"' in title_th.group(1)
    assert "sort=-title" in title_th.group(2)
    assert html.count("aria-sort=") == 1
    response, html = _get(client, viewer, "sort=-title")
    assert _titles(response) == ["Charlie concept", "Bravo prioritised", "Alpha review"]
    assert re.search(r'aria-sort="descending"><a class="sort" href="\?sort=title"', html)
    response, _html = _get(client, viewer, "sort=status")  # the lifecycle's order, not the alphabet's
    assert _titles(response) == ["Charlie concept", "Alpha review", "Bravo prioritised"]
    response, _html = _get(client, viewer, "sort=priority")
    assert _titles(response)[:2] == ["Bravo prioritised", "Alpha review"]


def test_the_default_sort_is_marked_on_updated(client, viewer, projects):
    _response, html = _get(client, viewer)
    assert re.search(r'aria-sort="descending"><a class="sort" href="\?sort=updated"', html)


def _csv_rows(response):
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]


def test_exporting_two_ticked_rows_gives_just_those_two(client, viewer, projects):
    client.force_login(viewer)
    ids = [projects["ready"].pk, projects["concept"].pk]
    rows = _csv_rows(client.get("/projects/export.csv", {"selection": "1", "id": ids}))
    assert sorted(int(r[0]) for r in rows) == sorted(ids)
    # The list's form posts exactly that: its boxes are named "id" and the buttons point at the export.
    _response, html = _get(client, viewer)
    assert f'name="id" value="{ids[0]}"' in html and 'formaction="/projects/export.csv"' in html
    response = client.get("/projects/export.xlsx", {"selection": "1", "id": ids})
    assert response.status_code == 200
    # Nothing ticked: nothing exported (not the whole list); the current filter's export stays.
    assert _csv_rows(client.get("/projects/export.csv", {"selection": "1"})) == []
    assert len(_csv_rows(client.get("/projects/export.csv", {"status": ["under_review", "concept"]}))) == 2
    assert len(_csv_rows(client.get("/projects/export.csv"))) == 3


def test_the_api_takes_one_value_or_several(client, viewer, projects):
    client.force_login(viewer)
    one = client.get("/api/v1/projects/", {"status": "under_review"}).json()
    assert [p["title"] for p in one["results"]] == ["Alpha review"]
    two = client.get("/api/v1/projects/", {"status": ["under_review", "concept"]}).json()
    assert sorted(p["title"] for p in two["results"]) == ["Alpha review", "Charlie concept"]
    assert client.get("/api/v1/projects/", {"status": "nonsense"}).status_code == 400


@pytest.mark.parametrize("path", ["/projects/?status=under_review", "/engagements/", "/actions/", "/contacts/",
                                  "/contacts/organizations/"])
def test_every_aria_describedby_points_at_an_element_of_the_page(client, viewer, projects, path):
    client.force_login(viewer)
    html = client.get(path).content.decode()
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    for refs in re.findall(r'aria-describedby="([^"]+)"', html):
        for ref in refs.split():
            assert ref in ids, (path, ref)


def test_actions_list_chips_keep_the_owner_and_status_defaults_off(client, editor):
    """A chip on /actions/ removes its value by sending it empty: left out,
    owner and status would fall back to "mine" and "open"."""
    from projects import services
    from rcf.selectors import framework_today
    from tests.factories import PointOfContactFactory

    mine = PointOfContactFactory(full_name="Ana Park", user=editor)
    other = PointOfContactFactory(full_name="Bo Kim")
    services.action_create(title="Mine open", owner=mine, due_on=framework_today())
    services.action_create(title="Theirs open", owner=other, due_on=framework_today())
    client.force_login(editor)
    html = client.get("/actions/").content.decode()
    links = _chip_links(html)
    assert len(links) == 2  # owner (me), status (open)
    owner_chip = next(link for link in links if "owner=&amp;" in link or link.startswith("owner=&"))
    response = client.get("/actions/?" + owner_chip.replace("&amp;", "&"))
    assert sorted(a.title for a in response.context["actions"]) == ["Mine open", "Theirs open"]
    # The table stacks into labelled cards on a phone.
    assert 'class="data-table action-table stack-cells"' in html and 'data-label="Due"' in html


def test_engagements_take_several_kinds(client, viewer, editor):
    import datetime

    from projects.services import engagement_create

    project = ProjectFactory()
    for kind in ("b2b", "meeting", "working_group"):
        engagement_create(by=editor, projects=[project], date=datetime.date(2026, 3, 2), kind=kind,
                          summary=f"A {kind}.")
    client.force_login(viewer)
    response = client.get("/engagements/?kind=b2b&kind=meeting")
    assert sorted(e.kind for e in response.context["engagements"]) == ["b2b", "meeting"]
    html = response.content.decode()
    assert len(_chip_links(html)) == 2
    response = client.get("/engagements/?sort=date")
    assert 'aria-sort="ascending"' in response.content.decode()

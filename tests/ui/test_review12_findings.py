"""Findings of the issue-12 review: odd ids and filter values are answered
with a clear message, never a 500 and never "everything"; the header search's
"See all N" leads to the same N on the list."""

import csv
import io

import pytest

from tests.factories import ActionItemFactory, EngagementFactory, PointOfContactFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def _csv_rows(response):
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]


@pytest.mark.parametrize("odd", ["%C2%B2", "%E2%91%A0", "99999999999999999999", "abc"])
def test_an_odd_id_in_the_selection_export_exports_nothing(client, editor, odd):
    ProjectFactory(title="Kept out")
    client.force_login(editor)
    assert _csv_rows(client.get(f"/projects/export.csv?selection=1&id={odd}")) == []
    assert client.get(f"/projects/export.xlsx?id={odd}").status_code == 200


@pytest.mark.parametrize("page", ["/actions/new/", "/engagements/new/"])
@pytest.mark.parametrize("odd", ["%C2%B2", "99999999999999999999"])
def test_an_odd_project_id_on_a_new_form_is_ignored(client, editor, page, odd):
    client.force_login(editor)
    assert client.get(f"{page}?project={odd}").status_code == 200


def test_one_unknown_filter_value_lists_nothing_and_says_which(client, viewer):
    ProjectFactory(title="Ready one", status="ready", ready_on="2026-01-05", priority=1)
    ProjectFactory(title="Concept one", status="concept")
    client.force_login(viewer)
    response = client.get("/projects/?status=ready&status=junk")
    html = response.content.decode()
    assert response.status_code == 200
    assert list(response.context["projects"]) == []
    assert 'data-testid="filter-errors"' in html and "junk" in html
    # An export with a mistyped sort is not the whole database.
    assert _csv_rows(client.get("/projects/export.csv?status=ready&sort=junk")) == []
    sorted_wrong = client.get("/projects/?sort=junk").content.decode()
    assert 'id="id_sort_error"' in sorted_wrong  # what aria-describedby points to exists


def test_an_unknown_engagement_kind_lists_nothing(client, viewer):
    EngagementFactory(kind="meeting")
    client.force_login(viewer)
    response = client.get("/engagements/?kind=b2b&kind=junk")
    assert response.status_code == 200 and list(response.context["engagements"]) == []
    assert 'data-testid="filter-errors"' in response.content.decode()


@pytest.mark.parametrize("url", ["/projects/?lead_poc=99999999999999999999", "/projects/?lead_poc=%C2%B2",
                                 "/projects/export.csv?lead_poc=99999999999999999999",
                                 "/actions/?owner=99999999999999999999", "/actions/?project=99999999999999999999",
                                 "/engagements/?participant=99999999999999999999"])
def test_an_id_out_of_range_is_an_unknown_choice_not_a_500(client, viewer, url):
    client.force_login(viewer)
    assert client.get(url).status_code == 200


def test_see_all_in_the_list_lists_what_the_search_counted(client, viewer):
    for i in range(10):
        ProjectFactory(title=f"Zzbulk project {i}", summary="Bulk sample.")
    ProjectFactory(title="Zzbulk lonely", summary="Nothing to do with four.")
    client.force_login(viewer)
    search = client.get("/search/?q=zzbulk+project").content.decode()
    assert "See all 10 in the list" in search
    listed = client.get("/projects/?q=zzbulk+project")
    assert listed.context["count"] == 10
    assert client.get('/projects/?q="zzbulk project"').context["count"] == 10


def test_a_done_action_found_by_search_links_where_it_is_listed(client, viewer):
    project = ProjectFactory(title="Host project")
    owner = PointOfContactFactory()
    done = ActionItemFactory(title="Zzdone paperwork", owner=owner, project=project, status="done",
                             done_on="2026-01-05")
    client.force_login(viewer)
    html = client.get("/search/?q=zzdone").content.decode()
    assert f"/projects/{project.pk}/#action-{done.pk}" not in html
    assert f"/actions/?project={project.pk}&amp;status=done&amp;owner=" in html

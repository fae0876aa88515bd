"""``GET /api/v1/`` (issue 13): the API's root lists what it offers, over real
HTTP, for a signed-in client; anyone else is told to sign in, not "not found"."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_root_lists_every_resource_and_each_link_answers(http, viewer):
    client = http(viewer)
    response = client.get("/api/v1/")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == "v1"
    resources = body["resources"]
    for name in ("projects", "contacts", "organizations", "engagements", "actions", "scm-cycles", "readiness",
                 "flags", "documents", "milestones", "resource-lines", "progress-updates", "concurrences"):
        assert resources[name].endswith(f"/api/v1/{name}/"), name
    assert client.get(resources["projects"]).status_code == 200
    assert client.get(body["schema"]).status_code == 200
    assert body["docs"].endswith("/api/v1/docs/")


def test_the_root_asks_an_unknown_client_to_sign_in(http):
    response = http().get("/api/v1/")
    assert response.status_code in (401, 403)
    assert "detail" in response.json()
    # Anything else under /api/v1/ is still a JSON 404.
    assert http().get("/api/v1/nothing-here/").status_code == 404


def test_pages_and_the_sync_feed_say_where_next_in_a_link_header(http, viewer):
    from tests.factories import OrganizationFactory

    for i in range(3):
        OrganizationFactory(name=f"Linked organisation {i}")
    client = http(viewer)
    first = client.get("/api/v1/organizations/", params={"page_size": 2})
    assert first.status_code == 200
    assert first.links["next"]["url"] == first.json()["next"]
    second = client.get(first.links["next"]["url"])
    assert second.links["prev"]["url"] == second.json()["previous"]
    assert "next" not in second.links  # the last page
    feed = client.get("/api/v1/organizations/", params={"since": "", "page_size": 2})
    assert feed.links["next"]["url"] == feed.json()["next"]

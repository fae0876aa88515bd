"""Conditional GET over real HTTP (issue 13): every answer to a GET carries an
ETag; ``If-None-Match`` with the current one answers 304 with no body. A
record's tag is its version and a hash of its representation, and changes when
the record does; ``If-Match`` keeps its meaning (the version part)."""

import re

import pytest

from contacts import services as contact_services
from contacts.models import Organization
from tests.factories import OrganizationFactory

from .conftest import settle

pytestmark = pytest.mark.django_db(transaction=True)

PLAIN = {"Accept-Encoding": "identity"}


def test_a_record_answers_304_to_its_current_etag_and_200_once_it_changed(http, administrator):
    organization = OrganizationFactory(name="Hanwha Ocean", side="industry")
    client = http(administrator)
    url = f"/api/v1/organizations/{organization.pk}/"
    first = client.get(url, headers=PLAIN)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    assert re.fullmatch(rf'"{first.json()["version"]}\.[0-9a-f]{{16}}"', tag)
    assert first.headers["Cache-Control"] == "private, no-cache"
    # Who asks, in which language and coding, changes the answer: shared caches keep them apart.
    vary = {part.strip().lower() for part in first.headers["Vary"].split(",")}
    assert {"authorization", "cookie", "accept-language", "accept-encoding"} <= vary

    again = client.get(url, headers={**PLAIN, "If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == tag
    # A weak form of the same tag matches too (If-None-Match compares weakly).
    assert client.get(url, headers={**PLAIN, "If-None-Match": f"W/{tag}"}).status_code == 304
    assert client.get(url, headers={**PLAIN, "If-None-Match": '"999", ' + tag}).status_code == 304

    changed = client.patch(url, json={"notes": "Shipbuilding."}, headers={"If-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != tag
    after = client.get(url, headers={**PLAIN, "If-None-Match": tag})
    assert after.status_code == 200
    assert after.json()["notes"] == "Shipbuilding."
    assert after.headers["ETag"] == changed.headers["ETag"]


def test_records_carry_no_last_modified_so_if_modified_since_never_hides_a_change(http, administrator):
    """updated_at does not cover a record's representation (related data) and has whole seconds in
    HTTP: the ETag alone validates, and If-Modified-Since never answers 304 for a record."""
    organization = OrganizationFactory(name="Austal", side="industry")
    client = http(administrator)
    url = f"/api/v1/organizations/{organization.pk}/"
    first = client.get(url)
    assert "Last-Modified" not in first.headers
    assert client.get(url, headers={"If-Modified-Since": "Fri, 31 Dec 9999 23:59:59 GMT"}).status_code == 200


def test_a_list_page_carries_an_etag_and_answers_304_until_a_record_changes(http, viewer, administrator):
    for n in range(3):
        OrganizationFactory(name=f"Yard {n}", side="industry")
    client = http(viewer)
    first = client.get("/api/v1/organizations/", headers=PLAIN)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    assert client.get("/api/v1/organizations/", headers={**PLAIN, "If-None-Match": tag}).status_code == 304
    # Another page of the same list is another answer.
    other = client.get("/api/v1/organizations/", params={"page_size": 1}, headers={**PLAIN, "If-None-Match": tag})
    assert other.status_code == 200
    # A change of any record on the page changes the tag.
    organization = Organization.objects.order_by("pk").first()
    contact_services.organization_update(organization=organization, by=administrator, notes="Changed.",
                                         expected_version=organization.version)
    assert client.get("/api/v1/organizations/", headers={**PLAIN, "If-None-Match": tag}).status_code == 200


def test_the_sync_feed_answers_304_while_nothing_changed_since_the_cursor(http, viewer, administrator):
    OrganizationFactory(name="Hyundai Heavy", side="industry")
    client = http(viewer)
    settle()
    full = client.get("/api/v1/organizations/", params={"since": ""})
    cursor = full.json()["cursor"]
    tip = client.get("/api/v1/organizations/", params={"since": cursor})
    assert tip.status_code == 200 and tip.json()["results"] == []
    tag = tip.headers["ETag"]
    # The cursor is signed with the time it was issued, yet the same page keeps its tag.
    assert client.get("/api/v1/organizations/", params={"since": cursor},
                      headers={"If-None-Match": tag}).status_code == 304
    OrganizationFactory(name="Samsung Heavy", side="industry")
    settle()
    newer = client.get("/api/v1/organizations/", params={"since": cursor}, headers={"If-None-Match": tag})
    assert newer.status_code == 200
    assert [item["name"] for item in newer.json()["results"]] == ["Samsung Heavy"]


def test_reference_data_and_readiness_carry_etags_too(http, viewer):
    client = http(viewer)
    for url in ("/api/v1/priority-areas/", "/api/v1/countries/PH/", "/api/v1/readiness/"):
        first = client.get(url)
        assert first.status_code == 200, url
        assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304, url


def test_a_write_whose_if_none_match_matches_is_refused_with_412(http, administrator):
    """RFC 9110 13.1.2: If-None-Match on a write is a precondition, never a 304."""
    organization = OrganizationFactory(name="Daewoo", side="industry")
    client = http(administrator)
    url = f"/api/v1/organizations/{organization.pk}/"
    tag = client.get(url).headers["ETag"]
    for if_none_match in (tag, "*", f"W/{tag}"):
        refused = client.patch(url, json={"notes": "x"}, headers={"If-Match": tag, "If-None-Match": if_none_match})
        assert refused.status_code == 412, if_none_match
        assert "If-None-Match" in refused.json()["detail"]
    assert client.delete(url, headers={"If-Match": tag, "If-None-Match": "*"}).status_code == 412
    assert client.post("/api/v1/organizations/", json={"name": "New yard", "side": "industry"},
                       headers={"If-None-Match": "*"}).status_code == 412
    assert Organization.objects.get(pk=organization.pk).version == organization.version
    assert not Organization.objects.filter(name="New yard").exists()
    # A tag of another version does not match: the change is made.
    changed = client.patch(url, json={"notes": "x"}, headers={"If-Match": tag, "If-None-Match": '"999"'})
    assert changed.status_code == 200
    # A stale If-Match is still 412, and a weak one never matches.
    assert client.patch(url, json={"notes": "y"}, headers={"If-Match": tag}).status_code == 412
    current = changed.headers["ETag"]
    assert client.patch(url, json={"notes": "y"}, headers={"If-Match": f"W/{current}"}).status_code == 412

"""What a cache does with the API's answers (issue 13, review): browsers must
revalidate (``Cache-Control``), a record's ETag covers everything its JSON
shows (related data too), the sync feed's 304 never strands a client with a
cursor that expires, the browsable API's HTML has a tag of its own, and
``Accept-Encoding`` qualities are read as RFC 9110 says."""

import datetime
import gzip
import json
import re

import pytest
import time_machine
from django.utils import timezone
from django.utils.http import http_date

from rcf.api_http import accepts_gzip
from rcf.models import PriorityArea
from tests.factories import OrganizationFactory, ProjectFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"


def test_every_answer_to_a_get_tells_browsers_to_revalidate(api_client, viewer):
    organization = OrganizationFactory(name="Hanwha Ocean", side="industry")
    client = api_client(viewer)
    record = client.get(f"{API}/organizations/{organization.pk}/")
    listing = client.get(f"{API}/organizations/")
    missing = client.get(f"{API}/organizations/999999/")
    for response in (record, listing, missing):
        assert response["Cache-Control"] == "private, no-cache", response.status_code
    not_modified = client.get(f"{API}/organizations/{organization.pk}/", HTTP_IF_NONE_MATCH=record["ETag"])
    assert not_modified.status_code == 304
    assert not_modified["Cache-Control"] == "private, no-cache"


def test_a_record_tag_changes_when_related_data_in_its_json_does(api_client, editor):
    project = ProjectFactory(title="Harbour radar")
    client = api_client(editor)
    url = f"{API}/projects/{project.pk}/"
    first = client.get(url)
    tag = first["ETag"]
    assert re.fullmatch(r'"1\.[0-9a-f]{16}"', tag)
    assert "Last-Modified" not in first
    area = PriorityArea.objects.get(code=first.json()["priority_area"])
    area.code = f"{area.code}-renamed"
    area.save()
    # The project's version did not move, its JSON did: no 304 with the old code.
    again = client.get(url, HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 200
    assert again.json()["priority_area"] == area.code and again.json()["version"] == 1
    assert again["ETag"] != tag and again["ETag"].startswith('"1.')
    # If-Match compares the version part: the full tag read before the rename still names version 1,
    # and so do the bare version and a -gzip form; a weak tag never does.
    changed = client.patch(url, {"summary": "One"}, format="json", HTTP_IF_MATCH=tag)
    assert changed.status_code == 200 and changed["ETag"].startswith('"2.')
    assert client.patch(url, {"summary": "Two"}, format="json", HTTP_IF_MATCH='"2"').status_code == 200
    current = client.get(url)["ETag"]
    assert client.patch(url, {"summary": "No"}, format="json", HTTP_IF_MATCH=f"W/{current}").status_code == 412
    gzip_form = f'{current[:-1]}-gzip"'
    assert client.patch(url, {"summary": "Three"}, format="json", HTTP_IF_MATCH=gzip_form).status_code == 200


def test_two_writes_in_one_second_never_answer_304_for_the_newer(api_client, editor):
    organization = OrganizationFactory(name="Austal", side="industry")
    client = api_client(editor)
    url = f"{API}/organizations/{organization.pk}/"
    with time_machine.travel(timezone.now().replace(microsecond=100), tick=False):
        first = client.get(url)
        changed = client.patch(url, {"notes": "Second write"}, format="json", HTTP_IF_MATCH=first["ETag"])
        assert changed.status_code == 200
        response = client.get(url, HTTP_IF_MODIFIED_SINCE=http_date())
        assert response.status_code == 200 and response.json()["notes"] == "Second write"
        assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_the_feed_renews_the_cursor_before_it_expires_even_for_a_client_that_hears_304(
        api_client, viewer, settings):
    settings.RCF_SYNC_TOMBSTONE_RETENTION_DAYS = 1
    OrganizationFactory(name="Yard", side="industry")
    client = api_client(viewer)
    start = datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        cursor = client.get(f"{API}/organizations/", {"since": ""}).json()["cursor"]
        tip = client.get(f"{API}/organizations/", {"since": cursor})
        tag, cursor = tip["ETag"], tip.json()["cursor"]
    with time_machine.travel(start + datetime.timedelta(hours=2), tick=False):
        assert client.get(f"{API}/organizations/", {"since": cursor}, HTTP_IF_NONE_MATCH=tag).status_code == 304
    with time_machine.travel(start + datetime.timedelta(hours=20), tick=False):
        renewed = client.get(f"{API}/organizations/", {"since": cursor}, HTTP_IF_NONE_MATCH=tag)
        assert renewed.status_code == 200 and renewed.json()["results"] == []
        cursor = renewed.json()["cursor"]
    with time_machine.travel(start + datetime.timedelta(hours=26), tick=False):
        assert client.get(f"{API}/organizations/", {"since": cursor}).status_code == 200


def test_the_browsable_page_and_the_json_have_different_tags(api_client, viewer):
    organization = OrganizationFactory(name="Hyundai", side="industry")
    client = api_client(viewer)
    url = f"{API}/organizations/{organization.pk}/"
    json_tag = client.get(url)["ETag"]
    page = client.get(url, HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert page["ETag"] != json_tag
    html = client.get(url, HTTP_ACCEPT="text/html", HTTP_IF_NONE_MATCH=json_tag)
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
    assert client.get(url, {"format": "api"}, HTTP_IF_NONE_MATCH=json_tag).status_code == 200


@pytest.mark.parametrize(("header", "accepted"), [
    ("gzip", True), ("GZIP", True), ("gzip;q=0.5", True), ("gzip; Q=1", True),
    ("gzip;Q=0", False), ("gzip;q=0.000", False), ("gzip;q=abc", False), ("gzip;q=", False),
    ("gzip;q=1e999", False), ("gzip;q=2", False), ("br", False), ("", False),
])
def test_accept_encoding_qualities(header, accepted):
    assert accepts_gzip(header) is accepted


def test_a_refused_gzip_is_not_sent(api_client, viewer):
    for n in range(8):
        OrganizationFactory(name=f"Shipyard number {n}", side="industry", notes="Builds hulls. " * 5)
    client = api_client(viewer)
    assert client.get(f"{API}/organizations/", HTTP_ACCEPT_ENCODING="gzip")["Content-Encoding"] == "gzip"
    for header in ("gzip;Q=0", "gzip;q=abc"):
        response = client.get(f"{API}/organizations/", HTTP_ACCEPT_ENCODING=header)
        assert "Content-Encoding" not in response, header
        assert json.loads(response.content)["count"] == 8


def test_browser_clients_can_read_a_downloads_file_name(api_client, viewer, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://dashboard.example.org"]
    response = api_client(viewer).get(f"{API}/organizations/", HTTP_ORIGIN="https://dashboard.example.org")
    exposed = {name.strip().lower() for name in response["Access-Control-Expose-Headers"].split(",")}
    assert {"content-disposition", "etag", "link"} <= exposed


def test_gzip_answers_decompress_to_the_json(api_client, viewer):
    OrganizationFactory(name="Samsung", side="industry", notes="x " * 300)
    response = api_client(viewer).get(f"{API}/organizations/", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.content))["count"] == 1

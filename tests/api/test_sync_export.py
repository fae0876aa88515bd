"""The sync feed's streamed NDJSON export (GET …/?since=&format=ndjson, issue 14): a
first sync in one answer, one record a line, then the cursor to continue the
incremental feed from without a gap or a duplicate."""

import json

import pytest
from django.db import connection
from django.http import StreamingHttpResponse

from projects import services as project_services
from projects.models import CooperativeProject
from projects.serializers import ProjectSerializer
from rcf.api import SyncFeed
from rcf.serializers import BulkRepresentation
from rcf.sync import sync_state
from tests.factories import UserFactory

from .conftest import settle
from .test_sync_feed import feed

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/projects/"


def lines(body: bytes) -> list[dict]:
    assert body.endswith(b"\n")
    return [json.loads(line) for line in body.decode().split("\n")[:-1]]


def export(client, since="", **headers):
    settle()
    response = client.get(URL, {"since": since, **({} if headers else {"format": "ndjson"})}, **headers)
    assert response.status_code == 200, response.content[:300]
    assert isinstance(response, StreamingHttpResponse) and response.streaming
    assert response["Content-Type"] == "application/x-ndjson"
    *records, last = lines(b"".join(response.streaming_content))
    assert list(last) == ["cursor"]
    return records, last["cursor"]


def test_the_export_is_the_feed_in_one_stream_then_incremental_sync_goes_on(api_client, viewer, lead, make_project):
    projects = [make_project(title=f"P{n}", external_id=f"x{n}") for n in range(5)]
    project_services.project_update(project=projects[0], by=lead, title="P0 renamed")
    project_services.project_soft_delete(project=projects[3], by=lead)
    client = api_client(viewer)

    records, cursor = export(client)
    paged, _paged_cursor, pages = feed(client, page_size=2)
    assert pages == 3
    assert records == paged  # the same records and tombstones, in the same (change) order
    assert [r["id"] for r in records] == [projects[n].pk for n in (1, 2, 4, 0, 3)]
    assert records[-1] == {"id": projects[3].pk, "external_id": "x3", "deleted": True,
                           "deleted_at": records[-1]["deleted_at"]}
    assert records[-2]["title"] == "P0 renamed"

    # Nothing changed: the export's cursor gives an empty feed; then exactly the new changes, once each.
    assert feed(client, cursor)[0] == []
    project_services.project_update(project=projects[1], by=lead, title="P1 renamed")
    newcomer = make_project(title="New", external_id="x5")
    changes, _cursor, _pages = feed(client, cursor)
    assert [(c["id"], c["title"]) for c in changes] == [(projects[1].pk, "P1 renamed"), (newcomer.pk, "New")]
    # An export from a cursor streams the changes after it, as the feed does.
    assert export(client, cursor)[0] == changes


def test_accept_header_asks_for_the_export_too(api_client, viewer, make_project):
    make_project(title="Only")
    records, _cursor = export(api_client(viewer), HTTP_ACCEPT="application/x-ndjson")
    assert [r["title"] for r in records] == ["Only"]


def test_the_export_reads_in_bounded_batches_in_order(settings, viewer, make_project):
    """Memory is bounded by the batch: the stream yields one chunk per batch, in change order."""
    projects = [make_project(title=f"P{n}") for n in range(5)]
    settings.RCF_SYNC_EXPORT_BATCH = 2
    settle()
    stream = SyncFeed(CooperativeProject, BulkRepresentation(ProjectSerializer))._lines(
        (0, 0), sync_state(connection).epoch)
    chunks = list(stream)
    assert [len(lines(chunk)) for chunk in chunks] == [2, 2, 1, 1]  # three batches, then the cursor
    assert [r["id"] for chunk in chunks[:-1] for r in lines(chunk)] == [p.pk for p in projects]


def test_the_export_is_checked_like_the_feed(api_client, viewer, client):
    # Without since=: a 400 in JSON, naming the parameter.
    response = api_client(viewer).get(URL, {"format": "ndjson"})
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "since=" in response.json()["format"][0]
    # A filter, a bad cursor: the feed's own 400s, in JSON.
    response = api_client(viewer).get(URL, {"since": "", "format": "ndjson", "status": "ready"})
    assert response.status_code == 400 and "status" in response.json()
    response = api_client(viewer).get(URL, {"since": "forged", "format": "ndjson"})
    assert response.status_code == 400 and "since" in response.json()
    # Who may not list projects may not export them.
    assert client.get(URL, {"since": "", "format": "ndjson"}).status_code in (401, 403)
    nobody = api_client(UserFactory(username="no-role"))
    response = nobody.get(URL, {"since": "", "format": "ndjson"})
    assert response.status_code == 403 and response["Content-Type"] == "application/json"


def test_the_export_over_real_http_streams_lines(http, viewer, make_project):
    projects = [make_project(title=f"Live {n}") for n in range(3)]
    settle()
    with http(viewer, read_only=True).get(f"{URL}?since=&format=ndjson", stream=True) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/x-ndjson"
        assert "Content-Length" not in response.headers  # streamed, not buffered
        received = [json.loads(line) for line in response.iter_lines() if line]
    assert [r["id"] for r in received[:-1]] == [p.pk for p in projects]
    assert list(received[-1]) == ["cursor"]


def test_the_schema_documents_the_export_on_every_feed():
    from .contract import spec

    paths = spec()["paths"]
    feeds = [path for path, item in paths.items()
             if any(p["name"] == "since" for p in item.get("get", {}).get("parameters", []))]
    assert "/api/v1/projects/" in feeds and len(feeds) > 5
    for path in feeds:
        operation = paths[path]["get"]
        assert "application/x-ndjson" in operation["responses"]["200"]["content"], path
        (fmt,) = [p for p in operation["parameters"] if p["name"] == "format"]
        assert "ndjson" in fmt["schema"]["enum"], path
    # Only the feeds: a record's own answer is JSON alone.
    assert "application/x-ndjson" not in paths["/api/v1/projects/{id}/"]["get"]["responses"]["200"]["content"]


def test_an_export_past_its_deadline_ends_with_a_cursor_to_continue_from(api_client, settings, viewer, make_project):
    """rsec 2: the stream holds a snapshot and a web thread; after RCF_SYNC_EXPORT_MAX_SECONDS (checked between
    batches) it ends with a last line naming the error and the cursor of the last record sent."""
    projects = [make_project(title=f"P{n}") for n in range(5)]
    settings.RCF_SYNC_EXPORT_BATCH = 2
    settings.RCF_SYNC_EXPORT_MAX_SECONDS = 0  # past the deadline after the first batch
    settle()
    client = api_client(viewer)
    response = client.get(URL, {"since": "", "format": "ndjson"})
    *records, last = lines(b"".join(response.streaming_content))
    assert [r["id"] for r in records] == [p.pk for p in projects[:2]]
    assert set(last) == {"detail", "cursor"} and "longer than the 0 s allowed" in last["detail"]
    # The cursor continues exactly after the last record sent: the rest, once each.
    settings.RCF_SYNC_EXPORT_MAX_SECONDS = 600
    rest, _cursor = export(client, last["cursor"])
    assert [r["id"] for r in rest] == [p.pk for p in projects[2:]]


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="idle_in_transaction_session_timeout is PostgreSQL's; SQLite holds no snapshot")
def test_a_client_that_stops_reading_loses_its_snapshot_and_gets_the_cursor_to_continue(settings, viewer,
                                                                                        make_project):
    """rsec 2: a web connection idle in the export's transaction (the client not reading) is ended by the
    server after RCF_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS; the stream ends with the cursor of the last record sent."""
    import time

    from rcf import db_timeout

    projects = [make_project(title=f"P{n}") for n in range(5)]
    settings.RCF_SYNC_EXPORT_BATCH = 2
    settings.RCF_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = 300
    settle()
    db_timeout.install()  # this process as a web server (rcf/wsgi.py), on a connection opened afresh
    connection.close()
    try:
        feed_of = SyncFeed(CooperativeProject, BulkRepresentation(ProjectSerializer))
        stream = feed_of._lines((0, 0), sync_state(connection).epoch)
        first = lines(next(stream))
        time.sleep(1.5)  # the client reads nothing: the server ends the idle session
        *rest, last = [line for chunk in stream for line in lines(chunk)]
    finally:
        db_timeout.uninstall()
        connection.close()
    assert [r["id"] for r in first] == [p.pk for p in projects[:2]] and rest == []
    assert "The database ended this export" in last["detail"]
    after = feed_of.decode(last["cursor"], sync_state(connection).epoch)
    assert after[1] == projects[1].pk  # the last record sent

"""The ``documents`` resource of the sync API (issue 11): metadata with a
download link, multipart upload through real HTTP, PATCH of title and
marking with If-Match, soft delete with a tombstone, the download action."""

import hashlib
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import services
from projects.models import Document
from tests import document_samples as samples
from tests.factories import EngagementFactory, ProjectFactory

from .conftest import API, settle

pytestmark = pytest.mark.django_db(transaction=True)

FIELDS = ["id", "external_id", "project", "engagement", "title", "marking", "original_name", "content_type",
          "size", "sha256", "download_url", "uploaded_by", "version", "created_at", "updated_at"]


def upload(session, name, content, **fields):
    data = {"title": "Minutes", "marking": "CUI", **fields}
    return session.post(f"{API}/documents/", data=data, files={"file": (name, content, "application/pdf")})


def test_upload_then_download_through_real_http(http, editor, viewer):
    project = ProjectFactory()
    content = samples.xlsx()  # once: a zip built twice may differ in its timestamps
    response = upload(http(editor), "budget.xlsx", content, project=project.pk, external_id="mnd-doc-1")
    assert response.status_code == 201, response.text
    record = response.json()
    assert list(record) == FIELDS
    assert record["project"] == project.pk and record["engagement"] is None
    assert record["content_type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert record["original_name"] == "budget.xlsx" and record["uploaded_by"] == editor.username
    assert record["size"] == len(content) and record["sha256"] == hashlib.sha256(content).hexdigest()
    assert response.headers["ETag"].startswith('"1.')
    assert response.headers["Location"].endswith(f"/api/v1/documents/{record['id']}/")
    assert record["download_url"].startswith("http") and record["download_url"].endswith(
        f"/api/v1/documents/{record['id']}/download/")

    reader = http(viewer, read_only=True)
    download = reader.get(record["download_url"], headers={"Accept": "application/pdf"})
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["Content-Type"] == record["content_type"]
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''budget.xlsx" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "private, no-store"
    assert reader.get(f"{API}/documents/{record['id']}/").json() == record


def test_a_file_above_the_json_body_limit_uploads_up_to_the_document_limit(http, editor, settings):
    settings.RCF_API_MAX_BODY_BYTES = 64 * 1024
    settings.RCF_MAX_UPLOAD_MB = 1
    engagement = EngagementFactory()
    session = http(editor)
    big = "Plain text line, 한국어 too.\n".encode() * 30000  # ~0.9 MB, far above the JSON limit
    assert len(big) < 1024 * 1024
    response = upload(session, "notes.txt", big, engagement=engagement.pk)
    assert response.status_code == 201, response.text
    # Over the document limit, within the framing allowance: 400 naming the limit and the size.
    response = upload(session, "notes.txt", b"a" * (1024 * 1024 + 10 * 1024), engagement=engagement.pk)
    assert response.status_code == 400
    # Rounded up: a file just over the limit never reads as the limit itself.
    assert "1.1 MB; a document can be at most 1 MB" in response.json()["file"][0]
    # A request larger than any document: 413 before anything is read.
    response = upload(session, "notes.txt", b"a" * (2 * 1024 * 1024), engagement=engagement.pk)
    assert response.status_code == 413
    assert "a document can be at most 1 MB" in response.json()["detail"]
    # JSON bodies keep their own limit.
    response = session.patch(f"{API}/documents/1/", json={"title": "x" * 70000}, headers={"If-Match": '"1"'})
    assert response.status_code == 413
    assert Document.objects.count() == 1


def test_a_program_renamed_pdf_is_refused(http, editor):
    response = upload(http(editor), "report.pdf", samples.EXE, project=ProjectFactory().pk)
    assert response.status_code == 400
    assert "Windows Executable" in response.json()["file"][0]
    assert not Document.all_objects.exists()


def test_bad_input_names_each_field(api_client, editor):
    client = api_client(editor)
    project = ProjectFactory()
    response = client.post(f"{API}/documents/", {"title": "T", "marking": "SECRET", "project": project.pk,
                                                 "engagement": EngagementFactory().pk,
                                                 "file": samples.upload("notes.txt", samples.TXT)},
                           format="multipart")
    assert response.status_code == 400
    assert set(response.json()) == {"marking", "project"}
    response = client.post(f"{API}/documents/", {"title": "T", "marking": "CUI", "project": project.pk},
                           format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    response = client.post(f"{API}/documents/", {"title": "T", "marking": "CUI", "project": project.pk,
                                                 "size": 3, "file": samples.upload("notes.txt", samples.TXT)},
                           format="multipart")
    assert response.json() == {"size": ["This field is read-only."]}


def test_anonymous_callers_get_401_and_viewers_cannot_upload(http, editor, viewer):
    document = services.document_upload(by=editor, file=samples.upload("notes.txt", samples.TXT), title="T",
                                        marking="CUI", project=ProjectFactory())
    anonymous = http()
    assert anonymous.get(f"{API}/documents/").status_code == 401
    assert anonymous.get(f"{API}/documents/{document.pk}/download/").status_code == 401
    response = upload(http(viewer), "notes.txt", samples.TXT, project=document.project_id)
    assert response.status_code == 403


def test_patch_title_and_marking_with_if_match_and_delete_leaves_a_tombstone(api_client, editor, viewer):
    document = services.document_upload(by=editor, file=samples.upload("photo.png", samples.PNG), title="Photo",
                                        marking="UNCLASSIFIED", project=ProjectFactory(), external_id="d-1")
    client = api_client(editor)
    url = f"{API}/documents/{document.pk}/"
    assert client.patch(url, {"marking": "CUI"}).status_code == 428
    response = client.patch(url, {"marking": "CUI", "title": "Site photo"}, HTTP_IF_MATCH='"1"')
    assert response.status_code == 200
    assert (response.json()["marking"], response.json()["title"], response["ETag"][:3]) == ("CUI", "Site photo", '"2.')
    stale = client.patch(url, {"title": "Old"}, HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412 and stale.json()["current"]["title"] == "Site photo"
    refused = client.patch(url, {"project": ProjectFactory().pk}, HTTP_IF_MATCH='"2"')
    assert refused.status_code == 400 and "Fixed at upload" in refused.json()["project"][0]
    assert client.put(url, {"title": "x", "marking": "CUI"}, HTTP_IF_MATCH='"2"').status_code == 405

    settle()
    feed = api_client(viewer).get(f"{API}/documents/", {"since": ""}).json()
    cursor = feed["cursor"]
    assert client.delete(url, HTTP_IF_MATCH='"2"').status_code == 204
    assert api_client(viewer).get(f"{url}download/").status_code == 404
    settle()
    changes = api_client(viewer).get(f"{API}/documents/", {"since": cursor}).json()["results"]
    assert changes == [{"id": document.pk, "external_id": "d-1", "deleted": True,
                        "deleted_at": changes[0]["deleted_at"]}]


def test_duplicate_external_id_is_a_409_naming_the_record(api_client, editor):
    client = api_client(editor)
    project = ProjectFactory()

    def create():
        return client.post(f"{API}/documents/", {"title": "T", "marking": "CUI", "project": project.pk,
                                                 "external_id": "dup-1",
                                                 "file": samples.upload("notes.txt", samples.TXT)},
                           format="multipart")

    first = create()
    assert first.status_code == 201
    again = create()
    assert again.status_code == 409 and again.json()["id"] == first.json()["id"]
    assert Document.objects.count() == 1


def test_filters_by_project_and_marking(api_client, editor, viewer):
    project, other = ProjectFactory(), ProjectFactory()
    for parent, marking in ((project, "CUI"), (project, "UNCLASSIFIED"), (other, "CUI")):
        services.document_upload(by=editor, file=samples.upload("n.txt", samples.TXT), title="T", marking=marking,
                                 project=parent)
    client = api_client(viewer)
    results = client.get(f"{API}/documents/", {"project": project.pk, "marking": "CUI"}).json()["results"]
    assert [(r["project"], r["marking"]) for r in results] == [(project.pk, "CUI")]


def _add_documents(count, project, user):
    start = Document.all_objects.count()
    Document.objects.bulk_create(
        Document(project=project, title=f"Doc {start + n}", file=f"documents/{start + n:032x}",
                 original_name="n.txt", content_type="text/plain", size=3, sha256="0" * 64, marking="CUI",
                 uploaded_by=user)
        for n in range(count)
    )


@pytest.mark.parametrize("params", [{"page_size": 1000}, {"since": "", "page_size": 1000}], ids=["list", "feed"])
def test_a_page_costs_the_same_queries_for_10_and_1000_documents(api_client, editor, viewer, params):
    project = ProjectFactory()
    client = api_client(viewer)

    def queries():
        settle()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{API}/documents/", params)
        assert response.status_code == 200
        return len(captured), response.json()["results"]

    _add_documents(10, project, editor)
    few, results = queries()
    assert len(results) == 10 and results[0]["uploaded_by"] == editor.username
    _add_documents(990, project, editor)
    many, results = queries()
    assert len(results) == 1000
    assert many == few


def test_the_disposition_carries_a_non_ascii_name(api_client, editor, viewer):
    document = services.document_upload(by=editor, file=samples.upload("회의록 \"final\".txt", samples.TXT),
                                        title="T", marking="CUI", project=ProjectFactory())
    response = api_client(viewer).get(f"{API}/documents/{document.pk}/download/")
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition == ("attachment; filename=\"___ _final_.txt\"; filename*=UTF-8''"
                           + quote("회의록 \"final\".txt", safe=""))

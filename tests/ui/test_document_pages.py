"""Documents on the project and engagement pages (issue 11): upload with
clear errors, the list with each document's marking, the permission-checked
download, edit and delete."""

import re
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import Client
from django.test.utils import CaptureQueriesContext

from projects import services
from projects.models import Document
from tests import document_samples as samples
from tests.factories import DocumentFactory, EngagementFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def post_upload(client, target, pk, name, content, **fields):
    data = {"document-title": "Meeting minutes", "document-marking": "CUI",
            "document-file": samples.upload(name, content), **fields}
    return client.post(f"/projects/documents/upload/{target}/{pk}/", data)


def make_document(by, *, name="minutes of 회의.txt", content=samples.TXT, **parents):
    parents = parents or {"project": ProjectFactory()}
    return services.document_upload(by=by, file=samples.upload(name, content), title="Minutes", marking="CUI",
                                     **parents)


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.labels, self.inputs = Counter(), set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids[attrs["id"]] += 1
        if tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.inputs.append(attrs.get("id"))


def check_markup(html: str):
    page = _Page()
    page.feed(html)
    assert [i for i, n in page.ids.items() if n > 1] == []
    assert [i for i in page.inputs if i not in page.labels] == []


def test_an_editor_uploads_from_the_project_page_and_sees_it_listed_with_its_marking(client, editor):
    project = ProjectFactory()
    client.force_login(editor)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    form = re.search(rf'<form[^>]*action="/projects/documents/upload/project/{project.pk}/"[^>]*>', page)
    assert form and 'enctype="multipart/form-data"' in form.group()
    assert '<select name="document-marking"' in page and '<option value="CUI">CUI</option>' in page
    check_markup(page)

    response = post_upload(client, "project", project.pk, "brief.pdf", samples.PDF)
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.pk}/#documents"
    document = Document.objects.get()
    assert (document.project, document.marking, document.content_type) == (project, "CUI", "application/pdf")
    page = client.get(response["Location"]).content.decode()
    assert "uploaded (CUI)" in page
    row = re.search(rf'<li data-testid="document"><a href="/projects/documents/{document.pk}/download/" download>'
                    r'Meeting minutes</a> <span class="badge marking"[^>]*>CUI</span>', page)
    assert row, "the document's marking is shown next to it"


def test_a_program_renamed_pdf_is_refused_on_the_page_beside_the_file_field(client, editor, settings):
    project = ProjectFactory()
    client.force_login(editor)
    response = post_upload(client, "project", project.pk, "report.pdf", samples.EXE, **{"document-marking": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'id="id_document-file_error"><p>“report.pdf” is a Windows Executable \(.exe\)',
                     page)
    assert 'id="id_document-marking_error"' in page  # every problem at once
    check_markup(page)
    assert not Document.all_objects.exists()


def test_an_upload_over_the_limit_is_refused_clearly(client, editor, settings):
    settings.RCF_MAX_UPLOAD_MB = 1
    project = ProjectFactory()
    client.force_login(editor)
    # Over the document limit but within the request's framing allowance: the form says so.
    response = post_upload(client, "project", project.pk, "big.txt", b"a" * (1024 * 1024 + 100 * 1024))
    assert response.status_code == 400
    assert "a document can be at most 1 MB" in response.content.decode()
    # A request larger than any document may be: 413 before anything is read.
    response = post_upload(client, "project", project.pk, "huge.txt", b"a" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert "a document can be at most 1 MB" in response.content.decode()
    assert not Document.all_objects.exists()


def test_an_upload_larger_than_the_form_limit_is_allowed_to_the_document_pages_only(client, editor, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100 * 1024
    project = ProjectFactory()
    client.force_login(editor)
    content = b"b" * (300 * 1024)
    response = post_upload(client, "project", project.pk, "notes.txt", content)
    assert response.status_code == 302
    assert Document.objects.get().size == len(content)


def test_a_viewer_downloads_a_projects_document_as_an_attachment(client, editor, viewer):
    document = make_document(editor)
    client.force_login(viewer)
    response = client.get(f"/projects/documents/{document.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == samples.TXT
    assert response["Content-Type"] == "text/plain"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('minutes of 회의.txt', safe='')}" in disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Length"] == str(len(samples.TXT))


def test_an_anonymous_visitor_cannot_download(editor):
    document = make_document(editor)
    response = Client().get(f"/projects/documents/{document.pk}/download/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_media_folder_is_never_served(client, editor, viewer, settings):
    document = make_document(editor)
    client.force_login(viewer)
    for url in (f"{settings.MEDIA_URL}{document.file.name}", f"/media/{document.file.name}",
                f"/var/media/{document.file.name}"):
        assert client.get(url).status_code == 404, url


def test_a_deleted_document_or_one_of_a_deleted_project_is_not_found(client, editor, viewer, administrator):
    deleted = make_document(editor)
    services.document_delete(document=deleted, by=editor)
    orphan = make_document(editor)
    services.project_soft_delete(project=orphan.project, by=None)
    for user in (viewer, administrator):
        client.force_login(user)
        for document in (deleted, orphan):
            assert client.get(f"/projects/documents/{document.pk}/download/").status_code == 404


def test_a_viewer_sees_documents_but_cannot_upload_edit_or_delete(client, editor, viewer):
    document = make_document(editor)
    client.force_login(viewer)
    page = client.get(f"/projects/{document.project_id}/").content.decode()
    assert "Minutes" in page and "Upload a document" not in page and "Edit or delete" not in page
    assert post_upload(client, "project", document.project_id, "notes.txt", samples.TXT).status_code == 403
    assert client.get(f"/projects/documents/{document.pk}/").status_code == 403
    assert client.post(f"/projects/documents/{document.pk}/delete/").status_code == 403
    assert Document.objects.count() == 1


def test_edit_the_marking_then_a_stale_edit_is_refused_then_delete(client, editor):
    document = make_document(editor)
    client.force_login(editor)
    page = client.get(f"/projects/documents/{document.pk}/").content.decode()
    check_markup(page)
    response = client.post(f"/projects/documents/{document.pk}/", {
        "document-title": "Agreed minutes", "document-marking": "UNCLASSIFIED", "document-version": 1})
    assert response.status_code == 302
    document.refresh_from_db()
    assert (document.title, document.marking, document.version) == ("Agreed minutes", "UNCLASSIFIED", 2)
    stale = client.post(f"/projects/documents/{document.pk}/", {
        "document-title": "Old view", "document-marking": "CUI", "document-version": 1})
    assert stale.status_code == 400 and "Someone else changed this document" in stale.content.decode()
    response = client.post(f"/projects/documents/{document.pk}/delete/", {"version": 2})
    assert response["Location"] == f"/projects/{document.project_id}/#documents"
    assert not Document.objects.exists() and Document.all_objects.exists()


def test_an_engagement_has_its_own_documents_section(rf, editor, viewer):
    engagement = EngagementFactory()
    document = make_document(editor, engagement=engagement)
    other = make_document(editor)
    request = rf.get("/")
    for user, can_upload in ((editor, True), (viewer, False)):
        html = Template("{% load project_documents %}{% engagement_documents engagement %}").render(
            Context({"engagement": engagement, "user": user, "request": request, "csrf_token": "t"}))
        assert f"/projects/documents/{document.pk}/download/" in html
        assert f"/projects/documents/{other.pk}/download/" not in html
        assert (f'action="/projects/documents/upload/engagement/{engagement.pk}/"' in html) is can_upload


def test_upload_to_an_engagement_from_its_form(client, editor):
    engagement = EngagementFactory()
    client.force_login(editor)
    assert client.get(f"/projects/documents/upload/engagement/{engagement.pk}/").status_code == 200
    response = post_upload(client, "engagement", engagement.pk, "photo.png", samples.PNG)
    assert response.status_code == 302
    assert Document.objects.get().engagement == engagement


def test_the_project_page_query_count_does_not_grow_with_its_documents(client, viewer):
    project = ProjectFactory()
    client.force_login(viewer)
    DocumentFactory(project=project)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/projects/{project.pk}/").status_code == 200
        return len(queries)

    one = count()
    DocumentFactory.create_batch(20, project=project)
    assert count() == one


def test_the_section_and_the_refusal_read_in_korean(client, editor):
    project = ProjectFactory()
    client.force_login(editor)
    client.post("/i18n/setlang/", {"language": "ko", "next": "/"})
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert '<h2 id="h-documents">문서</h2>' in page and "문서 올리기" in page
    response = post_upload(client, "project", project.pk, "report.pdf", samples.EXE)
    assert "올릴 수 없는 형식입니다" in response.content.decode()


def test_the_engagement_page_lists_its_documents_and_an_upload_returns_there(client, editor):
    engagement = EngagementFactory()
    document = make_document(editor, engagement=engagement)
    client.force_login(editor)
    page = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert f"/projects/documents/{document.pk}/download/" in page
    assert f'action="/projects/documents/upload/engagement/{engagement.pk}/"' in page
    check_markup(page)
    response = post_upload(client, "engagement", engagement.pk, "notes.txt", samples.TXT)
    assert response["Location"] == f"/engagements/{engagement.pk}/#documents"

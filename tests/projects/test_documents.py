"""Documents (issue 11) through the services: the type is checked on the
content, the size against RCF_MAX_UPLOAD_MB, the marking against
RCF_MARKINGS; the file is stored under a random name through Django's
storage, and nothing is half-saved."""

import hashlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from projects import services
from projects.document_files import clean_file_name
from projects.models import Document
from rcf.services import VersionConflict
from tests import document_samples as samples
from tests.factories import EngagementFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def stored_files(settings) -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def upload(by, name, content, **extra):
    data = {"title": "Meeting minutes", "marking": "UNCLASSIFIED", "project": extra.pop("project", None)
            or ProjectFactory(), **extra}
    return services.document_upload(by=by, file=samples.upload(name, content), **data)


@pytest.mark.parametrize("name", list(samples.allowed()))
def test_every_allowed_type_is_accepted_and_recorded_from_its_content(name, editor, settings):
    content, content_type = samples.allowed()[name]
    document = upload(editor, name, content)
    document.refresh_from_db()
    assert document.content_type == content_type
    assert document.size == len(content)
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.original_name == name
    assert document.uploaded_by == editor
    # Stored under a random name, in the test's media folder, with the same bytes.
    assert document.file.name.startswith("documents/") and name not in document.file.name
    [path] = stored_files(settings)
    assert path.read_bytes() == content
    assert str(path).startswith(str(settings.MEDIA_ROOT))


def test_a_program_renamed_pdf_is_refused_naming_what_it_is(editor, settings):
    with pytest.raises(ValidationError) as refused:
        upload(editor, "report.pdf", samples.EXE)
    message = " ".join(refused.value.message_dict["file"])
    assert "report.pdf" in message and "Windows Executable" in message and ".exe" in message
    assert not Document.all_objects.exists()
    assert stored_files(settings) == []


@pytest.mark.parametrize(("name", "content", "what"), [
    ("brief.pdf", samples.TXT, "plain text"),  # text renamed .pdf
    ("notes.txt", samples.PDF, "PDF"),  # a PDF renamed .txt
    ("photo.png", samples.PDF, "PDF"),
    ("budget.xlsx", samples.docx(), "Word"),  # one Office type renamed as another
    ("minutes", samples.TXT, "plain text"),  # no extension at all
])
def test_the_name_must_agree_with_the_content(editor, name, content, what):
    with pytest.raises(ValidationError) as refused:
        upload(editor, name, content)
    message = " ".join(refused.value.message_dict["file"])
    assert what in message and "rename" in message


@pytest.mark.parametrize(("name", "content", "what"), [
    ("archive.docx", samples.plain_zip(), "ZIP archive"),
    ("macro.docx", samples._office("word", "document.xml", {"word/vbaProject.bin": "x"}), "macros"),
    ("binary.txt", b"abc\x00def", "unknown type"),
    ("latin1.txt", "Caf\xe9".encode("latin-1"), "unknown type"),
    ("old.doc", bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 100, "Microsoft Office Document"),
])
def test_other_types_are_refused(editor, name, content, what):
    with pytest.raises(ValidationError) as refused:
        upload(editor, name, content)
    message = " ".join(refused.value.message_dict["file"])
    assert what in message and "cannot be uploaded" in message


def test_a_file_over_the_limit_is_refused_naming_the_limit_and_the_size(editor, settings):
    settings.RCF_MAX_UPLOAD_MB = 1
    content = b"a" * (1024 * 1024 + 200 * 1024)
    with pytest.raises(ValidationError) as refused:
        upload(editor, "big.txt", content)
    message = " ".join(refused.value.message_dict["file"])
    assert "1.2 MB" in message and "at most 1 MB" in message
    assert stored_files(settings) == []
    # At the limit exactly it is fine.
    assert upload(editor, "ok.txt", b"a" * (1024 * 1024)).size == 1024 * 1024


def test_an_empty_file_is_refused(editor):
    with pytest.raises(ValidationError) as refused:
        upload(editor, "empty.txt", b"")
    assert "empty" in " ".join(refused.value.message_dict["file"])


def test_the_marking_must_be_one_of_the_deployments(editor, settings):
    with pytest.raises(ValidationError) as refused:
        upload(editor, "notes.txt", samples.TXT, marking="SECRET")
    assert "UNCLASSIFIED, CUI" in " ".join(refused.value.message_dict["marking"])
    settings.RCF_MARKINGS = ["UNCLASSIFIED", "CUI", "FOUO"]
    assert upload(editor, "notes.txt", samples.TXT, marking="FOUO").marking == "FOUO"


def test_attached_to_exactly_one_live_project_or_engagement(editor, settings):
    project, engagement = ProjectFactory(), EngagementFactory()
    file = samples.upload("notes.txt", samples.TXT)
    for parents, field in (({}, "project"), ({"project": project, "engagement": engagement}, "project")):
        with pytest.raises(ValidationError) as refused:
            services.document_upload(by=editor, file=file, title="T", marking="CUI", **parents)
        assert field in refused.value.message_dict
    on_engagement = services.document_upload(by=editor, file=file, title="T", marking="CUI", engagement=engagement)
    assert on_engagement.engagement == engagement and on_engagement.project is None
    services.engagement_delete(engagement=engagement, by=editor)
    with pytest.raises(ValidationError) as refused:
        services.document_upload(by=editor, file=file, title="T", marking="CUI", engagement=engagement)
    assert "deleted" in " ".join(refused.value.message_dict["engagement"])
    assert len(stored_files(settings)) == 1


def test_every_problem_is_named_at_once_and_nothing_is_stored(editor, settings):
    with pytest.raises(ValidationError) as refused:
        services.document_upload(by=editor, file=samples.upload("x.pdf", samples.EXE), title="",
                                 marking="nope")
    assert {"file", "marking", "title", "project"} <= set(refused.value.message_dict)
    assert stored_files(settings) == []


def test_a_database_failure_after_the_file_was_written_removes_the_file(editor, settings, monkeypatch):
    def refuse(*args, **kwargs):
        raise IntegrityError("simulated")

    monkeypatch.setattr(Document, "save", refuse)
    with pytest.raises(IntegrityError):
        upload(editor, "notes.txt", samples.TXT)
    assert stored_files(settings) == []
    monkeypatch.undo()
    assert not Document.all_objects.exists()


def test_the_original_name_is_cleaned():
    assert clean_file_name("C:\\Users\\me\\..\\report.pdf") == "report.pdf"
    assert clean_file_name("../../etc/passwd") == "passwd"
    # A right-to-left override would show "…fdp.exe" as "…exe.pdf"; control characters go too.
    assert clean_file_name("invoice\u202efdp.exe") == "invoicefdp.exe"
    assert clean_file_name("min\x07utes\x00.txt") == "minutes.txt"
    assert clean_file_name("  .hidden   name.txt ") == "hidden name.txt"
    long = clean_file_name("a" * 400 + ".docx")
    assert len(long) == 255 and long.endswith(".docx")


def test_a_duplicate_external_id_is_refused_even_against_a_deleted_document(editor):
    first = upload(editor, "notes.txt", samples.TXT, external_id="doc-1")
    services.document_delete(document=first, by=editor)
    with pytest.raises(ValidationError) as refused:
        upload(editor, "notes.txt", samples.TXT, external_id="doc-1")
    assert "external_id" in refused.value.message_dict


def test_title_and_marking_change_with_the_version_check(editor):
    document = upload(editor, "notes.txt", samples.TXT)
    services.document_update(document=document, by=editor, expected_version=1, title="Agreed minutes",
                             marking="CUI")
    document.refresh_from_db()
    assert (document.title, document.marking, document.version) == ("Agreed minutes", "CUI", 2)
    with pytest.raises(VersionConflict):
        services.document_update(document=Document.objects.get(pk=document.pk), by=editor, expected_version=1,
                                 title="Lost update")
    with pytest.raises(ValidationError) as refused:
        services.document_update(document=document, by=editor, marking="SECRET")
    assert "marking" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.document_update(document=document, by=editor, file=None)
    assert "file" in refused.value.message_dict


def test_soft_delete_and_restore(editor, administrator):
    document = upload(editor, "notes.txt", samples.TXT)
    services.document_delete(document=document, by=editor)
    assert not Document.objects.filter(pk=document.pk).exists()
    assert Path(document.file.path).exists()  # kept for a restore
    services.document_restore(document=Document.all_objects.get(pk=document.pk), by=administrator)
    assert Document.objects.filter(pk=document.pk).exists()


def test_the_admin_lists_documents_and_changes_only_title_and_marking(client, editor, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.org", "pw-for-tests-1")
    document = upload(editor, "notes.txt", samples.TXT)
    project_id = document.project_id
    client.force_login(root)
    assert client.get("/admin/projects/document/", {"q": "notes"}).status_code == 200
    assert client.get("/admin/projects/document/add/").status_code == 403
    page = client.get(f"/admin/projects/document/{document.pk}/change/").content.decode()
    assert f"/projects/documents/{document.pk}/download/" in page and 'type="file"' not in page
    response = client.post(f"/admin/projects/document/{document.pk}/change/",
                           {"title": "Agreed minutes", "marking": "CUI", "project": ProjectFactory().pk})
    assert response.status_code == 302
    document.refresh_from_db()
    assert (document.title, document.marking, document.version) == ("Agreed minutes", "CUI", 2)
    assert document.project_id == project_id and document.updated_by == root  # the project is not editable
    response = client.post(f"/admin/projects/document/{document.pk}/change/", {"title": "x", "marking": "SECRET"})
    assert response.status_code == 200 and "SECRET is not one of the available choices" in response.content.decode()


UPLOAD_SCRIPT = """
from projects import services
from tests import document_samples as samples
from tests.factories import ProjectFactory
document = services.document_upload(by=None, file=samples.upload("brief.pdf", samples.PDF), title="Brief",
                                    marking="CUI", project=ProjectFactory())
print(document.file.name)
"""

READ_SCRIPT = """
from projects.models import Document
print(Document.objects.get().file.read().decode("latin-1"))
"""


def test_backup_and_restore_carry_the_uploaded_files(tmp_path, monkeypatch):
    from tests.test_restore import manage

    def site(name):
        return f"sqlite:///{tmp_path / name}"

    live_media, new_media = tmp_path / "media-live", tmp_path / "media-new"
    monkeypatch.setenv("RCF_MEDIA_ROOT", str(live_media))
    manage(site("live.sqlite3"), "migrate", "--no-input")
    stored = manage(site("live.sqlite3"), "shell", input=UPLOAD_SCRIPT).stdout.strip().splitlines()[-1]
    assert (live_media / stored).read_bytes() == samples.PDF
    backup = tmp_path / "backup.sqlite3"
    out = manage(site("live.sqlite3"), "backup_database", str(backup), "--media").stdout
    assert "Archived 1 uploaded file(s)" in out
    archive = tmp_path / "backup.sqlite3.media.tar.gz"
    assert archive.is_file()

    monkeypatch.setenv("RCF_MEDIA_ROOT", str(new_media))
    new_media.mkdir()
    (new_media / "stray.txt").write_text("x")
    refused = manage(site("new.sqlite3"), "restore_database", str(backup), "--no-input", "--media", str(archive),
                     check=False)
    assert refused.returncode != 0 and "is not empty" in refused.stderr
    assert not (tmp_path / "new.sqlite3").exists() or (tmp_path / "new.sqlite3").stat().st_size == 0
    (new_media / "stray.txt").unlink()
    out = manage(site("new.sqlite3"), "restore_database", str(backup), "--no-input", "--media", str(archive)).stdout
    assert "Restored 1 uploaded file(s)" in out
    assert (new_media / stored).read_bytes() == samples.PDF
    assert "%PDF-1.4" in manage(site("new.sqlite3"), "shell", input=READ_SCRIPT).stdout

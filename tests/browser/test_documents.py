"""Documents in a real browser (issue 11): upload a PDF from the project
page through the file chooser, see it listed with its marking, the page
marked top and bottom; at phone and desktop widths."""

import pytest
from playwright.sync_api import expect

from projects.models import Document
from tests import document_samples as samples
from tests.factories import ProjectFactory

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1366])
def test_upload_a_document_from_the_project_page(live_server, page, people, shot, settings, tmp_path, width):
    settings.RCF_HANDLING_MARKING = "CUI"
    page.set_viewport_size({"width": width, "height": 900})
    project = ProjectFactory(title="Coast guard training")
    pdf = tmp_path / "Working group brief.pdf"
    pdf.write_bytes(samples.PDF)
    exe = tmp_path / "totally-a-report.pdf"
    exe.write_bytes(samples.EXE)
    base = live_server.url
    sign_in(page, base, "editor-browser")
    page.goto(f"{base}/projects/{project.pk}/")
    expect(page.get_by_test_id("marking-top")).to_have_text("CUI")
    expect(page.get_by_test_id("marking-bottom")).to_have_text("CUI")

    page.get_by_text("Upload a document").click()
    form = page.locator("form[enctype='multipart/form-data']")
    form.get_by_label("Title").fill("Disguised program")
    form.get_by_label("Handling marking").select_option("CUI")
    form.get_by_label("File").set_input_files(str(exe))
    form.get_by_role("button", name="Upload").click()
    # Refused on the upload page, beside the file field, with what was typed kept.
    expect(page.locator("#id_document-file_error")).to_contain_text("Windows Executable")
    expect(form.get_by_label("Title")).to_have_value("Disguised program")
    shot(page, f"document-refused-{width}")

    form.get_by_label("Title").fill("Working group brief")
    form.get_by_label("File").set_input_files(str(pdf))
    form.get_by_role("button", name="Upload").click()
    expect(page.locator(".messages")).to_contain_text("uploaded (CUI)")
    row = page.get_by_test_id("document")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("document-marking")).to_have_text("CUI")
    shot(page, f"document-listed-{width}")

    with page.expect_download() as download:
        row.get_by_role("link", name="Working group brief", exact=True).click()
    assert download.value.suggested_filename == "Working group brief.pdf"
    assert open(download.value.path(), "rb").read() == samples.PDF
    assert Document.objects.get().marking == "CUI"

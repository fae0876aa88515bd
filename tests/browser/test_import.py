"""The spreadsheet import in a real browser (issue 13): upload a file from the
project list's Import button, read the dry run row by row (a change old → new,
an error with its row and column), fix the file, import; at phone and desktop
widths."""

import csv
import io

import pytest
from playwright.sync_api import expect

from projects.models import CooperativeProject
from tests.factories import ProjectFactory

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _csv(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


@pytest.mark.parametrize("width", [390, 1366])
def test_check_then_import_a_spreadsheet(live_server, page, people, shot, settings, tmp_path, width):
    settings.RCF_IMPORT_DIR = str(tmp_path / "imports")
    page.set_viewport_size({"width": width, "height": 900})
    ProjectFactory(title="Coast guard training", external_id="EXT-1")
    header = ["External id", "English title", "Korean title", "Primary priority area", "Lead side",
              "Partner countries"]
    bad = tmp_path / "projects.csv"
    bad.write_bytes(_csv([header, ["EXT-1", "Coast guard training", "해안경비 훈련", "", "", ""],
                          ["NEW-1", "Port security workshop", "", "maritime-security", "U.S.", "PH, Atlantis"]]))
    good = tmp_path / "projects-fixed.csv"
    good.write_bytes(_csv([header, ["EXT-1", "Coast guard training", "해안경비 훈련", "", "", ""],
                           ["NEW-1", "Port security workshop", "", "maritime-security", "U.S.", "PH, VN"]]))
    base = live_server.url
    sign_in(page, base, "editor-browser")
    page.goto(f"{base}/projects/")
    page.get_by_test_id("import-link").click()
    page.get_by_label("Spreadsheet (.xlsx or .csv)").set_input_files(str(bad))
    page.get_by_test_id("import-check").click()
    expect(page.get_by_test_id("import-errors")).to_contain_text("Row 3, Partner countries: Unknown partner "
                                                                 "country: Atlantis")
    expect(page.get_by_test_id("import-apply")).to_have_count(0)
    shot(page, f"import-errors-{width}")

    page.get_by_label("Spreadsheet (.xlsx or .csv)").set_input_files(str(good))
    page.get_by_test_id("import-check").click()
    report = page.get_by_test_id("import-report")
    expect(report).to_contain_text("Korean title: — → 해안경비 훈련")
    expect(report).to_contain_text("Partner countries: — → PH, VN")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"import-dry-run-{width}")
    assert not CooperativeProject.objects.filter(external_id="NEW-1").exists()
    page.get_by_test_id("import-apply").click()
    expect(page.locator(".messages")).to_contain_text("2 rows imported: 1 created, 1 updated")
    assert CooperativeProject.objects.get(external_id="EXT-1").title_ko == "해안경비 훈련"
    assert CooperativeProject.objects.filter(external_id="NEW-1").count() == 1


@pytest.mark.parametrize("width", [390])
def test_a_background_run_shows_progress_then_the_plan_without_a_reload(live_server, page, people, shot, settings,
                                                                        tmp_path, width):
    """A file for the worker: the page says it waits, polls every 2 s, and swaps in the dry run when it is done."""
    from rcf.models import ImportRun
    from rcf.tasks import import_run

    settings.RCF_IMPORT_DIR = str(tmp_path / "imports")
    settings.RCF_IMPORT_INLINE_ROWS = 0
    page.set_viewport_size({"width": width, "height": 900})
    header = ["External id", "English title", "Primary priority area", "Lead side"]
    path = tmp_path / "many.csv"
    path.write_bytes(_csv([header] + [[f"B-{n}", f"Batch project {n}", "maritime-security", "us"]
                                      for n in range(5)]))
    base = live_server.url
    sign_in(page, base, "editor-browser")
    page.goto(f"{base}/projects/import/")
    page.get_by_label("Spreadsheet (.xlsx or .csv)").set_input_files(str(path))
    page.get_by_test_id("import-check").click()
    expect(page.get_by_test_id("import-progress")).to_contain_text("waiting for the background worker")
    assert page.locator("progress").count() == 1
    shot(page, f"import-waiting-{width}")
    url = page.url
    import_run(ImportRun.objects.get().pk)  # what the worker does
    expect(page.get_by_test_id("import-apply")).to_have_text("Import 5 rows", timeout=10_000)
    assert page.url == url  # swapped in by the poll, not reloaded
    expect(page.get_by_test_id("import-progress")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_test_id("import-apply").click()
    expect(page.get_by_test_id("import-progress")).to_contain_text("waiting for the background worker")
    import_run(ImportRun.objects.get().pk)
    expect(page.get_by_test_id("import-summary")).to_contain_text("5 rows imported: 5 created, 0 updated",
                                                                  timeout=10_000)
    shot(page, f"import-imported-{width}")
    assert CooperativeProject.objects.filter(external_id__startswith="B-").count() == 5

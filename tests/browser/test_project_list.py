"""The project list's filter bar in a real browser (issue 12): several
statuses at once, chips that remove one value, the back button, sortable
headers, and exporting just the rows ticked."""

import csv
import re

import pytest
from playwright.sync_api import expect

from tests.factories import ProjectFactory, area

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filter_by_two_statuses_remove_a_chip_go_back_sort_and_export_the_selection(live_server, page, people,
                                                                                       shot):
    review = ProjectFactory(title="Alpha review", status="under_review")
    prioritized = ProjectFactory(title="Bravo prioritised", status="prioritized", priority=1,
                                 priority_area=area("technical-cooperation"))
    ProjectFactory(title="Charlie concept", status="concept")
    base = live_server.url
    sign_in(page, base, "lead-browser")
    page.goto(f"{base}/projects/")
    expect(page.get_by_test_id("result-count")).to_have_text("3 projects")
    panel = page.locator("#filter-panel")

    # Two statuses from the Status menu: both kinds of rows, a chip for each, the address says so.
    page.get_by_test_id("filter-status").click()
    panel.get_by_label("Under review", exact=True).check()
    expect(page).to_have_url(re.compile(r"\?status=under_review$"))
    panel.get_by_label("Prioritised", exact=True).check()
    expect(page).to_have_url(re.compile(r"\?status=under_review&status=prioritized$"))
    expect(page.get_by_test_id("result-count")).to_have_text("2 projects")
    expect(page.locator("#results")).to_contain_text("Alpha review")
    expect(page.locator("#results")).to_contain_text("Bravo prioritised")
    chips = page.locator("#results a.chip")
    expect(chips).to_have_count(2)
    expect(page.get_by_test_id("filter-status")).to_have_text(re.compile(r"Status\s*2"))  # the menu counts them
    page.keyboard.press("Escape")  # closes the menu
    expect(page.locator("details.filter-status")).not_to_have_attribute("open", "")
    shot(page, "project-list-two-statuses")

    # Removing the "Under review" chip drops only that value; the box in the menu is unticked too.
    page.get_by_test_id("chip-status-under_review").click()
    expect(page).to_have_url(re.compile(r"\?status=prioritized$"))
    expect(page.get_by_test_id("result-count")).to_have_text("1 project")
    expect(chips).to_have_count(1)
    expect(panel.get_by_label("Under review", exact=True)).not_to_be_checked()
    # The back button brings the two statuses back (rows, chips and the form).
    page.go_back()
    expect(page).to_have_url(re.compile(r"\?status=under_review&status=prioritized$"))
    expect(page.get_by_test_id("result-count")).to_have_text("2 projects")
    expect(page.locator("#results a.chip")).to_have_count(2)
    expect(page.locator("#filter-panel").get_by_label("Under review", exact=True)).to_be_checked()
    page.get_by_test_id("clear-filters").click()
    expect(page.get_by_test_id("result-count")).to_have_text("3 projects")
    expect(page).to_have_url(re.compile(r"/projects/$"))

    # A column header sorts, says so (aria-sort), and sorts the other way when clicked again.
    title_header = page.locator("#results thead th.col-title")
    title_header.get_by_role("link").click()
    expect(title_header).to_have_attribute("aria-sort", "ascending")
    expect(page).to_have_url(re.compile(r"sort=title"))
    rows = page.locator("#results tbody tr td.col-title")
    expect(rows).to_have_text(["Alpha review", "Bravo prioritised", "Charlie concept"])
    expect(page.locator("#results thead th.col-title a")).to_be_focused()
    page.locator("#results thead th.col-title a").click()
    expect(title_header).to_have_attribute("aria-sort", "descending")
    expect(rows).to_have_text(["Charlie concept", "Bravo prioritised", "Alpha review"])

    # Tick two rows and export just them.
    page.get_by_label("Select “Alpha review”").check()
    page.get_by_label("Select “Bravo prioritised”").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("2 selected")
    shot(page, "project-list-selection")
    with page.expect_download() as download:
        page.get_by_test_id("export-selected-csv").click()
    path = download.value.path()
    with open(path, encoding="utf-8-sig") as f:
        exported = list(csv.reader(f))[1:]
    assert sorted(int(row[0]) for row in exported) == sorted([review.pk, prioritized.pk])
    # "Select all on this page" ticks every row.
    page.get_by_label("Select all on this page").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("3 selected")


def test_on_a_phone_the_filters_open_from_one_button_that_counts_them(live_server, browser, people, shot):
    ProjectFactory(title="Alpha review", status="under_review")
    ProjectFactory(title="Charlie concept", status="concept")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    base = live_server.url
    sign_in(page, base, "lead-browser")
    page.goto(f"{base}/projects/?status=under_review")
    toggle = page.locator("[data-filter-toggle]")
    expect(toggle).to_contain_text("1")
    expect(page.locator("#filter-panel")).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#filter-panel")).to_be_visible()
    page.select_option("#id_sort", "title")
    expect(page).to_have_url(re.compile(r"sort=title"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "project-list-phone-filters")
    context.close()

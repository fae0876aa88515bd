"""Staff work in a real browser: sign in, create, move to ready, find, switch
language, and a lost update refused."""

import re

import pytest
from playwright.sync_api import expect

from projects.models import CooperativeProject

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_poc_logs_a_project_moves_it_to_ready_and_finds_it(live_server, page, people, shot):
    base = live_server.url
    sign_in(page, base, "lead-browser")

    # First attempt: no title, no lead side -> per-field messages, nothing saved.
    page.goto(f"{base}/projects/new/")
    page.fill("#id_summary", "Maritime domain awareness training for the coast guard.")
    page.click("main form button[type=submit]")
    expect(page.locator("#form-errors")).to_contain_text("Nothing was saved")
    expect(page.locator("#id_title_error")).to_contain_text("This field is required.")
    assert CooperativeProject.objects.count() == 0
    shot(page, "project-create-errors")

    # Second attempt: complete.
    page.fill("#id_title", "Coast guard MDA training")
    page.select_option("#id_priority_area", label="Maritime Security")
    page.get_by_role("combobox", name="Partner countries").fill("Philippines")  # a searchable picker (issue 12)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.select_option("#id_lead_side", value="joint")
    page.select_option("#id_us_lead_poc", label="Jordan Lee (U.S.)")
    page.select_option("#id_rok_lead_poc", label="Kim Min-jun (ROK)")
    page.click("main form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Coast guard MDA training")
    expect(page.get_by_test_id("status")).to_have_text("Concept")

    def step(status, **fields):
        # The next step forward is the stepper's primary action (its form open); the others fold away.
        form = page.locator(f"form:has([data-testid=step-{status}])")
        if not form.is_visible():
            page.get_by_test_id(f"open-step-{status}").click()
        for name, value in fields.items():
            form.locator(f"[name={name}]").fill(value)
        form.get_by_test_id(f"step-{status}").click()

    def rok_concurs():
        # Joint decisions: the ROK lead concurs (in their own browser in tests/browser/test_concurrence.py).
        from projects.services import concurrence_concur, open_proposal

        concurrence_concur(concurrence=open_proposal(project=CooperativeProject.objects.get()),
                           by=people["rok_lead"])
        page.reload()

    step("under_review", note="Worth a look")
    step("prioritized", priority="1", note="Top of the list")
    expect(page.get_by_test_id("awaiting")).to_have_text("Awaiting ROK concurrence")
    rok_concurs()
    expect(page.get_by_test_id("status")).to_have_text("Prioritised")
    step("ready", note="Both sides agree")
    expect(page.locator(".messages")).to_contain_text("Proposed “Ready”: Awaiting ROK concurrence.")
    rok_concurs()
    expect(page.get_by_test_id("status")).to_have_text("Ready")
    shot(page, "project-ready")

    # The filtered list (htmx swaps the results in place and updates the URL).
    page.goto(f"{base}/projects/")
    page.get_by_test_id("filter-status").click()  # the Status menu of the filter bar (issue 12)
    page.locator("#filter-panel").get_by_label("Ready", exact=True).check()
    expect(page).to_have_url(re.compile(r"status=ready"))
    expect(page.get_by_test_id("result-count")).to_have_text("1 project")
    expect(page.locator("#results table")).to_contain_text("Coast guard MDA training")
    shot(page, "project-list-ready")

    # Korean: labels and the priority areas' Korean names; the choice persists.
    page.get_by_role("button", name="한국어").click()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.locator("#results table")).to_contain_text("해양안보")
    expect(page.locator("h1")).to_have_text("협력 프로젝트")
    page.goto(f"{base}/projects/")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    shot(page, "project-list-korean")


def test_two_people_edit_the_same_project_and_the_second_save_is_refused(live_server, browser, people, shot):
    from projects.services import project_create

    project = project_create(by=people["lead"], title="Patrol vessel MRO", priority_area="maritime-security",
                             lead_side="rok", partner_countries=["VN"])
    base = live_server.url
    first, second = browser.new_context(), browser.new_context()
    try:
        page1, page2 = first.new_page(), second.new_page()
        sign_in(page1, base, "lead-browser")
        sign_in(page2, base, "editor-browser")
        page1.goto(f"{base}/projects/{project.pk}/edit/")
        page2.goto(f"{base}/projects/{project.pk}/edit/")

        page1.fill("#id_title", "Patrol vessel MRO in Viet Nam")
        page1.click("main form button[type=submit]")
        expect(page1.locator("h1")).to_have_text("Patrol vessel MRO in Viet Nam")

        page2.fill("#id_title", "Patrol vessel maintenance")
        page2.click("main form button[type=submit]")
        conflict = page2.get_by_test_id("conflict")
        expect(conflict).to_contain_text("Patrol vessel MRO in Viet Nam")
        expect(conflict).to_contain_text("lead-browser")
        expect(page2.locator("#form-errors")).to_contain_text("Someone else changed this project")
        shot(page2, "project-edit-conflict")
        assert CooperativeProject.objects.get(pk=project.pk).title == "Patrol vessel MRO in Viet Nam"
    finally:
        first.close()
        second.close()

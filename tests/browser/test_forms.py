"""The forms in real Chromium (issue 12): the project form in sections with the
fields Ready needs marked, a searchable country picker with chips grouped as
the framework groups countries, a short way from the title to Save with the
keyboard, and after an invalid submit the focus on an error summary whose
links reach each field (the picker's search box for a picker). The project
page's engagement form comes back in place after an invalid submit."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from projects.models import CooperativeProject, Engagement
from rcf.models import PartnerCountry
from tests.factories import OrganizationFactory, ProjectFactory

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _serious(page):
    results = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_the_project_form_has_sections_ready_marks_and_a_country_picker_with_chips(live_server, page, people, shot):
    sign_in(page, live_server.url, "lead-browser")
    page.goto(f"{live_server.url}/projects/new/")
    form = page.get_by_test_id("project-form")
    for section in ("What", "Who", "Where", "When", "Money and references"):
        expect(form.get_by_role("group", name=section, exact=True)).to_be_visible()
    marked = form.locator(".field[data-ready-required]")
    expect(marked).to_have_count(5)
    for name in ("summary", "partner_countries", "us_lead_poc", "rok_lead_poc", "priority"):
        expect(form.locator(f".field[data-ready-required]:has([name={name}])")).to_contain_text("needed for Ready")
    # Real placeholders, no "---------".
    expect(form.locator("#id_priority_area option").first).to_have_text("Choose an area")
    assert "---------" not in page.content()

    # The country picker: a combobox named by its label, the countries in the framework's groups.
    countries = page.get_by_role("combobox", name="Partner countries")
    expect(countries).to_have_attribute("placeholder", "Choose countries")
    countries.click()
    headers = page.locator("#id_partner_countries-ts-dropdown .optgroup-header").all_text_contents()
    assert headers[:3] == ["ASEAN", "Pacific Island countries", "Like-minded partners"], headers
    countries.fill("Phil")
    page.keyboard.press("Enter")
    chip = page.locator(".ts-wrapper .item", has_text="Philippines")
    expect(chip).to_be_visible()
    expect(chip.get_by_role("button", name="Remove Philippines")).to_be_visible()
    countries.fill("Viet")
    page.keyboard.press("Enter")
    # Backspace removes the last chip; the keyboard alone is enough.
    page.keyboard.press("Backspace")
    expect(page.locator(".ts-wrapper .item", has_text="Viet Nam")).to_have_count(0)
    page.keyboard.press("Escape")
    assert _serious(page) == []
    shot(page, "project-form-picker")

    page.locator("#id_title").fill("Coast guard MDA training")
    page.get_by_label("Primary priority area").select_option(label="Maritime Security")
    page.get_by_label("Lead side").select_option("joint")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_have_text("Coast guard MDA training")
    project = CooperativeProject.objects.get(title="Coast guard MDA training")
    assert [c.iso2 for c in project.partner_countries.all()] == ["PH"]


def test_from_the_title_to_save_is_a_short_tab_walk(live_server, page, people):
    sign_in(page, live_server.url, "lead-browser")
    page.goto(f"{live_server.url}/projects/new/")
    expect(page.get_by_role("combobox", name="Partner countries")).to_be_visible()  # the pickers are ready
    page.locator("#id_title").focus()
    presses, stops = 0, []
    while not page.evaluate("document.activeElement.matches('button[type=submit]')") and presses < 60:
        page.keyboard.press("Tab")
        # Let the page finish handling the key (a picker opening its list of a few hundred options) before
        # the next one: a person does not press Tab faster than the page paints, and on a loaded CI
        # machine Playwright can, which made Tom Select take the focus back (seen once in 2 CI runs).
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        presses += 1
        stops.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
    # Each date input is four stops in Chromium (day, month, year, the calendar button).
    assert presses < 30, f"{presses} Tab presses from the title to Save: {stops}"
    # The Save bar stays in view while the long form scrolls.
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#id_title").focus()
    save = page.get_by_role("button", name="Save")
    box = save.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844


def test_an_invalid_submit_focuses_the_summary_and_its_links_reach_the_fields(live_server, page, people):
    sign_in(page, live_server.url, "lead-browser")
    page.goto(f"{live_server.url}/projects/new/")
    page.get_by_role("button", name="Save").click()
    summary = page.locator("#form-errors")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Nothing was saved")
    summary.get_by_role("link", name="Title").click()
    expect(page.locator("#id_title")).to_be_focused()
    assert CooperativeProject.objects.count() == 0


def test_a_picker_field_in_error_is_reached_from_the_summary(live_server, page, people):
    """Industry organisations listed on a meeting that is not business-to-business: refused on that
    picker; the summary's link puts the focus in the picker's search box."""
    project = ProjectFactory(title="Coast guard training")
    OrganizationFactory(name="Hanwha Ocean", side="industry")
    sign_in(page, live_server.url, "editor-browser")
    page.goto(f"{live_server.url}/engagements/new/?project={project.pk}")
    page.get_by_label("Kind").select_option("b2b")
    organisations = page.get_by_role("combobox", name="Industry organisations connected")
    organisations.fill("Hanwha")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.get_by_label("Kind").select_option("meeting")
    page.get_by_label("Date").fill("2026-03-02")
    page.get_by_label("Summary").fill("Shipyard visit.")
    page.get_by_role("button", name="Log engagement").click()
    summary = page.locator("#form-errors")
    expect(summary).to_be_focused()
    summary.locator("a[href='#id_engagement_industry_organizations']").click()
    expect(page.get_by_role("combobox", name="Industry organisations connected")).to_be_focused()
    assert Engagement.objects.count() == 0


@pytest.mark.parametrize("width", [1366, 390])
def test_an_invalid_engagement_on_the_project_page_comes_back_in_place(live_server, page, people, width):
    project = ProjectFactory(title="Coast guard training")
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
    sign_in(page, live_server.url, "editor-browser")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    url = page.url
    section = page.locator("#engagements")
    section.get_by_test_id("log-engagement").click()
    form = section.locator("form")
    form.get_by_label("Location").fill("Manila")
    participants = form.get_by_role("combobox", name="Participants")
    participants.fill("Jordan")
    page.keyboard.press("Enter")
    form.get_by_role("button", name="Log engagement").click()
    summary = section.locator("#form-errors")
    expect(summary).to_be_focused()
    assert page.url == url  # the same page, not the form's POST address
    assert page.evaluate("window.scrollY") > 200  # where the form is, not the top of the page
    expect(form.get_by_label("Location")).to_have_value("Manila")
    expect(section.locator(".ts-wrapper .item", has_text="Jordan Lee")).to_be_visible()  # the picker again
    summary.get_by_role("link").first.click()
    expect(page.locator("#id_engagement_kind")).to_be_focused()
    # Corrected, it is logged and the page shows it.
    page.locator("#id_engagement_kind").select_option("meeting")
    form.get_by_label("Date").fill("2026-03-02")
    form.get_by_label("Summary").fill("Coast guard training talks.")
    form.get_by_role("button", name="Log engagement").click()
    expect(section.get_by_test_id("project-engagements")).to_contain_text("Manila")
    engagement = Engagement.objects.get()
    assert [p.full_name for p in engagement.participants.all()] == ["Jordan Lee"]
    assert PartnerCountry.objects.exists()

"""The header in real Chromium (issue 12): the phone menu opens and closes,
"/" jumps to the search box, and the search box keeps the query."""

import pytest
from playwright.sync_api import expect

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_on_a_phone_the_menu_opens_and_closes_and_slash_goes_to_search(live_server, page, people, shot):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, "lead-browser")
    toggle = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    # Closed at first: the header is short on a phone.
    expect(nav).to_be_hidden()
    assert page.locator(".site-header").bounding_box()["height"] < 140
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Calendar")).to_be_visible()
    expect(nav.get_by_role("link", name="API docs")).to_be_visible()
    shot(page, "chrome-menu-open-390")
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(toggle).to_be_focused()

    page.locator("h1").click()
    page.keyboard.press("/")
    expect(page.locator("#site-search")).to_be_focused()
    page.keyboard.type("Kim")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=Kim")
    expect(page.locator("#site-search")).to_have_value("Kim")


def test_on_a_desktop_the_whole_menu_shows_without_a_button(live_server, page, people):
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server.url, "lead-browser")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Dashboard", "Projects", "Actions", "Engagements", "Points of contact", "SCM cycles", "Calendar",
                 "API docs"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    # Typing "/" in a field types it; it does not jump.
    page.goto(live_server.url + "/projects/new/")
    page.locator("#id_title").click()
    page.keyboard.type("a/b")
    expect(page.locator("#id_title")).to_have_value("a/b")

"""The header search box in real Chromium (issue 12): "/" focuses it from
anywhere, a Korean title fragment and a POC's surname find the project and
the person, grouped by kind, the words marked; a Korean reader sees the
Korean title; at a phone's width nothing is wider than the window."""

import pytest
from playwright.sync_api import expect

from tests.factories import PointOfContactFactory, ProjectFactory

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Pacific Islands maritime surveillance capacity building"
TITLE_KO = "태평양 도서국 해양감시 역량 강화 사업"


def _search_from_the_header(page, text):
    page.locator("main").click(position={"x": 5, "y": 5})  # focus is on the page, not in a field
    page.keyboard.press("/")
    box = page.locator("#site-search")
    expect(box).to_be_focused()
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=*")


@pytest.mark.parametrize("width", [390, 1366])
def test_the_header_box_finds_a_korean_title_fragment_and_a_surname(live_server, page, people, shot, width):
    page.set_viewport_size({"width": width, "height": 844})
    project = ProjectFactory(title=TITLE, title_ko=TITLE_KO, summary="Coastal radar training for partner navies.")
    whitfield = PointOfContactFactory(full_name="Dana Whitfield", full_name_ko="다나 휫필드", side="us",
                                      title="Maritime programme officer")
    base = live_server.url
    sign_in(page, base, "lead-browser")

    # A Korean fragment of the title, typed in the header box: the project, with the fragment marked.
    _search_from_the_header(page, "해양감시")
    group = page.get_by_test_id("search-group-projects")
    expect(group.get_by_role("heading", level=2)).to_contain_text("1")
    result = group.get_by_role("link", name=TITLE)
    expect(result).to_have_attribute("href", f"/projects/{project.pk}/")
    expect(group.locator("mark")).to_have_text(["해양감시"])
    expect(page.locator("#site-search")).to_have_value("해양감시")  # the box keeps the query
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, f"search-korean-fragment-{width}")

    # A surname: the POC, grouped apart from the projects; the link opens their page.
    _search_from_the_header(page, "whitfield")
    expect(page.get_by_test_id("search-summary")).to_contain_text("1 result")
    people_group = page.get_by_test_id("search-group-pocs")
    expect(people_group.get_by_role("heading", level=2)).to_contain_text("Points of contact")
    expect(people_group.locator("mark")).to_have_text(["Whitfield"])
    expect(page.get_by_test_id("search-group-projects")).to_have_count(0)
    people_group.get_by_role("link", name="Dana Whitfield").click()
    page.wait_for_url(f"**/contacts/{whitfield.pk}/")


def test_a_korean_reader_sees_the_korean_title(live_server, page, people, shot):
    page.set_viewport_size({"width": 390, "height": 844})
    ProjectFactory(title=TITLE, title_ko=TITLE_KO)
    base = live_server.url
    sign_in(page, base, "lead-browser")
    page.context.add_cookies([{"name": "django_language", "value": "ko", "url": base}])
    page.goto(f"{base}/")
    _search_from_the_header(page, "surveillance")
    group = page.get_by_test_id("search-group-projects")
    expect(group.locator("a.search-title")).to_have_text(TITLE_KO)
    expect(group.locator(".search-other")).to_contain_text("surveillance")
    expect(page.get_by_role("heading", level=1)).to_have_text("검색")
    shot(page, "search-korean-reader-390")


def test_nothing_found_and_a_long_query_are_said_plainly(live_server, page, people):
    page.set_viewport_size({"width": 390, "height": 844})
    base = live_server.url
    sign_in(page, base, "lead-browser")
    _search_from_the_header(page, '"%zzz_"')
    expect(page.get_by_test_id("search-nothing")).to_contain_text("Nothing found for")
    page.goto(f"{base}/search/?q=" + "x" * 2000)
    expect(page.get_by_test_id("search-truncated")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

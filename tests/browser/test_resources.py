"""In a real browser, on a phone and a laptop: add a resource line in KRW to
a project that has one in USD; the totals show each currency in its own
table; the page never scrolls sideways (wide tables scroll in their frame)."""

from decimal import Decimal

import pytest

from projects import services
from tests.factories import ProjectFactory

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width,height", [(390, 844), (1366, 900)], ids=["phone", "laptop"])
def test_add_a_krw_line_beside_a_usd_one(page, live_server, people, shot, width, height):
    project = ProjectFactory(title="Coast guard training")
    services.resource_line_create(project=project, side="us", kind="planned", amount=Decimal("1250000.50"),
                                  currency="USD", fiscal_year=2026, source="FMF")
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server.url, "editor-browser")
    page.goto(f"{live_server.url}/projects/{project.pk}/#resources")
    card = page.locator("#resources")
    card.get_by_test_id("add-resource-line").click()
    card.get_by_label("Side").select_option("rok")
    card.get_by_label("Source").fill("DAPA")
    card.get_by_label("Fiscal year").fill("2026")
    card.get_by_label("Kind").select_option("committed")
    card.get_by_label("Amount").fill("300000000")
    card.get_by_label("Currency").select_option("KRW")
    card.get_by_role("button", name="Add line").click()
    page.wait_for_url(f"**/projects/{project.pk}/#resources")
    assert "Resource line added" in page.locator(".messages").inner_text()
    usd = card.get_by_test_id("resource-totals-USD").inner_text()
    krw = card.get_by_test_id("resource-totals-KRW").inner_text()
    assert "$1,250,000.50" in usd and "₩" not in usd
    assert "₩300,000,000" in krw and "$" not in krw
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    card.scroll_into_view_if_needed()
    shot(page, f"resources-project-page-{width}")

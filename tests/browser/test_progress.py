"""In a real browser, on a phone and a laptop: post a progress update and
mark a milestone done from the project page; the dashboard panel shows it."""

import datetime
import re

import pytest

from projects import services
from tests.factories import ProjectFactory

from .conftest import ARTIFACTS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page, selector):
    """Nothing in ``selector`` reaches beyond the window (no sideways scrolling for it)."""
    beyond = page.evaluate("""(selector) => [...document.querySelectorAll(selector + ', ' + selector + ' *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""", selector)
    assert beyond == [], f"wider than the {page.evaluate('window.innerWidth')}px window: {beyond}"


@pytest.mark.parametrize("width,height", [(390, 844), (1366, 900)], ids=["phone", "laptop"])
def test_post_an_update_and_mark_a_milestone_done(page, live_server, people, shot, width, height):
    from rcf.selectors import framework_today

    today = framework_today()
    project = ProjectFactory(title="Coast guard training", status="in_implementation",
                             ready_on=today - datetime.timedelta(days=300))
    services.progress_update_create(project=project, date=today - datetime.timedelta(days=120), health="on_track",
                                    narrative="Course designed.", today=today)
    services.milestone_create(project=project, title="Trainers named", due_on=today - datetime.timedelta(days=3),
                              today=today)
    services.milestone_create(project=project, title="First course", due_on=today + datetime.timedelta(days=30),
                              today=today)
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server.url, "editor-browser")
    page.goto(f"{live_server.url}/projects/{project.pk}/#implementation")
    card = page.locator("#implementation")
    assert card.get_by_test_id("stale").is_visible()
    _fits(page, "#implementation")

    card.get_by_test_id("post-progress").click()
    page.get_by_label("Health").select_option("at_risk")
    page.get_by_label("Narrative").fill("Trainers not yet named.")
    card.get_by_role("button", name="Post update").click()
    page.wait_for_url(f"**/projects/{project.pk}/#implementation")
    latest = page.locator("#implementation [data-testid=latest-health]")
    assert "At risk" in latest.inner_text()
    assert page.locator("#implementation [data-testid=stale]").count() == 0

    # The button's name carries the milestone's title (a hidden text for screen readers).
    card.get_by_role("button", name=re.compile(r"^Mark done\W+Trainers named$")).click()
    page.wait_for_url(f"**/projects/{project.pk}/#implementation")
    assert "marked done" in page.locator(".messages").inner_text()
    assert page.locator("#implementation li[data-state=done]").inner_text().startswith("Trainers named")
    _fits(page, "#implementation")
    shot(page, f"progress-project-page-{width}")
    card.screenshot(path=str(ARTIFACTS / f"progress-card-{width}.png"))

    page.goto(f"{live_server.url}/#implementation")
    panel = page.get_by_test_id("implementation-panel")
    assert panel.get_by_test_id("health-count-at_risk").inner_text() == "1"
    _fits(page, "[data-testid=implementation-panel]")
    shot(page, f"progress-dashboard-{width}")
    panel.screenshot(path=str(ARTIFACTS / f"progress-panel-{width}.png"))

"""In a real browser, on a laptop and a phone: an editor logs an engagement
with two follow-up actions from the project page, then marks one done from
/actions/ (issue 11's browser acceptance test)."""

import datetime

import pytest

from projects.models import ActionItem, Engagement
from tests.factories import OrganizationFactory, ProjectFactory

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page, selector):
    """Nothing in ``selector`` reaches beyond the window (no sideways scrolling for it)."""
    beyond = page.evaluate("""(selector) => [...document.querySelectorAll(selector + ', ' + selector + ' *')]
        .filter(e => e.getBoundingClientRect().width > 1 && e.getBoundingClientRect().right > window.innerWidth + 1)
        .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""", selector)
    assert beyond == [], f"wider than the {page.evaluate('window.innerWidth')}px window: {beyond}"


def _no_sideways_scroll(page):
    """The page as a whole never scrolls sideways (a wide table scrolls inside its own frame)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)], ids=["laptop", "phone"])
def test_log_an_engagement_with_two_follow_ups_and_mark_one_done(page, live_server, people, shot, width, height):
    us_poc, rok_poc = people["us_poc"], people["rok_poc"]
    project = ProjectFactory(title="Coast guard training")
    other = ProjectFactory(title="Port security")
    OrganizationFactory(name="Hanwha Ocean", side="industry")
    due = datetime.date.today() + datetime.timedelta(days=14)
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server.url, "editor-browser")

    page.goto(f"{live_server.url}/projects/{project.pk}/#engagements")
    section = page.locator("#engagements")
    form = section.locator("form")
    # The B2B organisations only show for a business-to-business meeting (CSS, no script).
    section.get_by_test_id("log-engagement").click()
    form.get_by_label("Kind").select_option("meeting")
    organisations = form.get_by_role("combobox", name="Industry organisations connected")
    assert not organisations.is_visible()
    form.get_by_label("Kind").select_option("b2b")
    assert organisations.is_visible()
    form.get_by_label("Kind").select_option("working_group")
    form.get_by_label("Date").fill("2026-03-02")
    form.get_by_label("Location").fill("Manila")
    form.get_by_label("Summary").fill("Joint working group on coast guard training.")
    # Searchable pickers with chips (issue 12): type, Enter.
    form.get_by_role("combobox", name="Also about other projects").fill("Port sec")
    page.keyboard.press("Enter")
    form.get_by_role("combobox", name="Participants").fill("Jordan")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    first_other = form.get_by_role("group", name="Other participant 1")
    first_other.get_by_label("Name").fill("Maria Santos")
    first_other.get_by_label("Organisation").fill("Philippine Coast Guard")
    for row, title, owner in ((1, "Send the draft MOU", us_poc), (2, "Book the venue for the next meeting", rok_poc)):
        group = form.get_by_role("group", name=f"Follow-up action {row}")
        group.get_by_label("Action").fill(title)
        group.get_by_label("Owner").select_option(str(owner.pk))
        group.get_by_label("Due on").fill(due.isoformat())
    _fits(page, "#engagements")
    shot(page, f"engagement-log-form-{width}")
    form.get_by_role("button", name="Log engagement").click()
    page.wait_for_url(f"**/projects/{project.pk}/#engagements")

    assert "Engagement logged with 2 follow-up action(s)." in page.locator(".messages").inner_text()
    engagement = Engagement.objects.get()
    item = page.get_by_test_id(f"engagement-{engagement.pk}")
    text = item.inner_text()
    assert "Working group" in text and "Manila" in text and "Also about: Port security" in text
    assert "Jordan Lee" in text and "Maria Santos (Philippine Coast Guard)" in text
    mou = ActionItem.objects.get(title="Send the draft MOU")
    venue = ActionItem.objects.get(title="Book the venue for the next meeting")
    assert (mou.engagement_id, mou.project_id, mou.owner_id) == (engagement.pk, project.pk, us_poc.pk)
    # The project page's open actions list both follow-ups.
    assert page.get_by_test_id(f"action-{mou.pk}").is_visible()
    assert page.get_by_test_id(f"action-{venue.pk}").is_visible()
    _fits(page, "#engagements")
    shot(page, f"engagement-project-page-{width}")
    # The other project's page has the engagement too.
    page.goto(f"{live_server.url}/projects/{other.pk}/#engagements")
    assert "Also about: Coast guard training" in page.get_by_test_id(f"engagement-{engagement.pk}").inner_text()

    # /actions/: the editor is not linked to a POC, so everyone's open actions show; mark one done.
    page.goto(f"{live_server.url}/actions/")
    page.get_by_test_id(f"done-{mou.pk}").click()
    status = page.get_by_test_id(f"status-{mou.pk}")
    status.filter(has_text="Done").wait_for()
    assert page.get_by_test_id(f"done-{mou.pk}").count() == 0
    assert page.get_by_test_id(f"done-{venue.pk}").is_visible()
    shot(page, f"engagement-actions-marked-done-{width}")
    _no_sideways_scroll(page)
    mou.refresh_from_db()
    assert mou.status == "done" and mou.done_on is not None
    # Only the other follow-up is still open, on /actions/ and on the project page.
    page.get_by_test_id("all-actions").click()
    page.wait_for_load_state()
    assert page.get_by_test_id(f"action-{mou.pk}").count() == 0
    assert page.get_by_test_id(f"action-{venue.pk}").is_visible()
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    assert page.get_by_test_id(f"action-{mou.pk}").count() == 0

    # The engagement list shows it, with its two projects.
    page.goto(f"{live_server.url}/engagements/")
    row = page.get_by_test_id(f"engagement-row-{engagement.pk}").inner_text()
    assert "Coast guard training" in row and "Port security" in row and "Maria Santos" in row
    _no_sideways_scroll(page)
    shot(page, f"engagement-list-{width}")
    # Its page: the details, and the follow-up still open.
    page.get_by_test_id(f"engagement-row-{engagement.pk}").get_by_role("link", name="2 Mar 2026").click()
    page.wait_for_url(f"**/engagements/{engagement.pk}/")
    assert "Maria Santos, Philippine Coast Guard" in page.get_by_test_id("other-participants").inner_text()
    assert page.get_by_test_id(f"done-{venue.pk}").is_visible() and page.get_by_test_id(f"done-{mou.pk}").count() == 0
    _no_sideways_scroll(page)
    shot(page, f"engagement-detail-{width}")

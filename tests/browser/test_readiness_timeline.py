"""The readiness timeline and the SCM pages in a real browser, on a phone
(issue 12): a year's deadline, days left, state and projects can be read at
390 px without scrolling sideways; /scm/ leads to each year's report; the
calendar address reset asks first and says what it breaks."""

import datetime

import pytest
import time_machine
from playwright.sync_api import expect

from projects.services import concurrence_concur, project_create, project_transition
from scm_reports.models import SCMCycle

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = datetime.date
# 64 days before the 58th SCM's deadline (4 Nov 2026), inside the 90-day at-risk window.
NOW = datetime.datetime(2026, 9, 1, 0, 0, tzinfo=datetime.UTC)
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def today():
    with time_machine.travel(NOW, tick=True):
        yield NOW.date()


def _prioritised(people, title, today):
    lead, rok_lead = people["lead"], people["rok_lead"]
    project = project_create(by=lead, title=title, priority_area="maritime-security", lead_side="joint",
                             summary="Something to present.", partner_countries=["PH"],
                             us_lead_poc=people["us_poc"], rok_lead_poc=people["rok_poc"])
    project_transition(project=project, to="under_review", by=lead, today=today)
    proposal = project_transition(project=project.__class__.objects.get(pk=project.pk), to="prioritized", by=lead,
                                  priority=1, today=today)
    concurrence_concur(concurrence=proposal, by=rok_lead, today=today)
    return project.__class__.objects.get(pk=project.pk)


def test_on_a_phone_the_next_scm_reads_deadline_days_left_state_and_what_could_count(
        live_server, page, people, today, shot):
    SCMCycle.objects.create(number=58, year=2026, meeting_date=D(2026, 11, 5), location="Washington")
    waiting = _prioritised(people, "Coast guard training awaiting the ROK side", today)
    # Ready proposed by the U.S. lead; the ROK side has not answered.
    project_transition(project=waiting, to="ready", by=people["lead"], today=today)
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "lead-browser")

    year = page.get_by_test_id("year-2026")
    expect(year).to_be_visible()
    expect(year.get_by_test_id("state-2026")).to_have_text("At risk")
    expect(year.get_by_test_id("deadline-2026")).to_have_text("4 Nov 2026")
    expect(year.get_by_test_id("days-2026")).to_have_text("64 days left")
    expect(year.get_by_test_id("at-risk-2026")).to_contain_text("at risk from 6 Aug 2026")
    expect(year).to_contain_text("Next SCM")
    candidates = year.get_by_test_id("candidates-2026")
    link = candidates.get_by_role("link", name="Coast guard training awaiting the ROK side")
    expect(link).to_be_visible()
    expect(candidates).to_contain_text("Ready proposed, Awaiting ROK concurrence")
    # The drawing of the window fits the card, and nothing on the page is wider than the phone.
    bar = year.locator(".rt-bar").bounding_box()
    card = year.bounding_box()
    assert card["x"] <= bar["x"] and bar["x"] + bar["width"] <= card["x"] + card["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "dashboard-timeline-phone")

    link.click()
    expect(page).to_have_url(f"{live_server.url}/projects/{waiting.pk}/")


def test_the_scm_list_leads_to_each_years_report_on_a_phone(live_server, page, people, today):
    SCMCycle.objects.create(number=58, year=2026, meeting_date=D(2026, 11, 5), location="Washington")
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "lead-browser")
    page.goto(f"{live_server.url}/scm/")
    row = page.locator("tr[data-year='2026']")
    expect(row.locator(".badge")).to_have_text("At risk")  # the readiness is on screen, not off to the right
    assert row.locator(".badge").bounding_box()["x"] + row.locator(".badge").bounding_box()["width"] <= PHONE["width"]
    row.get_by_role("link", name="2026 report").click()
    expect(page).to_have_url(f"{live_server.url}/scm/2026/report/")
    expect(page.locator("h1")).to_have_text("58th SCM (2026): cooperative projects")


def test_making_a_new_calendar_address_asks_first_and_cancel_keeps_the_old_one(live_server, page, people, today):
    sign_in(page, live_server.url, "lead-browser")
    page.goto(f"{live_server.url}/calendar/")
    before = page.get_by_test_id("feed-url").input_value()
    page.get_by_role("button", name="Make a new address").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("every calendar subscribed to it stops updating until you subscribe again")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    page.reload()
    assert page.get_by_test_id("feed-url").input_value() == before

    page.get_by_role("button", name="Make a new address").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Make a new address").click()
    expect(page.locator(".messages")).to_contain_text("A new calendar address was made")
    assert page.get_by_test_id("feed-url").input_value() != before

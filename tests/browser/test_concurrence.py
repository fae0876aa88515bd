"""Joint concurrence in a real browser: the U.S. and ROK lead POCs, each in a
browser context of their own, propose and concur, and each one's dashboard
lists what awaits their side."""

import pytest
from playwright.sync_api import expect

from projects.models import CooperativeProject
from projects.services import project_create, project_transition

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _project(people, title, status):
    project = project_create(by=people["lead"], title=title, priority_area="maritime-security", lead_side="us",
                             summary="Training for partner coast guards.", partner_countries=["PH"],
                             us_lead_poc=people["us_poc"], rok_lead_poc=people["rok_poc"])
    project = project_transition(project=project, to="under_review", by=people["lead"])
    if status == "prioritized":  # set-up: agreed by both sides
        project = project_transition(project=project, to="prioritized", by=people["lead"], priority=2,
                                     joint_decision=True)
    return project


def test_two_leads_concur_in_two_browsers_and_each_dashboard_lists_what_awaits_it(live_server, browser, people,
                                                                                  shot):
    base = live_server.url
    ready_one = _project(people, "Coast guard MDA training", "prioritized")
    _project(people, "Pacific search and rescue workshop", "under_review")
    us_context, rok_context = browser.new_context(), browser.new_context()
    us, rok = us_context.new_page(), rok_context.new_page()
    try:
        sign_in(us, base, "lead-browser")
        sign_in(rok, base, "rok-lead-browser")
        # Nothing is awaited yet.
        expect(us.get_by_test_id("awaiting-yours")).to_contain_text("Nothing awaits your side's concurrence.")
        expect(rok.get_by_test_id("awaiting-yours")).to_contain_text("Nothing awaits your side's concurrence.")

        # The U.S. lead proposes "ready": the project stays prioritised, awaiting the ROK side.
        us.goto(f"{base}/projects/{ready_one.pk}/")
        # The next step is the stepper's primary action, its form open at the top of the page.
        form = us.locator("form:has([data-testid=step-ready])")
        form.locator("[name=note]").fill("Both ministries briefed.")
        form.get_by_test_id("step-ready").click()
        expect(us.locator(".messages")).to_contain_text("Proposed “Ready”: Awaiting ROK concurrence.")
        expect(us.get_by_test_id("status")).to_have_text("Prioritised")
        expect(us.get_by_test_id("awaiting")).to_have_text("Awaiting ROK concurrence")
        expect(us.get_by_test_id("concur")).to_have_count(0)  # not for the side that proposed it
        shot(us, "concurrence-proposed-us")

        # The ROK lead proposes to prioritise the other project (awaiting the U.S. side).
        other = CooperativeProject.objects.get(title="Pacific search and rescue workshop")
        rok.goto(f"{base}/projects/{other.pk}/")
        form = rok.locator("form:has([data-testid=step-prioritized])")
        form.locator("[name=priority]").fill("1")
        form.get_by_test_id("step-prioritized").click()
        expect(rok.get_by_test_id("awaiting")).to_have_text("Awaiting U.S. concurrence")

        # Each dashboard lists what awaits that side, and its own proposals awaiting the other.
        us.goto(f"{base}/")
        rok.goto(f"{base}/")
        expect(us.get_by_test_id("awaiting-yours")).to_contain_text("Pacific search and rescue workshop")
        expect(us.get_by_test_id("awaiting-yours")).not_to_contain_text("Coast guard MDA training")
        expect(us.get_by_test_id("awaiting-theirs")).to_contain_text("Coast guard MDA training")
        expect(rok.get_by_test_id("awaiting-yours")).to_contain_text("Coast guard MDA training")
        expect(rok.get_by_test_id("awaiting-yours")).not_to_contain_text("Pacific search and rescue workshop")
        shot(us, "concurrence-dashboard-us")
        shot(rok, "concurrence-dashboard-rok")

        # The ROK lead follows the link and concurs: the project is ready, dated today.
        rok.get_by_test_id("awaiting-yours").get_by_role("link", name="Coast guard MDA training").click()
        expect(rok.get_by_test_id("awaiting")).to_have_text("Awaiting ROK concurrence")
        rok.locator("#concur-note").fill("Agreed at the working level.")
        rok.get_by_test_id("concur").click()
        expect(rok.locator(".messages")).to_contain_text("You concurred: the project is now “Ready”.")
        expect(rok.get_by_test_id("status")).to_have_text("Ready")
        expect(rok.get_by_test_id("concurrence")).to_have_count(0)
        shot(rok, "concurrence-concurred-rok")
        assert CooperativeProject.objects.get(pk=ready_one.pk).ready_on is not None

        # The U.S. lead declines the ROK proposal, with a note.
        us.reload()
        expect(us.get_by_test_id("awaiting-theirs")).to_have_count(0)
        us.get_by_test_id("awaiting-yours").get_by_role("link", name="Pacific search and rescue workshop").click()
        us.get_by_test_id("decline-open").click()
        us.locator("#decline-note").fill("Fold it into the 2027 exercise plan.")
        us.get_by_test_id("decline").click()
        expect(us.locator(".messages")).to_contain_text("You declined the proposal")
        expect(us.get_by_test_id("status")).to_have_text("Under review")

        # Both dashboards: nothing awaits either side any more.
        us.goto(f"{base}/")
        rok.goto(f"{base}/")
        expect(us.get_by_test_id("awaiting-yours")).to_contain_text("Nothing awaits your side's concurrence.")
        expect(rok.get_by_test_id("awaiting-yours")).to_contain_text("Nothing awaits your side's concurrence.")
        shot(rok, "concurrence-dashboard-rok-after")
    finally:
        us_context.close()
        rok_context.close()

"""The dashboard in a real browser: follow a matrix cell to the filtered list."""

import re

import pytest
from playwright.sync_api import expect

from projects.services import project_create, project_transition

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_matrix_cell_leads_to_the_same_projects_in_the_list(live_server, page, people, shot):
    lead = people["lead"]
    for title, code in (("Coast guard training", "maritime-security"), ("Port security", "maritime-security"),
                        ("Cyber drills", "technical-cooperation")):
        project = project_create(by=lead, title=title, priority_area=code, lead_side="joint",
                                 partner_countries=["PH"])
        project_transition(project=project, to="under_review", by=lead)
    base = live_server.url
    sign_in(page, base, "lead-browser")
    expect(page.locator("h1")).to_have_text("Priority dashboard")
    expect(page.get_by_test_id("matrix-total")).to_have_text("3")
    shot(page, "dashboard")

    page.get_by_test_id("cell-maritime-security-under_review").click()
    expect(page).to_have_url(re.compile(r"/projects/\?primary_area=maritime-security&status=under_review"))
    expect(page.get_by_test_id("result-count")).to_have_text("2 projects")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#results")).not_to_contain_text("Cyber drills")
    shot(page, "dashboard-cell-filtered-list")


def test_a_lead_poc_reranks_the_pipeline_in_place(live_server, page, people, shot):
    lead = people["lead"]
    first = project_create(by=lead, title="First in line", priority_area="maritime-security", lead_side="us")
    second = project_create(by=lead, title="Second in line", priority_area="maritime-security", lead_side="us")
    project_transition(project=first, to="under_review", by=lead)
    # Set-up: prioritised as both sides agreed (the concurrence itself: tests/browser/test_concurrence.py).
    project_transition(project=first.__class__.objects.get(pk=first.pk), to="prioritized", by=lead, priority=1,
                       joint_decision=True)
    project_transition(project=second, to="under_review", by=lead)
    project_transition(project=second.__class__.objects.get(pk=second.pk), to="prioritized", by=lead, priority=2,
                       joint_decision=True)
    base = live_server.url
    sign_in(page, base, "lead-browser")
    rows = page.locator("[data-testid=pipeline] tbody tr")
    expect(rows.first).to_contain_text("First in line")
    page.get_by_test_id(f"priority-{second.pk}").select_option("1")
    page.get_by_test_id(f"priority-{first.pk}").wait_for()
    expect(page.get_by_test_id(f"priority-{second.pk}")).to_have_value("1")
    page.get_by_test_id(f"priority-{first.pk}").select_option("3")
    expect(rows.first).to_contain_text("Second in line")
    shot(page, "dashboard-pipeline-reranked")
    page.reload()
    expect(page.locator("[data-testid=pipeline] tbody tr").first).to_contain_text("Second in line")

"""The dashboard in a real browser: follow a matrix cell to the filtered list;
re-rank the pipeline and see it saved; tell every status apart without colour."""

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
    page.get_by_test_id(f"priority-{second.pk}").focus()
    page.get_by_test_id(f"priority-{second.pk}").select_option("1")
    page.get_by_test_id(f"priority-{first.pk}").wait_for()
    expect(page.get_by_test_id(f"priority-{second.pk}")).to_have_value("1")
    # The save says so (issue 12): a toast, read out by the polite live region.
    expect(page.locator("#toasts .toast").first).to_contain_text("Priority of “Second in line” set to 1")
    # Focus stays on the control that was changed, though the pipeline was drawn again.
    expect(page.get_by_test_id(f"priority-{second.pk}")).to_be_focused()
    page.get_by_test_id(f"priority-{first.pk}").select_option("3")
    expect(rows.first).to_contain_text("Second in line")
    shot(page, "dashboard-pipeline-reranked")
    page.reload()
    expect(page.locator("[data-testid=pipeline] tbody tr").first).to_contain_text("Second in line")


# The shape drawn before each badge (dashboard.css): a clip-path, a border, a gradient or a rounded box.
SHAPE_JS = """els => els.map(el => {
  const badge = getComputedStyle(el), mark = getComputedStyle(el, '::before');
  return {cls: el.className, colour: badge.color, background: badge.backgroundColor,
          shape: [mark.clipPath, mark.borderTopWidth, mark.borderTopStyle, mark.borderRadius, mark.backgroundImage,
                  mark.backgroundColor === 'rgba(0, 0, 0, 0)' ? 'hollow' : 'filled', mark.width].join('|'),
          markColour: mark.backgroundColor === 'rgba(0, 0, 0, 0)' ? mark.borderTopColor : mark.backgroundColor,
          display: mark.display, content: mark.content};
})"""


def _luminance(css):
    r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css)[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a, b):
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_every_status_and_readiness_state_has_its_own_colour_and_shape(live_server, page, people):
    lead = people["lead"]
    project_create(by=lead, title="Anything", priority_area="maritime-security", lead_side="us")
    sign_in(page, live_server.url, "lead-browser")
    statuses = page.locator("[data-testid=matrix] thead .badge").evaluate_all(SHAPE_JS)
    assert len(statuses) == 9
    # Never colour alone: nine different shapes, and nine different colour pairs too.
    assert len({s["shape"] for s in statuses}) == 9, statuses
    assert len({(s["colour"], s["background"]) for s in statuses}) == 9, statuses
    for s in statuses:
        assert s["display"] != "none" and s["content"] == '""'
        # The shape against the badge's background: at least 3:1 (WCAG 1.4.11); the text at least 4.5:1.
        assert _contrast(s["markColour"], s["background"]) >= 3, s
        assert _contrast(s["colour"], s["background"]) >= 4.5, s
    # The readiness states (timeline, flags, /scm/) likewise, drawn on a page of their own making.
    page.set_content(f'<link rel="stylesheet" href="{live_server.url}/static/css/rcf.css"><link rel="stylesheet" '
                     f'href="{live_server.url}/static/css/dashboard.css">'
                     + "".join(f'<span class="badge state-{s}">{s}</span>'
                               for s in ("covered", "at_risk", "missed", "pending", "unscheduled")))
    states = page.locator(".badge").evaluate_all(SHAPE_JS)
    assert len({s["shape"] for s in states}) == 5, states
    for s in states:
        assert _contrast(s["markColour"], s["background"]) >= 3 and _contrast(s["colour"], s["background"]) >= 4.5, s

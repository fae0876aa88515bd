"""The project page's lifecycle stepper in a real browser (issue 12): a lead POC
moves a project with the keyboard alone, every focused control showing a focus
ring of at least 3:1 against what is behind it; a step that cannot be taken
says why before anyone submits, and a forced submit keeps the typed note and
shows the refusal next to the step, with the focus on it and links to the
fields."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from projects.models import CooperativeProject
from projects.services import project_create, project_transition

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _project(people, status="concept", **overrides):
    data = {"title": "Coast guard MDA training", "priority_area": "maritime-security", "lead_side": "us",
            "summary": "Training for partner coast guards.", "partner_countries": ["PH"],
            "us_lead_poc": people["us_poc"], "rok_lead_poc": people["rok_poc"], **overrides}
    project = project_create(by=people["lead"], **data)
    if status in ("under_review", "prioritized"):
        project = project_transition(project=project, to="under_review", by=people["lead"])
    if status == "prioritized":  # set-up: agreed by both sides
        project = project_transition(project=project, to="prioritized", by=people["lead"], priority=2,
                                     joint_decision=True)
    return project


# --- WCAG contrast (1.4.11: a focus indicator needs 3:1 against its surroundings) ---------------------------

def _rgba(css: str) -> tuple[float, float, float, float]:
    numbers = [float(n) for n in re.findall(r"[\d.]+", css)]
    return (numbers + [1.0])[:4] if len(numbers) >= 3 else (0, 0, 0, 0)


def _luminance(rgb) -> float:
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


FOCUS_STYLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  // What is behind the ring: the first opaque background from the element's parent up (the ring is drawn
  // outside the element, outline-offset 2px).
  let node = el.parentElement, background = "rgb(255, 255, 255)";
  while (node) {
    const bg = getComputedStyle(node).backgroundColor;
    if (bg && bg !== "transparent" && !/rgba\\(.*,\\s*0\\)$/.test(bg)) { background = bg; break; }
    node = node.parentElement;
  }
  return {tag: el.tagName, id: el.id, testid: el.getAttribute("data-testid"),
          text: (el.textContent || "").trim().slice(0, 40),
          outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth),
          outlineColor: style.outlineColor, background: background};
}"""


def assert_focus_visible(page):
    focus = page.evaluate(FOCUS_STYLE)
    assert focus is not None, "the focus went to the page itself"
    what = f"{focus['tag']} #{focus['id']} {focus['testid']} “{focus['text']}”"
    assert focus["outlineStyle"] not in ("none", "hidden") and focus["outlineWidth"] >= 2, \
        f"no visible focus ring on {what}: {focus}"
    ratio = contrast(_rgba(focus["outlineColor"]), _rgba(focus["background"]))
    assert ratio >= 3, f"focus ring on {what} is {ratio:.2f}:1 against {focus['background']}: {focus}"
    return focus


def force_submit(page, testid):
    """Submit a step's form although its button is disabled (as a crafted POST would)."""
    with page.expect_navigation():
        page.evaluate("""(testid) => {
          const button = document.querySelector(`[data-testid=${testid}]`);
          button.disabled = false;
          button.form.requestSubmit(button);
        }""", testid)


def test_a_lead_poc_moves_a_project_one_step_forward_with_the_keyboard_alone(live_server, page, people, shot):
    project = _project(people)
    sign_in(page, live_server.url, "lead-browser")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    stepper = page.get_by_test_id("stepper")
    expect(stepper.locator("[aria-current=step]")).to_contain_text("Concept")

    seen = []
    for _ in range(80):
        page.keyboard.press("Tab")
        focus = assert_focus_visible(page)
        seen.append(focus)
        if focus["id"] == "note-under_review":
            page.keyboard.type("Worth a look: both sides briefed.")
        if focus["testid"] == "step-under_review":
            break
    else:
        pytest.fail(f"Tab never reached the step's button: {[f['testid'] or f['id'] or f['text'] for f in seen]}")
    assert any(f["id"] == "note-under_review" for f in seen)
    shot(page, "stepper-keyboard-focus")
    page.keyboard.press("Enter")

    expect(page.get_by_test_id("status")).to_have_text("Under review")
    expect(stepper.locator("[aria-current=step]")).to_contain_text("Under review")
    expect(stepper.locator(".is-done")).to_contain_text("Concept")
    project.refresh_from_db()
    assert project.status == "under_review"
    assert project.transitions.get(to_status="under_review").note == "Worth a look: both sides briefed."


def test_a_step_missing_the_rok_lead_says_why_before_submitting_and_a_forced_one_keeps_the_note(
        live_server, page, people, shot):
    project = _project(people, "prioritized", rok_lead_poc=None)
    sign_in(page, live_server.url, "lead-browser")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/projects/{project.pk}/")

    # Before any submit: the Ready step is the primary action, disabled, with the reason from the service.
    why = page.get_by_test_id("why-ready")
    expect(why).to_contain_text("A project needs a ROK lead POC before it can be ready.")
    expect(why.get_by_role("link", name=re.compile("Fix it in the project form"))).to_have_attribute(
        "href", f"/projects/{project.pk}/edit/#id_rok_lead_poc")
    button = page.get_by_test_id("step-ready")
    expect(button).to_be_disabled()
    # Near the top on a phone: the step's button within the first two screens.
    assert button.bounding_box()["y"] < 2 * 844
    shot(page, "stepper-refused-before-390")

    # Forced: the button enabled by hand, the note typed, submitted anyway.
    page.locator("#note-ready").fill("Cleared with both ministries.")
    force_submit(page, "step-ready")

    error = page.get_by_test_id("step-error")
    expect(error).to_contain_text("ROK lead POC")
    expect(error).to_be_focused()
    # Next to the action, not only at the top: inside the Ready step's block, right above its form.
    assert page.locator("#step-ready [data-testid=step-error]").count() == 1
    expect(page.locator("#note-ready")).to_have_value("Cleared with both ministries.")
    expect(page.get_by_test_id("status")).to_have_text("Prioritised")
    assert CooperativeProject.objects.get(pk=project.pk).status == "prioritized"
    shot(page, "stepper-refused-forced-390")


def test_the_ready_date_is_checked_live_and_a_forced_refusal_links_its_field(live_server, page, people, shot):
    project = _project(people, "prioritized")
    sign_in(page, live_server.url, "lead-browser")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    button = page.get_by_test_id("step-ready")
    expect(button).to_be_enabled()
    check = page.locator("#readyon-ready-check")

    # Checked live, before submitting: a date in the future is refused with the service's own message.
    tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    page.locator("#readyon-ready").fill(tomorrow)
    expect(check).to_have_text("The ready date cannot be in the future.")
    expect(button).to_be_disabled()
    page.locator("#readyon-ready").fill("")
    expect(check).to_have_text("")
    expect(button).to_be_enabled()

    # Forced: the server refuses; the summary next to the step takes the focus and links to the field.
    page.locator("#readyon-ready").fill(tomorrow)
    page.locator("#note-ready").fill("Backfilled by mistake.")
    force_submit(page, "step-ready")
    summary = page.get_by_test_id("step-error")
    expect(summary).to_be_focused()
    link = summary.get_by_role("link", name=re.compile("Ready on"))
    expect(link).to_have_attribute("href", "#readyon-ready")
    expect(page.locator("#note-ready")).to_have_value("Backfilled by mistake.")
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#readyon-ready")).to_be_focused()
    shot(page, "stepper-field-error")


def test_withdraw_asks_for_confirmation_and_says_what_happens(live_server, page, people):
    project = _project(people, "under_review")
    sign_in(page, live_server.url, "lead-browser")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_test_id("open-step-withdrawn").click()
    page.get_by_test_id("step-withdrawn").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("no further step can be taken")
    dialog.locator("[data-confirm-cancel]").click()
    assert CooperativeProject.objects.get(pk=project.pk).status == "under_review"
    page.get_by_test_id("step-withdrawn").click()
    dialog.locator("[data-confirm-ok]").click()
    expect(page.get_by_test_id("status")).to_have_text("Withdrawn")
    expect(page.get_by_test_id("side-state")).to_contain_text("Under review")

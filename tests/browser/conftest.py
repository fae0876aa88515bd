"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against a
live server. `playwright install` cannot download browsers here (RECIPES)."""

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from scm_reports.roles import EDITOR, LEAD_POC
from tests.factories import PointOfContactFactory, UserFactory

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "pw-for-tests-1"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("RCF_REQUIRE_BROWSER") == "1":
            pytest.fail(f"RCF_REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "en-US"}


@pytest.fixture
def shot():
    """Save a full-page screenshot under test-artifacts/ (kept by CI as evidence)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name):
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def people(transactional_db):
    lead = UserFactory(username="lead-browser", first_name="Lee", last_name="Lead")
    lead.groups.set([Group.objects.get(name=LEAD_POC)])
    editor = UserFactory(username="editor-browser", first_name="Eddie", last_name="Editor")
    editor.groups.set([Group.objects.get(name=EDITOR)])
    rok_lead = UserFactory(username="rok-lead-browser", first_name="Min-jun", last_name="Kim")
    rok_lead.groups.set([Group.objects.get(name=LEAD_POC)])
    # Lead-POC powers come from the link to a side's lead POC (issue 10).
    us = PointOfContactFactory(side="us", is_lead=True, full_name="Jordan Lee", user=lead)
    rok = PointOfContactFactory(side="rok", is_lead=True, full_name="Kim Min-jun", user=rok_lead)
    return {"lead": lead, "rok_lead": rok_lead, "editor": editor, "us_poc": us, "rok_poc": rok}


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}/")

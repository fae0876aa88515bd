"""Every staff page, for every role: allowed, forbidden (403), anonymous (login)."""

import datetime

import pytest

from projects.services import project_soft_delete
from scm_reports.models import SCMCycle
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

ROLES = ["viewer", "editor", "lead", "administrator"]


@pytest.fixture
def objects(make_project, us_lead_poc, lead):
    project = make_project()
    deleted = make_project(title="Gone")
    project_soft_delete(project=deleted, by=lead)
    return {
        "project": project.pk,
        "deleted": deleted.pk,
        "poc": us_lead_poc.pk,
        "org": OrganizationFactory(side="industry").pk,
        "cycle": SCMCycle.objects.get(number=57).pk,
    }


# (method, url template, data, lowest role allowed, expected status when allowed)
PAGES = [
    ("get", "/", None, "viewer", 200),
    ("get", "/projects/", None, "viewer", 200),
    ("get", "/projects/{project}/", None, "viewer", 200),
    ("get", "/projects/new/", None, "editor", 200),
    ("get", "/projects/{project}/edit/", None, "editor", 200),
    ("post", "/projects/{project}/transition/", {"to": "under_review"}, "editor", 302),
    ("get", "/projects/{project}/delete/", None, "editor", 200),
    ("post", "/projects/{project}/engagements/", {"date": "2026-01-05", "kind": "call", "summary": "Call"},
     "editor", 302),
    ("post", "/projects/{deleted}/restore/", None, "administrator", 302),
    ("get", "/contacts/", None, "viewer", 200),
    ("get", "/contacts/{poc}/", None, "viewer", 200),
    ("get", "/contacts/new/", None, "editor", 200),
    ("get", "/contacts/{poc}/edit/", None, "editor", 200),
    ("get", "/contacts/organizations/", None, "viewer", 200),
    ("get", "/contacts/organizations/new/", None, "editor", 200),
    ("get", "/contacts/organizations/{org}/edit/", None, "editor", 200),
    ("get", "/scm/", None, "viewer", 200),
    ("get", "/scm/new/", None, "administrator", 200),
    ("get", "/scm/{cycle}/edit/", None, "administrator", 200),
]


def _call(client, method, url, data):
    return getattr(client, method)(url, data or {})


@pytest.mark.parametrize("method,url,data,lowest,ok_status", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, objects, method, url, data, lowest, ok_status):
    response = _call(client, method, url.format(**objects), data)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("method,url,data,lowest,ok_status", PAGES)
def test_each_role_is_allowed_or_forbidden(client, objects, request, method, url, data, lowest, ok_status):
    allowed_from = ROLES.index(lowest)
    for index, role in enumerate(ROLES):
        user = request.getfixturevalue(role)
        client.force_login(user)
        response = _call(client, method, url.format(**objects), data)
        if index >= allowed_from:
            assert response.status_code == ok_status, (role, url, response.status_code)
            if method == "post":  # undo what the allowed POST did, for the next role
                _reset(objects)
        else:
            assert response.status_code == 403, (role, url, response.status_code)
            assert b"Not allowed" in response.content


def _reset(objects):
    from projects.models import CooperativeProject
    from projects.services import project_soft_delete as delete

    CooperativeProject.all_objects.filter(pk=objects["project"]).update(status="concept")
    deleted = CooperativeProject.all_objects.get(pk=objects["deleted"])
    if deleted.deleted_at is None:
        delete(project=deleted)


def test_a_lifecycle_step_beyond_an_editor_is_403_and_changes_nothing(client, editor, make_project, advance):
    project = advance(make_project(), "under_review")
    client.force_login(editor)
    response = client.post(f"/projects/{project.pk}/transition/", {"to": "prioritized", "priority": "1"})
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.status == "under_review"


def test_the_detail_page_offers_only_the_steps_the_role_may_take(client, editor, lead, make_project, advance):
    project = advance(make_project(), "under_review")
    client.force_login(editor)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert 'data-testid="step-concept"' in page
    assert 'data-testid="step-prioritized"' not in page
    client.force_login(lead)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert 'data-testid="step-prioritized"' in page and 'data-testid="step-withdrawn"' in page


def test_deleted_and_unknown_projects_are_a_friendly_404(client, viewer, objects):
    client.force_login(viewer)
    for url in (f"/projects/{objects['deleted']}/", "/projects/999999/", "/contacts/999999/", "/no-such-page/"):
        response = client.get(url)
        assert response.status_code == 404
        assert b"Back to the dashboard" in response.content


def test_an_administrator_sees_a_deleted_project_and_can_restore_it(client, administrator, objects):
    client.force_login(administrator)
    page = client.get(f"/projects/{objects['deleted']}/").content.decode()
    assert "Restore" in page
    client.post(f"/projects/{objects['deleted']}/restore/")
    assert client.get("/projects/", {"q": "Gone"}).context["count"] == 1


def test_scm_cycle_form_refuses_a_deadline_after_the_meeting(client, administrator):
    client.force_login(administrator)
    response = client.post("/scm/new/", {"number": 58, "year": 2026, "meeting_date": "2026-11-05",
                                          "readiness_deadline": "2026-11-06", "location": "Washington"})
    assert response.status_code == 400
    assert "cannot be after the meeting" in response.content.decode()
    assert not SCMCycle.objects.filter(number=58).exists()
    response = client.post("/scm/new/", {"number": 58, "year": 2026, "meeting_date": "2026-11-05",
                                          "location": "Washington"})
    assert response.status_code == 302
    assert SCMCycle.objects.get(number=58).meeting_date == datetime.date(2026, 11, 5)

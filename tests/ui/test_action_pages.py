"""What staff see and do on /actions/ and in the project page's actions."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import services
from projects.models import ActionItem
from rcf.selectors import framework_today
from tests.factories import EngagementFactory, PointOfContactFactory, ProjectFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def today():
    return framework_today()


@pytest.fixture
def my_poc(editor):
    return PointOfContactFactory(full_name="Ana Park", user=editor)


def _action(owner, title, due_on, **extra):
    return services.action_create(title=title, owner=owner, due_on=due_on, **extra)


def test_mine_by_default_overdue_first(client, editor, my_poc, today):
    later = _action(my_poc, "Later one", today + 3 * DAY)
    late = _action(my_poc, "Late one", today - 2 * DAY)
    soon = _action(my_poc, "Soon one", today + DAY)
    _action(my_poc, "Finished one", today - 9 * DAY, status="done")
    _action(PointOfContactFactory(full_name="Someone Else"), "Not mine", today)
    client.force_login(editor)
    response = client.get("/actions/")
    page = response.content.decode()
    assert [a.pk for a in response.context["actions"]] == [late.pk, soon.pk, later.pk]
    assert "Not mine" not in page and "Finished one" not in page
    assert page.count('data-testid="overdue"') == 1
    assert "My actions" in page
    everyone = client.get("/actions/?owner=&status=").content.decode()
    assert "Not mine" in everyone and "Finished one" in everyone


def test_filters_by_side_project_status_and_due_range(client, viewer, today):
    us, rok = PointOfContactFactory(side="us"), PointOfContactFactory(side="rok")
    project = ProjectFactory()
    a = _action(us, "US action", today, project=project)
    b = _action(rok, "ROK action", today + 10 * DAY)
    c = _action(rok, "ROK done", today, status="done")
    client.force_login(viewer)  # no linked POC: everyone's

    def ids(query):
        return [x.pk for x in client.get(f"/actions/?{query}").context["actions"]]

    assert ids("") == [a.pk, b.pk]  # open by default
    assert ids("side=rok") == [b.pk]
    assert ids(f"project={project.pk}") == [a.pk]
    assert ids("status=done") == [c.pk]
    assert ids(f"owner={rok.pk}&status=") == [c.pk, b.pk]
    assert ids(f"due_after={(today + DAY).isoformat()}") == [b.pk]
    assert ids(f"due_before={today.isoformat()}") == [a.pk]
    response = client.get("/actions/?due_before=someday")
    assert response.status_code == 200 and "due_before" in response.context["filter"].errors


def test_done_with_htmx_replaces_the_row(client, editor, my_poc, today):
    action = _action(my_poc, "Call the ministry", today - DAY)
    client.force_login(editor)
    page = client.get("/actions/").content.decode()
    assert f'data-testid="done-{action.pk}"' in page
    response = client.post(f"/actions/{action.pk}/done/", {"version": action.version}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="action-{action.pk}"')
    assert f'data-testid="done-{action.pk}"' not in body and "Done" in body
    action.refresh_from_db()
    assert (action.status, action.done_on, action.updated_by) == ("done", today, editor)
    # It says so in a toast (rcf.middleware.HtmxMessagesMiddleware → rcf.js).
    assert "rcfToast" in response["HX-Trigger"] and "Call the ministry" in response["HX-Trigger"]


def test_done_with_a_stale_version_is_409_and_changes_nothing(client, editor, my_poc, today):
    action = _action(my_poc, "Call the ministry", today - DAY)
    services.action_update(action=ActionItem.objects.get(pk=action.pk), title="Call MOFA")
    client.force_login(editor)
    response = client.post(f"/actions/{action.pk}/done/", {"version": 1}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    body = response.content.decode()
    assert "Someone else changed this action" in body and "Call MOFA" in body
    assert 'name="version" value="2"' in body  # the row as it is now, to try again
    action.refresh_from_db()
    assert (action.status, action.version) == ("open", 2)


def test_done_without_javascript_redirects_back(client, editor, my_poc, today):
    action = _action(my_poc, "Call", today)
    client.force_login(editor)
    response = client.post(f"/actions/{action.pk}/done/", {"version": 1, "next": "/actions/?status="})
    assert response.status_code == 302 and response["Location"] == "/actions/?status="
    assert ActionItem.objects.get(pk=action.pk).status == "done"
    response = client.post(f"/actions/{action.pk}/done/", {"version": 1, "next": "https://evil.example/"})
    assert response["Location"] == "/actions/"  # not off-site; and already done: a message, no change
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("already done" in m for m in messages)


def test_a_viewer_cannot_mark_done(client, viewer, today):
    action = _action(PointOfContactFactory(user=viewer), "Call", today)
    client.force_login(viewer)
    page = client.get("/actions/").content.decode()
    assert "Call" in page and f'data-testid="done-{action.pk}"' not in page
    response = client.post(f"/actions/{action.pk}/done/", {"version": 1}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert ActionItem.objects.get(pk=action.pk).status == "open"
    assert client.get("/actions/new/").status_code == 403
    assert client.get(f"/actions/{action.pk}/edit/").status_code == 403


def test_anonymous_visitors_go_to_the_login_page(client):
    response = client.get("/actions/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_create_from_a_project_page_prefills_and_goes_back(client, editor, my_poc, today):
    project = ProjectFactory(start_date=today - 30 * DAY)
    client.force_login(editor)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert 'data-testid="add-action"' in page and "No open action." in page
    response = client.get(f"/actions/new/?project={project.pk}&next=/projects/{project.pk}/%23actions")
    form = response.context["form"]
    assert form.initial == {"owner": my_poc.pk, "project": project.pk}
    response = client.post("/actions/new/", {
        "title": "Draft the curriculum", "owner": my_poc.pk, "project": project.pk,
        "due_on": (today + 5 * DAY).isoformat(), "next": f"/projects/{project.pk}/#actions"})
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/#actions"
    action = ActionItem.objects.get()
    assert (action.title, action.owner, action.project, action.created_by) == (
        "Draft the curriculum", my_poc, project, editor)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert "Draft the curriculum" in page and f'data-testid="done-{action.pk}"' in page


def test_create_from_an_engagement_prefills_its_project(client, editor, my_poc):
    project = ProjectFactory()
    engagement = EngagementFactory(projects=[project])
    client.force_login(editor)
    form = client.get(f"/actions/new/?engagement={engagement.pk}").context["form"]
    assert form.initial["engagement"] == engagement.pk and form.initial["project"] == project.pk


def test_bad_input_shows_field_messages_and_saves_nothing(client, editor, today):
    project = ProjectFactory(start_date=today)
    gone = PointOfContactFactory(full_name="Retired Person", active=False)
    client.force_login(editor)
    response = client.post("/actions/new/", {"title": "x", "owner": gone.pk, "project": project.pk,
                                             "due_on": (today - DAY).isoformat()})
    assert response.status_code == 400
    assert "owner" in response.context["form"].errors  # not offered: an inactive POC
    active = PointOfContactFactory()
    response = client.post("/actions/new/", {"title": "x", "owner": active.pk, "project": project.pk,
                                             "due_on": (today - DAY).isoformat()})
    assert response.status_code == 400
    assert "before the project's start" in response.context["form"].errors["due_on"][0]
    assert "Nothing was saved" in response.content.decode()
    assert not ActionItem.all_objects.exists()


def test_edit_with_the_version_check_and_delete(client, editor, my_poc, today):
    action = _action(my_poc, "Call", today)
    client.force_login(editor)
    page = client.get(f"/actions/{action.pk}/edit/").content.decode()
    assert 'name="version" value="1"' in page
    data = {"title": "Call MOFA", "owner": my_poc.pk, "due_on": today.isoformat(), "status": "open", "version": 1}
    assert client.post(f"/actions/{action.pk}/edit/", data).status_code == 302
    response = client.post(f"/actions/{action.pk}/edit/", {**data, "title": "Stale edit"})
    assert response.status_code == 409
    assert ActionItem.objects.get(pk=action.pk).title == "Call MOFA"
    data["status"], data["version"] = "done", 2
    client.post(f"/actions/{action.pk}/edit/", data)
    action.refresh_from_db()
    assert (action.status, action.done_on) == ("done", today)
    assert client.get(f"/actions/{action.pk}/delete/").status_code == 200
    response = client.post(f"/actions/{action.pk}/delete/", {"version": action.version})
    assert response.status_code == 302
    assert not ActionItem.objects.filter(pk=action.pk).exists()
    assert ActionItem.all_objects.filter(pk=action.pk).exists()


def test_nav_link_and_korean_page(client, editor, my_poc, today):
    _action(my_poc, "Call", today - DAY)
    client.force_login(editor)
    page = client.get("/projects/").content.decode()
    assert 'href="/actions/"' in page
    page = client.get("/actions/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "기한" in page  # the overdue badge in Korean


def _bulk_actions(count, owner, project, today):
    ActionItem.objects.bulk_create([
        ActionItem(title=f"Bulk {n}", owner=owner, project=project, due_on=today + datetime.timedelta(days=n % 40 - 20))
        for n in range(count)
    ])


@pytest.mark.parametrize("query", ["", "?owner=&status="])
def test_list_query_count_is_the_same_for_10_and_1000_actions(client, editor, my_poc, today, query):
    project = ProjectFactory()
    client.force_login(editor)
    counts = []
    for total in (10, 1000):
        ActionItem.objects.all().delete()
        _bulk_actions(total, my_poc, project, today)
        client.get(f"/actions/{query}")  # warm the session
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/actions/{query}")
        assert response.status_code == 200
        assert response.context["count"] == total
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_project_page_query_count_is_the_same_for_10_and_1000_actions(client, editor, my_poc, today):
    project = ProjectFactory()
    client.force_login(editor)
    counts = []
    for total in (10, 1000):
        ActionItem.objects.all().delete()
        _bulk_actions(total, my_poc, project, today)
        client.get(f"/projects/{project.pk}/")
        with CaptureQueriesContext(connection) as queries:
            client.get(f"/projects/{project.pk}/")
        counts.append(len(queries))
    assert counts[0] == counts[1]

"""Parts the list and edit pages share (templates/includes/pagination.html,
rcf.views.save_with_version_check, the progress/milestone create views' base):
what each page does with them, as a user sees it."""

import datetime
import html
import re

import pytest

from projects import services
from projects.models import ActionItem, Engagement, Milestone, ProgressUpdate
from rcf.selectors import framework_today
from tests.factories import ActionItemFactory, EngagementFactory, PointOfContactFactory, ProjectFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def _page_links(page: str) -> dict:
    """The pagination's links by their text, their query strings unescaped."""
    nav = re.search(r'<nav class="pagination" aria-label="([^"]*)">(.*?)</nav>', page, re.S)
    assert nav, "no pagination"
    links = {text: html.unescape(href) for href, text in re.findall(r'<a class="button secondary" href="([^"]*)">'
                                                                   r"([^<]*)</a>", nav.group(2))}
    return {"label": nav.group(1), "status": re.search(r"<span>([^<]*)</span>", nav.group(2)).group(1), **links}


@pytest.mark.parametrize("lang, pages, previous, next_", [
    ("en", "Pages", "Previous", "Next"), ("ko", "페이지", "이전", "다음")])
def test_the_three_lists_page_links_keep_the_filters(client, editor, lang, pages, previous, next_):
    me = PointOfContactFactory(full_name="Ana Park", user=editor)
    for n in range(27):
        ProjectFactory(title=f"Concept {n:02}", status="concept")
    ProjectFactory(title="Not listed", status="under_review")
    host = ProjectFactory(title="Host", status="under_review")
    for n in range(27):
        EngagementFactory(date=D(2026, 1, 1) + datetime.timedelta(days=n), kind="b2b", projects=[host])
        ActionItemFactory(title=f"Action {n:02}", owner=me, due_on=D(2026, 1, 1) + datetime.timedelta(days=n))
    EngagementFactory(kind="meeting", projects=[host])
    client.force_login(editor)
    for path, query, name, count in [
        ("/projects/", "status=concept&sort=title", "projects", 27),
        ("/engagements/", "kind=b2b&sort=date", "engagements", 27),
        ("/actions/", "owner=&status=open", "actions", 27),
    ]:
        for htmx in ({}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}):
            first = client.get(f"{path}?{query}", HTTP_ACCEPT_LANGUAGE=lang, **htmx)
            links = _page_links(first.content.decode())
            assert links["label"] == pages
            assert links["status"] == ("Page 1 of 2" if lang == "en" else "2쪽 중 1쪽")
            assert previous not in links, path
            # The project list's links carry a cursor (issue 14: keyset pages), the others a page number.
            keyset = path == "/projects/"
            if keyset:
                assert links[next_].startswith(f"?{query}&cursor="), path
            else:
                assert links[next_] == f"?{query}&page=2", path
            second = client.get(path + links[next_], HTTP_ACCEPT_LANGUAGE=lang, **htmx)
            assert len(second.context[name]) == count - 25, path  # the filters still apply on page 2
            links = _page_links(second.content.decode())
            assert links[previous] == (f"?{query}" if keyset else f"?{query}&page=1") and next_ not in links, path
    # One page of results: no pagination at all.
    assert 'class="pagination"' not in client.get("/projects/?status=under_review").content.decode()


def test_a_stale_action_edit_is_409_and_saving_again_applies_it_over_theirs(client, editor):
    me = PointOfContactFactory(full_name="Ana Park", user=editor)
    action = services.action_create(title="Call", owner=me, due_on=framework_today())
    services.action_update(action=action, by=editor, title="Call MOFA")  # someone else, meanwhile
    client.force_login(editor)
    data = {"title": "My title", "owner": me.pk, "due_on": framework_today().isoformat(), "status": "open",
            "version": 1}
    response = client.post(f"/actions/{action.pk}/edit/", data)
    assert response.status_code == 409
    page = response.content.decode()
    assert ("Someone else changed this action after you opened it. Nothing was saved; save again to apply your "
            "changes over theirs.") in page
    assert 'name="version" value="2"' in page and 'value="My title"' in page  # the input kept, on top of v2
    assert ActionItem.objects.get(pk=action.pk).title == "Call MOFA"
    assert client.post(f"/actions/{action.pk}/edit/", response.context["form"].data).status_code == 302
    assert ActionItem.objects.get(pk=action.pk).title == "My title"


def test_a_stale_engagement_edit_is_409_names_the_version_and_keeps_the_form_stale(client, editor):
    engagement = services.engagement_create(by=editor, projects=[ProjectFactory()], date=D(2026, 3, 2),
                                            kind="meeting", summary="Met.")
    services.engagement_update(engagement=engagement, by=editor, summary="Changed elsewhere.")
    client.force_login(editor)
    body = {"version": "1", "kind": "meeting", "date": "2026-03-02", "summary": "Mine", "location": "",
            "others-TOTAL_FORMS": "0", "others-INITIAL_FORMS": "0"}
    response = client.post(f"/engagements/{engagement.pk}/edit/", body)
    assert response.status_code == 409
    page = response.content.decode()
    assert ("Someone else changed this engagement after you opened it (it is now at version 2). Nothing was "
            "saved: reload the page to see their changes, then make yours again.") in page
    # Reload first: the form still carries the version it was opened at, so posting it again is refused too.
    assert 'name="version" value="1"' in page
    assert client.post(f"/engagements/{engagement.pk}/edit/", response.context["form"].data).status_code == 409
    assert Engagement.objects.get(pk=engagement.pk).summary == "Changed elsewhere."


def test_posting_an_update_and_adding_a_milestone_say_so_on_the_project_page(client, editor):
    project = ProjectFactory(status="in_implementation", ready_on=D(2025, 10, 1))
    client.force_login(editor)
    today = framework_today()
    response = client.post(f"/projects/{project.pk}/progress/", {
        "progress-date": today.isoformat(), "progress-health": "on_track", "progress-narrative": "Going well."},
        follow=True)
    assert response.redirect_chain[-1][0] == f"/projects/{project.pk}/#implementation"
    assert "Progress update posted." in response.content.decode()
    assert ProgressUpdate.objects.get().created_by == editor
    response = client.post(f"/projects/{project.pk}/milestones/", {
        "milestone-title": "Kick-off", "milestone-due_on": (today + datetime.timedelta(days=30)).isoformat()},
        follow=True, HTTP_ACCEPT_LANGUAGE="ko")
    assert response.redirect_chain[-1][0] == f"/projects/{project.pk}/#implementation"
    assert "마일스톤을 추가했습니다." in response.content.decode()  # "Milestone added."
    assert Milestone.objects.get().created_by == editor
    # Refused: the project page again, 400, the refused form with its message and the input kept.
    response = client.post(f"/projects/{project.pk}/milestones/", {"milestone-title": "No date"})
    assert response.status_code == 400
    assert response.context["milestone_form"].errors["due_on"]
    assert 'value="No date"' in response.content.decode()

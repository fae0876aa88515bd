"""The project page's implementation card (issue 11): latest health, stale
marker, update history, milestone timeline, and the forms to post an update,
add a milestone and mark one done."""

import datetime
import re
from collections import Counter
from html.parser import HTMLParser

import pytest
import time_machine

from projects import services
from projects.models import Milestone, ProgressUpdate
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 9, 1)
NOW = datetime.datetime(2026, 9, 1, 0, 0, tzinfo=datetime.UTC)  # 09:00 in Seoul


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def implementing(**fields):
    return ProjectFactory(status="in_implementation", ready_on=D(2025, 10, 1), **fields)


def post_update(project, date, health, narrative):
    return services.progress_update_create(project=project, date=date, health=health, narrative=narrative,
                                           today=TODAY)


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.label_for, self.inputs = Counter(), set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids[attrs["id"]] += 1
        if tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.inputs.append(attrs.get("id"))


def card(html: str) -> str:
    """The implementation card of the page."""
    match = re.search(r'<section class="card" id="implementation".*?</section>', html, re.S)
    assert match, "the implementation card is missing"
    return match.group(0)


def test_the_page_shows_latest_health_stale_marker_history_and_timeline(client, viewer):
    project = implementing(title="Coast guard training")
    post_update(project, D(2026, 4, 1), "on_track", "Course designed.")
    post_update(project, D(2026, 5, 20), "at_risk", "Trainers not yet named.")  # 104 days ago: stale
    services.milestone_create(project=project, title="Course designed", due_on=D(2026, 4, 1),
                              done_on=D(2026, 3, 30), today=TODAY)
    services.milestone_create(project=project, title="Trainers named", due_on=D(2026, 8, 15), today=TODAY)
    services.milestone_create(project=project, title="First course", due_on=D(2026, 10, 1), today=TODAY)
    client.force_login(viewer)
    html = card(client.get(f"/projects/{project.pk}/").content.decode())

    latest = re.search(r'data-testid="latest-health">(.*?)</p>', html, re.S).group(1)
    assert 'data-health="at_risk"' in latest and "At risk" in latest and "104 days ago" in latest
    assert 'data-testid="stale"' in latest and "No update for more than 90 days." in latest
    # History, newest first.
    assert html.index("Trainers not yet named.") < html.index("Course designed.")
    timeline = re.search(r'data-testid="milestones".*?</ol>', html, re.S).group(0)
    states = re.findall(r'<li data-state="(\w+)"[^>]*>\s*<strong>([^<]+)</strong>', timeline)
    assert states == [("done", "Course designed"), ("overdue", "Trainers named"), ("upcoming", "First course")]
    assert "17 days overdue" in timeline and "in 30 days" in timeline
    # A viewer sees no form.
    assert "<form" not in html


def test_a_fresh_update_is_not_stale_and_a_project_without_one_is(client, viewer):
    fresh = implementing()
    post_update(fresh, D(2026, 8, 30), "on_track", "Fine.")
    client.force_login(viewer)
    html = card(client.get(f"/projects/{fresh.pk}/").content.decode())
    assert 'data-health="on_track"' in html and 'data-testid="stale"' not in html
    html = card(client.get(f"/projects/{implementing().pk}/").content.decode())
    assert "No progress update yet." in html and 'data-testid="stale"' in html


def test_an_editor_posts_an_update_and_sees_it(client, editor):
    project = implementing()
    client.force_login(editor)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert f'action="/projects/{project.pk}/progress/"' in page
    response = client.post(f"/projects/{project.pk}/progress/", {
        "progress-date": "2026-08-31", "progress-health": "off_track",
        "progress-narrative": "The partner postponed.", "progress-next_steps": "Agree a new date."})
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/#implementation"
    update = ProgressUpdate.objects.get()
    assert (update.health, update.created_by, update.next_steps) == ("off_track", editor, "Agree a new date.")
    html = card(client.get(response["Location"]).content.decode())
    assert 'data-health="off_track"' in html and "The partner postponed." in html


def test_bad_input_is_shown_beside_the_field_with_the_input_kept(client, editor):
    project = implementing()
    client.force_login(editor)
    response = client.post(f"/projects/{project.pk}/progress/", {
        "progress-date": "2026-09-02", "progress-health": "off_track", "progress-narrative": "Keep this text."})
    assert response.status_code == 400
    html = card(response.content.decode())
    errors = re.search(r'id="id_progress-date_error"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert "The date cannot be after today (2026-09-01)" in errors
    assert "Keep this text." in html  # the input is not lost
    assert re.search(r"<details[^>]*open", html)  # the form is open
    assert not ProgressUpdate.objects.exists()

    response = client.post(f"/projects/{project.pk}/progress/", {
        "progress-date": "2026-08-01", "progress-health": "green", "progress-narrative": ""})
    assert response.status_code == 400
    form = response.context["progress_form"]
    assert set(form.errors) == {"health", "narrative"}


def test_posting_on_a_project_not_in_implementation_says_why(client, editor):
    project = ProjectFactory(status="concept")
    client.force_login(editor)
    page = card(client.get(f"/projects/{project.pk}/").content.decode())
    assert "Progress updates begin when the project is in implementation." in page
    assert "/progress/" not in page  # no form offered
    response = client.post(f"/projects/{project.pk}/progress/", {
        "progress-date": "2026-08-01", "progress-health": "on_track", "progress-narrative": "Early."})
    assert response.status_code == 400
    assert "Progress is reported on a project in implementation" in response.content.decode()
    assert not ProgressUpdate.objects.exists()


def test_a_viewer_cannot_post_an_update_or_a_milestone_or_mark_one_done(client, viewer):
    project = implementing()
    milestone = services.milestone_create(project=project, title="M", due_on=D(2026, 8, 1), today=TODAY)
    client.force_login(viewer)
    assert client.post(f"/projects/{project.pk}/progress/", {
        "progress-date": "2026-08-01", "progress-health": "on_track", "progress-narrative": "X"}).status_code == 403
    assert client.post(f"/projects/{project.pk}/milestones/", {
        "milestone-title": "New", "milestone-due_on": "2026-10-01"}).status_code == 403
    assert client.post(f"/projects/milestones/{milestone.pk}/done/", {"version": 1}).status_code == 403
    assert not ProgressUpdate.objects.exists()
    assert Milestone.objects.get().done_on is None and Milestone.objects.count() == 1


def test_adding_a_milestone_before_the_start_is_refused_beside_the_due_date(client, editor):
    project = implementing(start_date=D(2026, 3, 1))
    client.force_login(editor)
    response = client.post(f"/projects/{project.pk}/milestones/", {
        "milestone-title": "Kick-off", "milestone-due_on": "2026-02-01"})
    assert response.status_code == 400
    html = card(response.content.decode())
    errors = re.search(r'id="id_milestone-due_on_error"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert "before the project&#x27;s start (2026-03-01)" in errors
    assert 'value="Kick-off"' in html
    response = client.post(f"/projects/{project.pk}/milestones/", {
        "milestone-title": "Kick-off", "milestone-due_on": "2026-03-02"})
    assert response.status_code == 302
    assert Milestone.objects.get().created_by == editor


def test_mark_a_milestone_done_from_the_timeline(client, editor):
    project = implementing()
    milestone = services.milestone_create(project=project, title="Trainers named", due_on=D(2026, 8, 15),
                                          today=TODAY)
    client.force_login(editor)
    html = card(client.get(f"/projects/{project.pk}/").content.decode())
    assert f'action="/projects/milestones/{milestone.pk}/done/"' in html
    stale = client.post(f"/projects/milestones/{milestone.pk}/done/", {"version": 5}, follow=True)
    assert "changed while you were looking at it" in stale.content.decode()
    assert Milestone.objects.get().done_on is None
    response = client.post(f"/projects/milestones/{milestone.pk}/done/", {"version": 1}, follow=True)
    assert "Milestone “Trainers named” marked done." in response.content.decode()
    assert Milestone.objects.get().done_on == TODAY
    html = card(response.content.decode())
    assert re.search(r'<li data-state="done"[^>]*>\s*<strong>Trainers named</strong>', html)
    assert "/done/" not in html  # nothing left to mark


def test_the_page_has_unique_ids_and_a_label_for_every_field(client, editor):
    project = implementing()
    services.milestone_create(project=project, title="M", due_on=D(2026, 8, 1), today=TODAY)
    client.force_login(editor)
    parser = _Ids()
    parser.feed(client.get(f"/projects/{project.pk}/").content.decode())
    assert [i for i, n in parser.ids.items() if n > 1] == []
    mine = [i for i in parser.inputs if i and i.startswith(("id_progress-", "id_milestone-"))]
    assert sorted(mine) == ["id_milestone-due_on", "id_milestone-title", "id_progress-date", "id_progress-health",
                            "id_progress-narrative", "id_progress-next_steps"]
    assert set(mine) <= parser.label_for


def test_the_card_is_in_korean_for_korean_readers(client, viewer):
    project = implementing()
    post_update(project, D(2026, 8, 30), "on_track", "Fine.")
    client.force_login(viewer)
    html = card(client.get(f"/projects/{project.pk}/", HTTP_ACCEPT_LANGUAGE="ko").content.decode())
    assert "마일스톤" in html


def test_the_page_costs_the_same_queries_with_many_updates_and_milestones(client, viewer,
                                                                          django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    project = implementing()
    post_update(project, D(2026, 8, 1), "on_track", "One.")
    services.milestone_create(project=project, title="M", due_on=D(2026, 8, 1), today=TODAY)
    client.force_login(viewer)
    client.get(f"/projects/{project.pk}/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/projects/{project.pk}/")
    ProgressUpdate.objects.bulk_create(ProgressUpdate(project=project, date=D(2026, 1, 1) + datetime.timedelta(
        days=n % 200), health="at_risk", narrative="More.") for n in range(100))
    Milestone.objects.bulk_create(Milestone(project=project, title=f"M{n}", due_on=D(2026, 1, 1)) for n in range(100))
    with django_assert_num_queries(len(few)):
        client.get(f"/projects/{project.pk}/")

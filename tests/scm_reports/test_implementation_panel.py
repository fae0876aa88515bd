"""The dashboard's "projects in implementation" panel (issue 11): counts by
latest health, the projects listed, stale ones marked in text; the
dashboard's filters apply; the query count does not grow with the data."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import counts as dashboard_counts
from projects import services
from projects.models import CooperativeProject, ProgressUpdate
from tests.factories import ProjectFactory, area

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 9, 1)
NOW = datetime.datetime(2026, 9, 1, 0, 0, tzinfo=datetime.UTC)  # 09:00 in Seoul


def implementing(title, **fields):
    return ProjectFactory(title=title, status="in_implementation", ready_on=D(2025, 10, 1), **fields)


def post(project, days_ago, health):
    services.progress_update_create(project=project, date=TODAY - datetime.timedelta(days=days_ago), health=health,
                                    narrative="Report.", today=TODAY)


@pytest.fixture
def portfolio():
    post(implementing("Harbour radar", lead_side="us"), 10, "on_track")
    post(implementing("Patrol boats", lead_side="rok"), 5, "at_risk")
    post(implementing("Old survey", lead_side="rok"), 120, "at_risk")  # stale
    slipping = implementing("Fisheries data", lead_side="us")
    post(slipping, 30, "on_track")
    post(slipping, 2, "off_track")
    implementing("Just started", lead_side="joint")  # no update: stale
    ProjectFactory(title="Only a concept", status="concept")


def panel(client, user, **params):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        response = client.get("/", params)
    assert response.status_code == 200
    html = response.content.decode()
    match = re.search(r'<section class="card" id="implementation".*?</section>', html, re.S)
    assert match, "the panel is missing"
    return match.group(0)


def counts(html):
    return dict(re.findall(r'data-testid="health-count-(\w+)">(?:<[^>]+>)?(\d+)', html))


def listed(html, key):
    block = re.search(rf'data-testid="health-projects-{key}">(.*?)</ul>', html, re.S)
    if block is None:
        return []
    return re.findall(r'<li data-project="\d+"(?: data-stale="true")?><a [^>]*>([^<]+)</a>', block.group(1))


def test_the_panel_counts_and_lists_projects_by_latest_health_with_stale_ones_marked(client, viewer, portfolio):
    html = panel(client, viewer)
    assert counts(html) == {"off_track": "1", "at_risk": "2", "on_track": "1", "none": "1"}
    assert listed(html, "off_track") == ["Fisheries data"]
    assert listed(html, "at_risk") == ["Old survey", "Patrol boats"]  # the oldest update first
    assert listed(html, "none") == ["Just started"]
    assert "Only a concept" not in html
    assert "5 projects in implementation" in html
    # Stale: marked in text (a badge saying so), not by colour alone.
    assert "2 without an update for more than 90 days" in html
    stale_rows = re.findall(r'<li data-project="\d+" data-stale="true"><a [^>]*>([^<]+)</a>.*?</li>', html, re.S)
    assert sorted(stale_rows) == ["Just started", "Old survey"]
    for row in re.findall(r'<li data-project="\d+" data-stale="true">.*?</li>', html, re.S):
        assert ">Stale</span>" in row


def test_the_dashboard_keeps_unique_ids_with_the_panel(client, viewer, portfolio):
    from collections import Counter
    from html.parser import HTMLParser

    class Ids(HTMLParser):
        ids = Counter()

        def handle_starttag(self, tag, attrs):
            if dict(attrs).get("id"):
                self.ids[dict(attrs)["id"]] += 1

    client.force_login(viewer)
    with time_machine.travel(NOW, tick=False):
        parser = Ids()
        parser.feed(client.get("/").content.decode())
    assert parser.ids["h-implementation"] == 1
    assert [i for i, n in parser.ids.items() if n > 1] == []


def test_the_dashboard_filters_apply_to_the_panel(client, viewer, portfolio):
    html = panel(client, viewer, side="rok")
    assert counts(html) == {"off_track": "0", "at_risk": "2", "on_track": "0", "none": "0"}
    assert "2 projects in implementation" in html


def test_the_panel_says_so_when_nothing_is_in_implementation(client, viewer):
    html = panel(client, viewer)
    assert "No project is in implementation." in html


def test_the_panel_is_in_korean_for_korean_readers(client, viewer, portfolio):
    client.force_login(viewer)
    with time_machine.travel(NOW, tick=False):
        html = client.get("/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "이행 중인 프로젝트" in html and "오래됨" in html


def _bulk(count, start=0):
    projects = CooperativeProject.objects.bulk_create(
        CooperativeProject(title=f"Bulk {start + n}", priority_area=area(), lead_side="joint",
                           status="in_implementation", ready_on=D(2025, 10, 1)) for n in range(count))
    ProgressUpdate.objects.bulk_create(
        ProgressUpdate(project=p, date=TODAY - datetime.timedelta(days=n % 150), health=h, narrative="Bulk.")
        for n, p in enumerate(projects) for h in ("off_track", "on_track", "at_risk")[: 1 + n % 3])
    services.current_health_rebuild()  # bulk_create bypasses the services that keep the latest health
    dashboard_counts.rebuild()  # ... and the dashboard's summary rows


def test_the_dashboard_costs_the_same_queries_for_10_and_1000_projects_in_implementation(client, viewer):
    client.force_login(viewer)
    _bulk(10)
    with time_machine.travel(NOW, tick=False):
        client.get("/")
        with CaptureQueriesContext(connection) as few:
            small = client.get("/")
    _bulk(990, start=10)
    with time_machine.travel(NOW, tick=False):
        with CaptureQueriesContext(connection) as many:
            large = client.get("/")
    assert small.context["board"].implementation["total"] == 10
    assert large.context["board"].implementation["total"] == 1000
    assert len(many) == len(few)
    # A long group lists the first ones and links to the rest.
    assert "all projects in implementation" in large.content.decode()

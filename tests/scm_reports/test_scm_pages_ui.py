"""What a person notices on the dashboard's pipeline and the SCM pages (issue 12):
a re-rank says it was saved (a toast) or why not (next to the priority it was
about); /scm/ links each year to its report, key column first; the calendar
address reset asks first and says what it breaks; the areas × status view is
one table whose numbers link to the filtered list."""

import datetime
import json
import re

import pytest
import time_machine

from scm_reports.models import SCMCycle

pytestmark = pytest.mark.django_db

D = datetime.date
NOW = datetime.datetime(2026, 9, 1, 0, 0, tzinfo=datetime.UTC)


@pytest.fixture
def prioritized(make_project, advance):
    return advance(make_project(title="Patrol boat MRO"), "under_review", "prioritized")


def _toasts(response):
    return [m["message"] for m in json.loads(response["HX-Trigger"])["rcfToast"]["value"]]


def test_a_rerank_is_confirmed_by_a_toast(client, lead, prioritized):
    client.force_login(lead)
    response = client.post(f"/pipeline/{prioritized.pk}/priority/", {"priority": "1", "version": prioritized.version},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert _toasts(response) == ["Priority of “Patrol boat MRO” set to 1; the pipeline is re-ranked."]
    assert 'data-testid="pipeline"' in response.content.decode()


def test_a_refused_rerank_is_explained_in_the_row_it_was_made_in(client, lead, prioritized):
    client.force_login(lead)
    response = client.post(f"/pipeline/{prioritized.pk}/priority/",
                           {"priority": "2", "version": prioritized.version - 1}, HTTP_HX_REQUEST="true")
    # htmx swaps a 200 only: the refusal comes back as the re-rendered pipeline, the message in the row.
    assert response.status_code == 200 and "HX-Trigger" not in response
    html = response.content.decode()
    row = re.search(rf'<tr data-project="{prioritized.pk}" class="has-error">.*?</tr>\s*<tr class="row-error">.*?</tr>',
                    html, re.S)
    assert row, html
    assert f'aria-describedby="prio-error-{prioritized.pk}"' in row.group(0)
    assert f'id="prio-error-{prioritized.pk}" role="alert"' in row.group(0) and "changed meanwhile" in row.group(0)
    prioritized.refresh_from_db()
    assert prioritized.priority == 3


def test_without_javascript_a_refused_rerank_shows_the_whole_dashboard_with_the_message(client, lead, prioritized):
    client.force_login(lead)
    response = client.post(f"/pipeline/{prioritized.pk}/priority/", {"priority": "7", "version": prioritized.version})
    assert response.status_code == 400
    html = response.content.decode()
    assert "<h1>Priority dashboard</h1>" in html and f'id="prio-error-{prioritized.pk}"' in html


def test_the_scm_list_links_each_year_to_its_report_from_the_key_column(client, viewer):
    SCMCycle.objects.create(number=58, year=2026, meeting_date=D(2026, 11, 5), location="Washington")
    client.force_login(viewer)
    with time_machine.travel(NOW, tick=False):
        html = client.get("/scm/").content.decode()
    rows = re.findall(r'<tr data-year="(\d+)">\s*<td>[^<]+</td>\s*<th scope="row" class="scm-key"><a href="([^"]+)"',
                      html)
    assert rows and [int(year) for year, _ in rows] == sorted(SCMCycle.objects.values_list("year", flat=True),
                                                             reverse=True)
    assert all(href == f"/scm/{year}/report/" for year, href in rows)
    # It scrolls on its own in a keyboard-reachable region where it is wider than the window.
    assert 'class="table-wrap scm-wrap" role="region" aria-labelledby="scm-caption" tabindex="0"' in html


def test_the_calendar_address_reset_asks_first_and_says_what_it_breaks(client, viewer):
    client.force_login(viewer)
    html = client.get("/calendar/").content.decode()
    form = re.search(r'<form method="post" data-confirm="([^"]+)" data-testid="calendar-reset">', html)
    assert form, html
    assert "stops working at once" in form.group(1)
    assert "every calendar subscribed to it stops updating until you subscribe again" in form.group(1)
    korean = client.get("/calendar/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "새 주소로 다시 구독할 때까지 갱신되지 않습니다" in korean


def test_areas_by_status_is_one_table_with_a_badge_per_status_and_no_chart(client, viewer, prioritized):
    client.force_login(viewer)
    with time_machine.travel(NOW, tick=False):
        html = client.get("/").content.decode()
    matrix = html[html.index('<section class="card" aria-labelledby="h-matrix">'):]
    matrix = matrix[:matrix.index("</section>")]
    assert "<svg" not in matrix and matrix.count("<table") == 1
    assert 'role="region" aria-labelledby="h-matrix" tabindex="0"' in matrix
    head = matrix[matrix.index("<thead>"):matrix.index("</thead>")]
    assert re.findall(r'class="badge status-(\w+)"', head) == [
        "concept", "under_review", "prioritized", "ready", "presented", "in_implementation", "completed", "on_hold",
        "withdrawn"]
    assert 'href="/projects/?primary_area=maritime-security&amp;status=prioritized"' in matrix


def test_the_calendar_page_offers_a_webcal_link_to_the_same_address(client, viewer):
    client.force_login(viewer)
    response = client.get("/calendar/")
    https_url = response.context["feed_url"]
    webcal = re.search(r'<a class="button" href="([^"]+)" data-testid="webcal-link">', response.content.decode())
    assert webcal and https_url.startswith("http")
    assert webcal.group(1).replace("&amp;", "&") == "webcal://" + https_url.split("://", 1)[1]
    assert client.get(https_url.split("testserver", 1)[1]).status_code == 200  # the same feed

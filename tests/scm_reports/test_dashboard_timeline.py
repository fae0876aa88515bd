"""The dashboard's readiness timeline (issue 12): for each SCM year a person
reads the SCM date, the readiness deadline, the days left (or when it was met,
or that it was missed), the state, the at-risk window, and the projects that
count by name, or, when none does yet, the ones that could still count."""

import datetime
import re

import pytest
import time_machine

from projects.services import project_transition
from scm_reports.models import SCMCycle

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 9, 1)  # 64 days before the 58th SCM's deadline (4 Nov 2026); at risk since 6 Aug 2026
NOW = datetime.datetime(2026, 9, 1, 0, 0, tzinfo=datetime.UTC)  # 09:00 in Seoul


def _page(client, user, now=NOW, **headers):
    client.force_login(user)
    with time_machine.travel(now, tick=False):
        return client.get("/", **headers)


def _year(html, year):
    """The text of one year's entry on the timeline, tags removed, spaces collapsed."""
    match = re.search(rf'<li class="rt-year[^"]*" data-year="{year}".*?</li>\s*(?=<li class="rt-year|</ol>)',
                      html, re.S)
    assert match, f"no timeline entry for {year}"
    return match.group(0), " ".join(re.sub(r"<[^>]+>", " ", match.group(0)).split())


def test_a_covered_year_shows_its_scm_deadline_days_left_and_the_projects_by_name(
        client, viewer, scm_2026, ready_project):
    counting = ready_project(D(2026, 2, 10), title="Coast guard MDA training")
    html = _page(client, viewer).content.decode()
    entry, text = _year(html, 2026)
    assert 'data-state="covered"' in entry
    assert "58th SCM" in text and "Next SCM" in text
    assert "SCM 5 Nov 2026 · Washington" in text
    assert "Readiness deadline 4 Nov 2026" in text
    assert "64 days left" in text and "Met on 10 Feb 2026" in text
    assert "Covered" in text
    assert f'<a href="/projects/{counting.pk}/">Coast guard MDA training</a>' in entry
    assert "ready 10 Feb 2026" in text
    assert "at risk from 6 Aug 2026" in text  # the at-risk window, in words beside the drawing
    assert 'class="rt-risk"' in entry and 'class="rt-today"' in entry and 'class="rt-dot"' in entry
    assert 'href="/scm/2026/report/"' in entry


def test_an_at_risk_year_names_the_projects_that_could_still_count(client, viewer, lead, scm_2026, make_project,
                                                                   advance):
    waiting_ready = advance(make_project(title="Awaiting concurrence on ready"), "under_review", "prioritized")
    # Proposed by the U.S. lead; the ROK side has not answered.
    proposal = project_transition(project=waiting_ready, to="ready", by=lead, today=TODAY)
    assert proposal.__class__.__name__ == "Concurrence"
    advance(make_project(title="Prioritised only"), "under_review", "prioritized")
    advance(make_project(title="Still in review"), "under_review")
    html = _page(client, viewer).content.decode()
    entry, text = _year(html, 2026)
    assert 'data-state="at_risk"' in entry and "At risk" in text
    assert "64 days left" in text
    assert "Nothing counts yet. Could still count:" in text
    # The proposal awaiting concurrence first, then the prioritised ones; not what is only under review.
    assert text.index("Awaiting concurrence on ready") < text.index("Prioritised only")
    assert "Ready proposed, Awaiting ROK concurrence" in text and "Prioritised, priority 3" in text
    assert "Still in review" not in text


def test_a_missed_year_says_so_and_the_next_year_is_shown_before_its_scm_is_recorded(client, viewer, scm_2026):
    # Today: after the 58th SCM met, nothing was ever ready.
    html = _page(client, viewer, now=datetime.datetime(2026, 11, 20, 3, tzinfo=datetime.UTC)).content.decode()
    entry, text = _year(html, 2026)
    assert 'data-state="missed"' in entry
    assert "Missed: the deadline passed 16 days ago" in text and "No project was ready by the deadline." in text
    entry, text = _year(html, 2027)
    assert 'data-state="unscheduled"' in entry and "Next SCM" in text
    assert "Not recorded yet" in text and "/scm/2027/report/" not in entry  # no report page for it yet


def test_an_unscheduled_year_names_the_projects_waiting_for_its_scm(client, viewer, ready_project):
    waiting = ready_project(D(2026, 2, 1), title="Waiting for the SCM", today=D(2026, 3, 1))
    html = _page(client, viewer, now=datetime.datetime(2026, 3, 1, 3, tzinfo=datetime.UTC)).content.decode()
    entry, text = _year(html, 2026)
    assert "1 ready project is waiting for the 2026 SCM to be recorded." in text
    assert f'<a href="/projects/{waiting.pk}/">Waiting for the SCM</a>' in entry
    assert "Set when the SCM is recorded" in text


def test_the_timeline_is_a_list_not_a_picture_with_links_inside(client, viewer, scm_2026, ready_project):
    ready_project(D(2026, 2, 10))
    html = _page(client, viewer).content.decode()
    assert '<ol class="rt" data-testid="timeline">' in html
    # axe "nested-interactive": no link inside an image (role="img" SVG) anywhere on the dashboard.
    for svg in re.findall(r"<svg.*?</svg>", html, re.S):
        assert "<a " not in svg
    # The drawing is decoration: what it shows is written out.
    for bar in re.findall(r'<div class="rt-bar[^"]*"[^>]*>', html):
        assert 'aria-hidden="true"' in bar


def test_the_timeline_speaks_korean(client, viewer, scm_2026, ready_project):
    ready_project(D(2026, 2, 10))
    html = _page(client, viewer, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    entry, text = _year(html, 2026)
    assert "제58차 SCM" in text and "다음 SCM" in text and "64일 남음" in text
    assert "준비 기한 2026년 11월 4일" in text and "2026년 8월 6일 부터 위험으로 표시됩니다" in text


def test_the_readiness_figures_are_the_rules(client, viewer, scm_2026, ready_project):
    """The timeline adds names, never its own reading of the rule."""
    from scm_reports.selectors import readiness_by_year

    ready_project(D(2026, 2, 10))
    ready_project(D(2025, 11, 3), title="On the 57th deadline day")
    board = _page(client, viewer).context["board"]
    rule = {r.year: r for r in readiness_by_year(today=TODAY, with_project_ids=True)}
    for item in board.timeline:
        mine, theirs = item.readiness.as_dict(), rule[item.year].as_dict()
        assert {k: v for k, v in mine.items() if k != "counting_project_ids"} == \
            {k: v for k, v in theirs.items() if k != "counting_project_ids"}
        assert [p.pk for p in item.projects] == rule[item.year].counting_project_ids[:5]
    assert SCMCycle.objects.filter(year=2025).exists() and {t.year for t in board.timeline} == {2025, 2026}


def test_scms_recorded_far_ahead_stay_on_the_cycle_list_not_the_timeline(client, viewer, scm_2026):
    # An office that records the next decades of SCMs: the dashboard draws last year to two years
    # ahead (the page costs the same with 3 cycles or 60); "All SCM years" lists the rest.
    for year in range(2027, 2040):
        SCMCycle.objects.create(year=year, number=31 + year - 1968, meeting_date=D(year, 10, 20), location="Seoul")
    html = _page(client, viewer).content.decode()
    drawn = [int(y) for y in re.findall(r'<li class="rt-year[^"]*" data-year="(\d+)"', html)]
    assert drawn == [2025, 2026, 2027, 2028]
    assert 'href="/scm/"' in html  # "All SCM years"
    cycles = client.get("/scm/").content.decode()
    assert "2039" in cycles

"""Issue 14: the dashboard renders each panel once per state of what it shows
and reuses it (scm_reports/templatetags/dashboard_panels.py). A reader never
sees a stale figure: every change through the services shows on the next
view, equal to a count made here from scratch; each language, each reader's
permissions and each lead POC's CSRF token get their own page; and the page
does not grow with the data."""

import datetime
import re
from collections import Counter

import pytest
import time_machine
from django.conf import settings
from django.core.cache import caches
from django.test import Client
from django.utils import translation

from contacts.services import poc_update
from projects.models import CooperativeProject
from projects.services import project_restore, project_soft_delete, project_transition, project_update
from rcf.models import PartnerCountry
from scm_reports.dashboard import fingerprint
from tests.factories import area, country

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 9, 1)
NOW = datetime.datetime(2026, 9, 1, 0, 0, tzinfo=datetime.UTC)
PANEL_TEMPLATES = {"scm_reports/_pipeline.html", "scm_reports/_implementation_panel.html",
                   "scm_reports/_resource_totals.html"}
TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value=")([^"]+)(")|("X-CSRFToken": ")([^"]+)(")')


@pytest.fixture(autouse=True)
def _no_panels_yet():
    """Panels other tests drew (of the same data: the same keys) would be served here."""
    caches["panels"].clear()


@pytest.fixture
def data(make_project, advance, lead, rok_lead, scm_2026):
    return {
        "review": advance(make_project(title="Harbour radar", priority_area=area("maritime-security"),
                                       partner_countries=[country("PH")]), "under_review"),
        "prioritised": advance(make_project(title="Coast guard school", partner_countries=[country("VN")]),
                               "under_review", "prioritized"),
        "concept": make_project(title="Idea", lead_side="us", partner_countries=[country("FJ")]),
    }


def _get(client, user=None, **params):
    if user is not None:
        client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        response = client.get("/", params)
    assert response.status_code == 200
    return response


def _page(response) -> str:
    """The page with its CSRF tokens (new each request) made equal."""
    return TOKEN.sub(lambda m: (m[1] or m[4]) + "TOKEN" + (m[3] or m[6]), response.content.decode())


def _matrix(html: str) -> Counter:
    return Counter({(a, s): int(n) for a, s, n in re.findall(r'data-testid="cell-([\w-]+)-(\w+)">(\d+)</a>', html)})


def _coverage(html: str) -> dict:
    return {iso2: int(n) for iso2, n in re.findall(r'data-iso2="(\w\w)" data-count="(\d+)"', html)}


def _from_scratch() -> tuple[Counter, dict]:
    """The matrix and the partner coverage counted here from the live projects."""
    live = CooperativeProject.objects.all()
    matrix = Counter((p.priority_area.code, p.status) for p in live.select_related("priority_area"))
    active = ("concept", "under_review", "prioritized", "ready", "presented", "in_implementation")
    coverage = {c.iso2: 0 for c in PartnerCountry.objects.filter(group__in=("asean", "pacific_islands"))}
    for project in live.filter(status__in=active).prefetch_related("partner_countries"):
        for c in project.partner_countries.all():
            if c.iso2 in coverage:
                coverage[c.iso2] += 1
    return matrix, coverage


def _pipeline_titles(html: str) -> list[str]:
    section = html.split('data-testid="pipeline"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<td class="pl-title"><a href="[^"]+">([^<]+)</a>', section)


def test_an_unchanged_dashboard_is_served_from_its_rendered_panels(client, viewer, data):
    first = _get(client, viewer)
    again = _get(client)
    assert PANEL_TEMPLATES <= {t.name for t in first.templates}
    # The second view renders none of the panels' templates, and the reader sees the very same page.
    assert not PANEL_TEMPLATES & {t.name for t in again.templates}
    assert _page(again) == _page(first)
    assert "Harbour radar" in _page(again)


def test_every_change_through_the_services_shows_on_the_next_view(client, viewer, lead, us_lead_poc, data, advance,
                                                                     make_project):
    def check(step):
        html = _page(_get(client, viewer))
        assert _page(_get(client)) == html, step  # served again from the panels: the same page
        matrix, coverage = _from_scratch()
        assert _matrix(html) == +matrix, step
        assert _coverage(html) == coverage, step
        return html

    check("start")
    made = make_project(title="New one", priority_area=area("maritime-security"), partner_countries=[country("TO")])
    check("created")
    advance(made, "under_review")
    assert "New one" in _pipeline_titles(check("transition"))
    project_update(project=CooperativeProject.objects.get(pk=made.pk), by=lead, title="Renamed one")
    titles = _pipeline_titles(check("edited"))
    assert "Renamed one" in titles and "New one" not in titles
    project_update(project=CooperativeProject.objects.get(pk=made.pk), by=lead, partner_countries=[country("WS")])
    check("partner countries changed")
    poc_update(poc=us_lead_poc, full_name="Dana Renamed")
    assert "Dana Renamed" in check("the lead POC renamed")
    project_soft_delete(project=CooperativeProject.objects.get(pk=made.pk), by=lead)
    assert "Renamed one" not in _pipeline_titles(check("deleted"))
    project_restore(project=CooperativeProject.all_objects.get(pk=made.pk), by=None)
    assert "Renamed one" in _pipeline_titles(check("restored"))
    project_transition(project=CooperativeProject.objects.get(pk=data["review"].pk), to="withdrawn", by=lead)
    assert "Harbour radar" not in _pipeline_titles(check("withdrawn"))


def test_each_language_gets_its_own_panels(client, viewer, data):
    heading = "Priority areas × status"
    with translation.override("ko"):
        korean = translation.gettext(heading)
    assert korean != heading
    english = _page(_get(client, viewer))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    hangul = _page(_get(client))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english_again = _page(_get(client))
    assert heading in english and korean not in english
    assert korean in hangul and heading not in hangul
    assert english_again == english


def test_a_lead_poc_gets_the_shared_pipeline_with_its_own_csrf_token_and_can_rerank(viewer, lead, rok_lead, data):
    viewer_page = _page(_get(Client(), viewer))
    assert "prio-" not in viewer_page  # a viewer has no priority forms
    for user in (lead, rok_lead, lead):  # the second and third views come from the cache
        client = Client(enforce_csrf_checks=True)
        response = _get(client, user)
        html = response.content.decode()
        tokens = {m[2] or m[5] for m in TOKEN.finditer(html)}
        assert len(tokens) == 1 and "dash-panel" not in html  # the request's own token, everywhere on the page
        assert f'id="prio-{data["prioritised"].pk}"' in html
        assert _page(_get(Client(), viewer)) == viewer_page  # and still none for a viewer
    project = data["prioritised"]
    with time_machine.travel(NOW, tick=False):
        answer = client.post(f"/pipeline/{project.pk}/priority/", {
            "csrfmiddlewaretoken": tokens.pop(), "priority": "2", "version": project.version, "query": ""})
    assert answer.status_code == 302
    project.refresh_from_db()
    assert project.priority == 2


def test_the_page_does_not_grow_with_the_data(client, viewer, data, make_project):
    small = len(_page(_get(client, viewer)))
    for i in range(60):
        make_project(title=f"Concept {i:02d}", partner_countries=[country("PH")])
    large = _page(_get(client))
    # 60 more projects change figures (a few digits), never add rows: the lists are bounded.
    assert len(large) - small < 200
    assert "Concept 00" not in large


def test_the_fingerprint_follows_every_value_and_refuses_an_unread_queryset(data):
    project = CooperativeProject.objects.select_related("us_lead_poc").get(pk=data["review"].pk)
    before = fingerprint([project], {"n": 1})
    assert fingerprint([project], {"n": 1}) == before
    assert fingerprint([project], {"n": 2}) != before
    project.us_lead_poc.full_name = "Someone else"
    assert fingerprint([project], {"n": 1}) != before
    with pytest.raises(TypeError):
        fingerprint(CooperativeProject.objects.all())
    with pytest.raises(TypeError):
        fingerprint(object())


def test_a_cache_that_is_down_costs_the_panels_not_the_page(client, viewer, data, settings):
    down = {"BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
    settings.CACHES = {**settings.CACHES, "panels": down}
    page = _page(_get(client, viewer))
    assert "Harbour radar" in _pipeline_titles(page)
    assert _matrix(page) == +_from_scratch()[0]


def test_panels_never_push_out_the_rate_limit_counts(client, viewer, data):
    """The drawings live in a cache of their own: a full panel cache must not evict the login and API
    rate-limit counts of "default" (a local-memory cache culls entries when full)."""
    from django.conf import settings

    assert settings.CACHES["panels"] != settings.CACHES["default"]  # another LOCATION or KEY_PREFIX
    caches["panels"].clear()
    caches["default"].clear()
    caches["default"].set("a-rate-limit-count", 7)
    _get(client, viewer)
    panels = caches["panels"]
    stored = panels._cache if hasattr(panels, "_cache") else panels._cache.get_client().keys("rcf-panels:*")
    assert stored  # the page stored its panels there
    assert caches["default"].get("a-rate-limit-count") == 7


def _panel_keys() -> set:
    panels = caches["panels"]
    if hasattr(panels, "_cache") and isinstance(panels._cache, dict):  # local memory
        return set(panels._cache)
    return set(panels._cache.get_client().keys("rcf-panels:*"))


def test_made_up_parameters_do_not_multiply_a_lead_pocs_cached_pipeline(client, lead, data):
    """The priority forms carry the page's filters; made from the filters as read (not the raw query
    string), so `?x=1`, `?x=2`… cannot each store another copy of the panel (a cache filled at will)."""
    caches["panels"].clear()
    first = _get(client, lead, x="1", area="maritime-security")
    stored = _panel_keys()
    assert stored
    for n in range(2, 6):
        _get(client, lead, x=str(n), area="maritime-security", utm=f"campaign-{n}")
    assert _panel_keys() == stored
    # The forms still send the filter back (and only it).
    assert 'name="query" value="area=maritime-security"' in first.content.decode()

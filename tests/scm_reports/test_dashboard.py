"""The POC dashboard: every figure checked against a count made here, in the
test, from the same data (boundary dates included)."""

import datetime
from collections import Counter

import pytest
import time_machine

from projects.models import CooperativeProject, ProjectStatus
from projects.services import concurrence_concur, project_soft_delete, project_transition
from rcf.models import PartnerCountry
from scm_reports.models import ReadinessFlag, SCMCycle
from scm_reports.services import readiness_flags_sync
from tests.factories import area, country

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 9, 1)  # 64 days before the 58th SCM's deadline (2026-11-04)
# 09:00 in Seoul on TODAY
NOW = datetime.datetime(2026, 9, 1, 0, 0, tzinfo=datetime.UTC)


@pytest.fixture
def data(make_project, advance, lead, rok_lead):
    SCMCycle.objects.create(number=58, year=2026, meeting_date=D(2026, 11, 5), location="Washington")
    made = {
        # ready on the 57th SCM's deadline day: counts for 2025
        "deadline_day": advance(make_project(title="Deadline day", partner_countries=[country("PH")]),
                                "under_review", "prioritized", "ready", ready_on=D(2025, 11, 3), today=TODAY),
        # ready on the 57th SCM's meeting day: counts for 2026
        "meeting_day": advance(make_project(title="Meeting day", priority_area=area("capacity-building"),
                                            partner_countries=[country("FJ"), country("TL")]),
                               "under_review", "prioritized", "ready", ready_on=D(2025, 11, 4), today=TODAY),
        "review": advance(make_project(title="In review", priority_area=area("information-sharing"),
                                       partner_countries=[country("VN")]), "under_review"),
        "prio1": advance(make_project(title="Top priority", partner_countries=[country("ID")]), "under_review"),
        "concept": make_project(title="Idea", lead_side="us", partner_countries=[country("TO")]),
        "withdrawn": advance(make_project(title="Dropped", partner_countries=[country("WS")]), "withdrawn"),
        "deleted": make_project(title="Deleted one", partner_countries=[country("KH")]),
    }
    # Prioritised jointly: proposed by the U.S. lead, concurred with by the ROK lead.
    proposal = project_transition(project=made["prio1"], to="prioritized", by=lead, priority=1)
    concurrence_concur(concurrence=proposal, by=rok_lead)
    made["prio1"].refresh_from_db()
    project_soft_delete(project=made["deleted"], by=lead)
    readiness_flags_sync(today=TODAY)
    return made


def _get(client, user, path="/", **params):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get(path, params)


def test_next_scm_card_matches_an_independent_count(client, viewer, data):
    board = _get(client, viewer).context["board"]
    card = board.next_scm
    live = CooperativeProject.objects.all()
    # independent: the 58th SCM's window is (2025-11-03, 2026-11-04]
    expected_counting = sum(1 for p in live if p.ready_on and D(2025, 11, 3) < p.ready_on <= D(2026, 11, 4))
    assert card.cycle.number == 58
    assert card.deadline == D(2026, 11, 4)
    assert card.days_left == (D(2026, 11, 4) - TODAY).days == 64
    assert card.counting_projects == expected_counting == 1
    assert card.state == "covered"
    assert {(f.year, f.kind) for f in board.open_flags} == set(
        ReadinessFlag.objects.filter(resolved_at__isnull=True).values_list("year", "kind"))


def test_timeline_has_one_cell_per_year_from_2025(client, viewer, data):
    page = _get(client, viewer)
    states = {r.year: r.state for r in page.context["board"].readiness}
    assert states == {2025: "covered", 2026: "covered"}
    html = page.content.decode()
    assert 'href="/scm/2025/report/"' in html and 'href="/scm/2026/report/"' in html


def test_area_status_matrix_matches_an_independent_count(client, viewer, data):
    matrix = _get(client, viewer).context["board"].matrix
    expected = Counter((p.priority_area.code, p.status) for p in CooperativeProject.objects.all())
    got = {(row["area"].code, cell["status"].value): cell["count"] for row in matrix["rows"] for cell in row["cells"]}
    assert {k: v for k, v in got.items() if v} == dict(expected)
    assert matrix["total"] == CooperativeProject.objects.count() == 6  # the deleted one is not there


def test_matrix_cells_link_to_the_list_filtered_the_same_way(client, viewer, data, make_project, advance):
    # Touches maritime security only as another area: not in the maritime row of the matrix,
    # so not behind that cell's link either.
    advance(make_project(title="Cyber, also maritime", priority_area=area("technical-cooperation"),
                         additional_areas=[area("maritime-security")]),
            "under_review", "prioritized", "ready", ready_on=D(2026, 1, 5), today=TODAY)
    board = _get(client, viewer).context["board"]
    maritime = next(r for r in board.matrix["rows"] if r["area"].code == "maritime-security")
    assert next(c["count"] for c in maritime["cells"] if c["status"] == "ready") == 1
    html = _get(client, viewer).content.decode()
    link = "/projects/?primary_area=maritime-security&amp;status=ready"
    assert f'href="{link}"' in html
    response = _get(client, viewer, "/projects/", primary_area="maritime-security", status="ready")
    assert [p.title for p in response.context["projects"]] == ["Deadline day"]
    # With the dashboard's own filters, the link carries them too.
    html = _get(client, viewer, side="joint", year="2025").content.decode()
    assert 'href="/projects/?primary_area=maritime-security&amp;status=ready&amp;lead_side=joint&amp;year=2025"' \
        in html
    response = _get(client, viewer, "/projects/", primary_area="maritime-security", status="ready",
                    lead_side="joint", year="2025")
    assert [p.title for p in response.context["projects"]] == ["Deadline day"]


def test_pipeline_ranks_prioritised_first_with_days_in_stage(client, viewer, data):
    rows = _get(client, viewer).context["board"].pipeline["projects"]
    assert [p.title for p in rows] == ["Top priority", "In review"]
    assert all(p.days_in_stage == (TODAY - p.transitions.first().at.date()).days for p in rows)


def test_partner_coverage_counts_active_projects_and_lists_the_uncovered_first(client, viewer, data):
    coverage = _get(client, viewer).context["board"].coverage
    active = [p for p in CooperativeProject.objects.all() if p.status not in ("withdrawn", "completed", "on_hold")]
    expected = Counter(c.iso2 for p in active for c in p.partner_countries.all())
    got = {c.iso2: c.active_projects for group in coverage for c in group["countries"]}
    focus = PartnerCountry.objects.filter(group__in=["asean", "pacific_islands"])
    assert got == {c.iso2: expected.get(c.iso2, 0) for c in focus if c.is_member_on(TODAY)}
    assert got["WS"] == 0 and got["KH"] == 0  # withdrawn and deleted projects do not count
    asean = next(g for g in coverage if g["group"] == "asean")
    assert asean["countries"][0].active_projects == 0  # the uncovered stand out, first
    assert asean["uncovered"] == sum(1 for c in focus if c.group == "asean" and not expected.get(c.iso2))


def test_filters_narrow_the_matrix_pipeline_and_coverage(client, viewer, data):
    board = _get(client, viewer, side="us").context["board"]
    assert board.matrix["total"] == 1 and board.pipeline["projects"] == []
    board = _get(client, viewer, area="information-sharing").context["board"]
    assert [p.title for p in board.pipeline["projects"]] == ["In review"]
    board = _get(client, viewer, year="2026").context["board"]
    assert board.matrix["total"] == 1  # "Meeting day" counts for 2026
    response = _get(client, viewer, year="x", side="nowhere")
    assert response.status_code == 200
    assert "Ignored the unknown" in response.content.decode()


@pytest.mark.parametrize("year", ["3000000000", "9223372036854775808", "-5", "99999"])
def test_a_year_no_scm_can_have_is_ignored_with_a_notice_not_an_error(client, viewer, data, year):
    # Beyond what the database's integer holds, the ORM knows no row can match and says so with an
    # exception rather than a query: the page ignores the year and says so, never a 500.
    response = _get(client, viewer, year=year)
    assert response.status_code == 200
    assert "Ignored the unknown" in response.content.decode()
    assert response.context["board"].matrix["total"] == _get(client, viewer).context["board"].matrix["total"]


# 12, plus (issue 10) one to find the signed-in user's lead POC for those who may change projects, and one
# for a lead POC's "awaiting your concurrence" panel; (issue 11) one for the resource totals and one for the
# projects in implementation by health; (issue 12) two for the readiness timeline's project names; (issue 14)
# three more, each of a bounded size whatever the data: the days projects became ready (the timeline's dots),
# the prioritised total (summary rows) beside the candidates' names, and the implementation panel's names
# beside its counts.
@pytest.mark.parametrize("role,budget", [("viewer", 19), ("editor", 20), ("lead", 21), ("administrator", 20)])
def test_the_dashboard_renders_for_every_role_within_its_query_budget(client, request, data, role, budget,
                                                                     django_assert_max_num_queries):
    user = request.getfixturevalue(role)
    client.force_login(user)
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(budget):
        response = client.get("/")
    assert response.status_code == 200


def test_the_query_count_does_not_grow_with_the_data(client, viewer, data, django_assert_num_queries,
                                                     us_lead_poc, rok_lead_poc):
    client.force_login(viewer)
    client.get("/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        client.get("/")
    projects = CooperativeProject.objects.bulk_create([
        CooperativeProject(title=f"Bulk {i}", priority_area=area(), lead_side="rok", status="under_review",
                           us_lead_poc=us_lead_poc, rok_lead_poc=rok_lead_poc) for i in range(300)])
    through = CooperativeProject.partner_countries.through
    through.objects.bulk_create([through(cooperativeproject=p, partnercountry=country("MY")) for p in projects])
    with django_assert_num_queries(len(before.captured_queries)):
        client.get("/")


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_lead_poc_changes_priority_in_place_and_the_pipeline_is_reranked(client, lead, editor, data, advance):
    review = data["review"]
    advance(review, "prioritized")  # priority 3, the ROK lead concurring
    review.refresh_from_db()
    assert (review.status, review.priority) == ("prioritized", 3)
    client.force_login(lead)
    response = client.post(f"/pipeline/{review.pk}/priority/", {"priority": "1", "version": review.version},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    review.refresh_from_db()
    assert review.priority == 1
    titles = [p.title for p in response.context["pipeline"]["projects"]]
    assert titles.index("In review") < titles.index("Top priority") or titles[0] == "In review"
    # a stale version is refused with a message, nothing changes
    response = client.post(f"/pipeline/{review.pk}/priority/", {"priority": "4", "version": review.version - 1})
    assert response.status_code == 400 and "changed meanwhile" in response.content.decode()
    review.refresh_from_db()
    assert review.priority == 1
    response = client.post(f"/pipeline/{review.pk}/priority/", {"priority": "9", "version": review.version})
    assert response.status_code == 400 and "from 1 (highest) to 5" in response.content.decode()
    client.force_login(editor)
    assert client.post(f"/pipeline/{review.pk}/priority/", {"priority": "2"}).status_code == 403


def test_a_title_with_a_script_is_escaped_on_the_dashboard_and_report(client, viewer, make_project, advance):
    xss = "<script>alert(1)</script>"
    advance(make_project(title=xss), "under_review")
    advance(make_project(title=xss + " ready"), "under_review", "prioritized", "ready", ready_on=D(2025, 6, 1),
            today=TODAY)
    for path in ("/", "/scm/2025/report/"):
        html = _get(client, viewer, path).content.decode()
        assert xss not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_project_status_labels_cover_every_status(client, viewer, data):
    matrix = _get(client, viewer).context["board"].matrix
    assert [s.value for s in matrix["statuses"]] == ProjectStatus.values


def test_reranking_in_place_keeps_the_dashboard_filters(client, lead, data, make_project, advance):
    advance(make_project(title="US-led idea", lead_side="us"), "under_review")
    client.force_login(lead)
    prio = data["prio1"]
    response = client.post(f"/pipeline/{prio.pk}/priority/",
                           {"priority": "2", "version": prio.version, "query": "side=us"}, HTTP_HX_REQUEST="true")
    assert [p.title for p in response.context["pipeline"]["projects"]] == ["US-led idea"]
    # Without JavaScript (the "Set" button) the saved change returns to the dashboard, filters kept.
    prio.refresh_from_db()
    response = client.post(f"/pipeline/{prio.pk}/priority/",
                           {"priority": "1", "version": prio.version, "query": "side=us"})
    assert response.status_code == 302 and response["Location"] == "/?side=us#pipeline"

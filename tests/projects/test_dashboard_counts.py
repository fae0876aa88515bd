"""The dashboard's summary rows (projects.counts, issue 14) are never stale.

A project is changed in every way the services allow and, after each change,
every figure the dashboard shows (with and without its filters) is compared
with a count made here from the projects, and ``counts.drift()`` (a count from
scratch of every stored row) must be empty. Every public function of
``projects.services`` and ``scm_reports.services`` must be exercised here or
listed as moving no figure: a new service fails this test until classified.
"""

import csv
import datetime
import inspect
import io
from collections import Counter
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import counts, services
from projects import selectors as project_selectors
from projects.imports import ProjectImporter
from projects.models import CooperativeProject, DashboardCount, ProgressUpdate, ResourceLine
from rcf.imports import run_import
from rcf.models import FOCUS_GROUPS, PartnerCountry
from scm_reports import services as scm_services
from scm_reports.dashboard import DashboardFilters, dashboard, filtered_projects
from scm_reports.models import SCMCycle
from scm_reports.selectors import _windows, readiness_by_year
from tests.factories import area, country

pytestmark = pytest.mark.django_db(transaction=False)

D = datetime.date
TODAY = D(2026, 9, 1)
NOW = datetime.datetime(2026, 9, 1, 3, 0, tzinfo=datetime.UTC)

# Public service functions that never move a dashboard figure (checks, reads, records the figures do not
# count: engagements, actions, milestones, documents, reminders, proposals that do not step, flags, notices,
# calendars, roles, presentations' notes and soft deletes, which leave the project's status as it is).
MOVES_NO_FIGURE = {
    "projects.services": {
        "action_cancel", "action_check", "action_create", "action_delete", "action_mark_done",
        "action_reminders_send", "action_reopen", "action_restore", "action_update", "actions_overdue_announce",
        "allowed_transitions", "can_act_as_lead", "can_take_step", "concurrence_decline", "concurrence_withdraw",
        "current_health_rebuild", "current_health_refresh", "document_delete", "document_restore",
        "document_update", "document_upload", "engagement_create", "engagement_delete", "engagement_link_errors",
        "engagement_restore", "engagement_update", "is_joint_step", "may_plan_milestones", "may_report_progress",
        "milestone_check", "milestone_create", "milestone_delete", "milestone_mark_done", "milestone_restore",
        "milestone_update", "open_proposal", "progress_update_check", "proposal_conflict",
        "ready_requirements_errors", "reminder_language", "resource_line_check", "transition_problems",
    },
    "scm_reports.services": {
        "calendar_token_for", "calendar_token_rotate", "calendar_user", "concurrence_reminders_due",
        "concurrence_reminders_send", "demo_logins_ensure", "flags_awaiting_notice", "notice_language",
        "presentation_delete", "presentation_restore", "presentation_update", "readiness_flags_sync",
        "readiness_notice_recipients", "readiness_notice_send", "roles_ensure", "weekly_digest_recipients",
        "weekly_digest_send",
        # Writes only through the project services exercised here (project_create, project_transition, ...).
        "sample_data_load",
        # The context manager the cycle services and the admin use (exercised through them).
        "scm_windows_moving",
    },
}


def _public(module) -> set[str]:
    return {name for name, fn in inspect.getmembers(module, inspect.isfunction)
            if fn.__module__ == module.__name__ and not name.startswith("_")}


# --- Independent counts: the projects themselves, as the project list filters them --------------


def _independent(filters: DashboardFilters) -> dict:
    windows = _windows(list(SCMCycle.objects.order_by("year")))
    projects = list(filtered_projects(filters, windows).prefetch_related("partner_countries"))
    matrix = Counter((p.priority_area_id, p.status) for p in projects)
    active = {"concept", "under_review", "prioritized", "ready", "presented", "in_implementation"}
    coverage = Counter(c.pk for p in projects if p.status in active for c in p.partner_countries.all())
    threshold = project_selectors.stale_before(TODAY)
    health = {}
    for p in projects:
        if p.status != "in_implementation":
            continue
        latest = ProgressUpdate.objects.filter(project=p).order_by("-date", "-id").first()
        key = latest.health if latest else "none"
        row = health.setdefault(key, [0, 0])
        row[0] += 1
        row[1] += latest is None or latest.date < threshold
    lines = ResourceLine.objects.filter(project__in=[p.pk for p in projects])
    resources = {}
    for line in lines:
        row = resources.setdefault((line.side, line.kind, line.currency), [Decimal("0"), 0])
        row[0] += line.amount
        row[1] += 1
    return {"matrix": dict(matrix), "coverage": dict(coverage), "health": {k: tuple(v) for k, v in health.items()},
            "resources": {k: tuple(v) for k, v in resources.items()}}


def _shown(filters: DashboardFilters) -> dict:
    board = dashboard(today=TODAY, filters=filters)
    matrix = {(row["area"].pk, cell["status"].value): cell["count"]
              for row in board.matrix["rows"] for cell in row["cells"] if cell["count"]}
    coverage = {c.pk: c.active_projects for group in board.coverage for c in group["countries"] if c.active_projects}
    health = {g["key"]: (g["count"], g["stale"]) for g in board.implementation["groups"] if g["count"]}
    resources = {(r["side"], r["kind"], r["currency"]): (r["total"], r["lines"]) for r in board.resource_totals}
    return {"matrix": matrix, "coverage": coverage, "health": health, "resources": resources,
            "readiness": {r.year: r.counting_projects for r in board.readiness}}


def _filters() -> list[DashboardFilters]:
    """No filter, each filter alone (a side, an area touched as primary or other area, a year as target or
    SCM year) and combined."""
    return [
        DashboardFilters(),
        DashboardFilters(side="rok"),
        DashboardFilters(area=area("capacity-building")),
        DashboardFilters(year=2026),
        DashboardFilters(year=2027),
        DashboardFilters(side="joint", area=area("maritime-security"), year=2026),
    ]


def check(step: str) -> None:
    """Every stored row equals a count from scratch, and every figure the
    dashboard shows equals a count made here from the projects."""
    assert counts.drift() == [], f"summary rows drift after: {step}"
    independent_readiness = {r.year: r.counting_projects for r in readiness_by_year(today=TODAY)}
    covered = {c.pk for c in PartnerCountry.objects.filter(group__in=FOCUS_GROUPS) if c.is_member_on(TODAY)}
    for filters in _filters():
        shown, expected = _shown(filters), _independent(filters)
        expected["coverage"] = {k: v for k, v in expected["coverage"].items() if k in covered}
        expected["readiness"] = independent_readiness
        assert shown == expected, f"dashboard figures differ from a count from the projects after: {step} " \
                                  f"(filters {filters})"


class Scenario:
    """Calls services and records which, checking every figure after each."""

    def __init__(self):
        self.called: set[str] = set()

    def __call__(self, service, **kwargs):
        self.called.add(f"{service.__module__}.{service.__name__}")
        result = service(**kwargs)
        check(f"{service.__name__}({', '.join(sorted(kwargs))})")
        return result


def _csv(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode()


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_every_change_a_service_allows_keeps_every_figure_equal_to_a_count_from_scratch(
        frozen, lead, rok_lead, us_lead_poc, rok_lead_poc, settings, tmp_path):
    settings.RCF_IMPORT_DIR = str(tmp_path / "imports")
    run = Scenario()
    maritime, capacity, info = area("maritime-security"), area("capacity-building"), area("information-sharing")
    one = run(services.project_create, by=lead, title="Coast guard training", summary="Training.",
              priority_area=maritime, lead_side="us", us_lead_poc=us_lead_poc, rok_lead_poc=rok_lead_poc,
              partner_countries=[country("PH")], additional_areas=[capacity], target_year=2026)
    two = run(services.project_create, by=lead, title="Port data", summary="Data.", priority_area=info,
              lead_side="rok", us_lead_poc=us_lead_poc, rok_lead_poc=rok_lead_poc,
              partner_countries=[country("FJ"), country("TL")], target_year=2027)
    # Every counted field an edit can change: lead side, primary and other areas, countries, target year.
    one = run(services.project_update, project=one, by=lead, lead_side="joint", priority_area=capacity,
              additional_areas=[maritime, info], partner_countries=[country("VN"), country("PH")], target_year=2027)
    one = run(services.project_update, project=one, by=lead, target_year=None, additional_areas=[])
    # Through the lifecycle: a joint step proposed and concurred with, ready (counts for an SCM year), presented.
    one = run(services.project_transition, project=one, to="under_review", by=lead)
    proposal = run(services.project_transition, project=one, to="prioritized", by=lead, priority=2)
    run(services.concurrence_concur, concurrence=proposal, by=rok_lead, today=TODAY)
    one = CooperativeProject.objects.get(pk=one.pk)
    one = run(services.project_transition, project=one, to="ready", by=None, ready_on=D(2025, 11, 4), today=TODAY,
              joint_decision=True)
    two = run(services.project_transition, project=two, to="under_review", by=lead)
    two = run(services.project_transition, project=two, to="prioritized", by=None, priority=1, joint_decision=True)
    two = run(services.project_transition, project=two, to="ready", by=None, ready_on=D(2025, 11, 3), today=TODAY,
              joint_decision=True)
    # The SCM windows move: a cycle created, edited (its deadline), deleted and restored.
    cycle = run(scm_services.scm_cycle_create, number=58, year=2026, meeting_date=D(2026, 11, 5),
                location="Washington")
    cycle = run(scm_services.scm_cycle_update, cycle=cycle, readiness_deadline=D(2025, 11, 3))
    cycle = run(scm_services.scm_cycle_update, cycle=cycle, readiness_deadline=None)
    earlier = SCMCycle.objects.get(year=2025)
    run(scm_services.scm_cycle_update, cycle=earlier, readiness_deadline=D(2025, 11, 4))
    run(scm_services.scm_cycle_update, cycle=SCMCycle.objects.get(pk=earlier.pk), readiness_deadline=None)
    run(scm_services.scm_cycle_delete, cycle=cycle)
    run(scm_services.scm_cycle_restore, cycle=SCMCycle.all_objects.get(pk=cycle.pk))
    # Presented at the 57th SCM (met 2025-11-04) and taken into implementation.
    run(scm_services.presentation_record, project=CooperativeProject.objects.get(pk=two.pk),
        scm_cycle=SCMCycle.objects.get(year=2025), outcome="endorsed", by=None, today=TODAY)
    two = CooperativeProject.objects.get(pk=two.pk)
    if two.status != "in_implementation":
        two = run(services.project_transition, project=two, to="in_implementation", by=None, today=TODAY)
    # Progress updates: the latest health and its day (stale or not).
    update = run(services.progress_update_create, project=two, date=D(2026, 3, 1), health="at_risk",
                 narrative="Slow.", today=TODAY)
    run(services.progress_update_create, project=two, date=D(2026, 8, 20), health="on_track", narrative="Better.",
        today=TODAY)
    later = ProgressUpdate.objects.filter(project=two).order_by("-date").first()
    update = run(services.progress_update_update, update=update, health="off_track", date=D(2026, 8, 25),
                 today=TODAY)
    run(services.progress_update_delete, update=update)
    run(services.progress_update_restore, update=ProgressUpdate.all_objects.get(pk=update.pk))
    run(services.record_soft_delete, record=ProgressUpdate.objects.get(pk=later.pk))
    run(services.record_restore, record=ProgressUpdate.all_objects.get(pk=later.pk))
    # Resource lines: created, edited (amount, side, currency), deleted and restored.
    line = run(services.resource_line_create, project=one, side="us", kind="planned", amount="1500.50",
               currency="USD")
    run(services.resource_line_create, project=two, side="rok", kind="committed", amount="2000000", currency="KRW")
    line = run(services.resource_line_update, line=line, amount="99", side="rok", currency="KRW")
    run(services.resource_line_delete, line=line)
    run(services.resource_line_restore, line=ResourceLine.all_objects.get(pk=line.pk))
    # Later steps: on hold and back, completed.
    two = run(services.project_transition, project=CooperativeProject.objects.get(pk=two.pk), to="on_hold", by=None)
    two = run(services.project_transition, project=two, to="in_implementation", by=None)
    run(services.project_transition, project=two, to="completed", by=None)
    # Soft delete and restore.
    run(services.project_soft_delete, project=CooperativeProject.objects.get(pk=one.pk))
    run(services.project_restore, project=CooperativeProject.all_objects.get(pk=one.pk))
    # A bulk import through the import engine: new projects with resources, and an update of an existing one.
    three = CooperativeProject.objects.get(pk=one.pk)
    content = _csv([
        ["external_id", "title_en", "priority_area", "lead_side", "partner_countries", "target_year",
         "us_planned_usd", "version", "id"],
        ["IMP-1", "Imported one", "maritime-security", "us", "PH, ID", "2027", "250.25", "", ""],
        ["IMP-2", "Imported two", "capacity-building", "rok", "FJ", "2026", "", "", ""],
    ])
    report = run_import(ProjectImporter(by=None), upload=io.BytesIO(content), name="import.csv", dry_run=False)
    assert report.applied and report.created == 2, report.errors
    check("bulk import (create)")
    content = _csv([["id", "lead_side", "partner_countries", "target_year", "version"],
                    [str(three.pk), "rok", "TO", "2028", str(three.version)]])
    report = run_import(ProjectImporter(by=None), upload=io.BytesIO(content), name="import.csv", dry_run=False)
    assert report.applied and report.updated == 1, report.errors
    check("bulk import (update)")
    run.called.update({"rcf.imports.run_import"})

    assert DashboardCount.objects.exists()
    exercised = {name for name in run.called if name.startswith(("projects.services.", "scm_reports.services."))}
    for module in (services, scm_services):
        public = _public(module)
        mine = {name.rsplit(".", 1)[1] for name in exercised if name.rsplit(".", 1)[0] == module.__name__}
        unclassified = public - mine - MOVES_NO_FIGURE[module.__name__]
        assert not unclassified, (
            f"{module.__name__}: exercise these here (do they move a dashboard figure?) or list them in "
            f"MOVES_NO_FIGURE: {sorted(unclassified)}")
        assert not (mine & MOVES_NO_FIGURE[module.__name__])


def test_rebuild_repairs_and_the_check_reports_drift(make_project, capsys):
    project = make_project(title="Counted", partner_countries=[country("PH"), country("VN")])
    assert counts.drift() == []
    DashboardCount.objects.filter(metric="country").update(n=7)
    CooperativeProject.objects.filter(pk=project.pk).update(lead_side="us")  # behind the services' back
    drift = counts.drift()
    assert {row["key"][0] for row in drift} == {"country", "matrix"}
    with pytest.raises(SystemExit) as exited:
        call_command("rebuild_dashboard_counts", "--check")
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert "country" in out and "stored n=7" in out and "actual n=1" in out
    assert DashboardCount.objects.filter(metric="country", n=7).exists()  # the check writes nothing
    call_command("rebuild_dashboard_counts")
    assert counts.drift() == []
    call_command("rebuild_dashboard_counts", "--check")
    assert "No drift" in capsys.readouterr().out


def _dashboard_queries(client, user) -> list[str]:
    client.force_login(user)
    client.get("/")
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as captured:
        response = client.get("/")
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_the_dashboard_reads_summary_rows_not_the_projects_and_its_query_count_is_constant(
        client, viewer, make_project, advance):
    for n in range(5):
        advance(make_project(title=f"P{n}", partner_countries=[country("PH")]), "under_review")
    few = _dashboard_queries(client, viewer)
    for n in range(45):
        make_project(title=f"Q{n}", partner_countries=[country("FJ")], lead_side="rok")
    many = _dashboard_queries(client, viewer)
    assert len(few) == len(many)
    aggregates = ("COUNT(", "SUM(", "GROUP BY")
    # The figures (matrix, coverage, readiness, health, resources) aggregate no project; the open "ready"
    # proposals counted for the timeline's candidates are a count of proposals (projects_concurrence).
    over_projects = [sql for sql in many if '"projects_cooperativeproject"' in sql
                     and '"projects_concurrence"' not in sql and any(a in sql.upper() for a in aggregates)]
    assert over_projects == [], "the dashboard aggregates over the projects' table"
    assert any('"projects_dashboardcount"' in sql for sql in many)
    board = client.get("/").context["board"]
    assert board.matrix["total"] == 50

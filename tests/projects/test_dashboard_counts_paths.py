"""The dashboard's summary rows (projects.counts) through every route that
deletes or restores what they count, and under concurrent writers: the API
and admin routes go through the tracked services, many tracked changes in
one transaction write the rows once (no deadlock with a concurrent edit), a
failed import row leaves no drift, hard-deleted reference data is recounted,
and the check reads one snapshot."""

import datetime
import io
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from projects import counts, services
from projects.imports import ProjectImporter
from projects.models import CooperativeProject, ProgressUpdate, ResourceLine
from rcf.imports import run_import
from rcf.models import PartnerCountry, PriorityArea
from scm_reports.models import SCMCycle
from tests.factories import ProgressUpdateFactory, ProjectFactory, ResourceLineFactory, SCMCycleFactory, area, country

D = datetime.date
postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'",
                                   reason="Concurrent writers: SQLite serialises them")


def _upserts(captured) -> int:
    return sum('INSERT INTO "projects_dashboardcount"' in q["sql"] for q in captured.captured_queries)


@pytest.mark.django_db
def test_every_api_and_admin_delete_and_restore_route_keeps_the_counts(administrator, client):
    for number, meeting in ((58, D(2026, 11, 5)), (59, D(2027, 10, 20))):
        SCMCycleFactory(number=number, meeting_date=meeting)
    ready = ProjectFactory(status="presented", ready_on=D(2026, 9, 1), priority=1)
    ready.partner_countries.set([country("PH")])
    running = ProjectFactory(status="in_implementation", ready_on=D(2025, 9, 1), priority=1, lead_side="rok")
    update = ProgressUpdateFactory(project=running, date=D(2026, 8, 1), health="at_risk")
    line = ResourceLineFactory(project=running, amount="250.00")
    counts.rebuild()
    api = APIClient()
    api.force_authenticate(administrator)

    def route(path, model, pk, step):
        record = model.all_objects.get(pk=pk)
        response = api.delete(f"/api/v1/{path}/{pk}/", HTTP_IF_MATCH=f'"{record.version}"')
        assert response.status_code == 204, response.content
        assert counts.drift() == [], f"API DELETE {path}: {step}"
        response = api.post(f"/api/v1/{path}/{pk}/restore/")
        assert response.status_code == 200, response.content
        assert counts.drift() == [], f"API restore {path}: {step}"

    route("projects", CooperativeProject, ready.pk, "a ready project")
    route("progress-updates", ProgressUpdate, update.pk, "the latest health")
    route("resource-lines", ResourceLine, line.pk, "the resource totals")
    # The 2026 SCM leaves: the project ready on 2026-09-01 counts for 2027; back: for 2026 again.
    cycle = SCMCycle.objects.get(year=2026)
    route("scm-cycles", SCMCycle, cycle.pk, "the SCM year a ready project counts for")
    assert counts.scm_year_counts().get(2026) == 1

    # The admin: a delete, then bulk delete and bulk restore (actions).
    client.force_login(administrator)
    # (A project with progress updates or lines is deleted from the API or its page: the admin's delete
    # page lists them as protected.)
    other = ProjectFactory(status="under_review", target_year=2026, lead_side="us")
    other.partner_countries.set([country("FJ")])
    counts.rebuild()
    response = client.post(f"/admin/projects/cooperativeproject/{ready.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert counts.drift() == []
    ids = [str(ready.pk), str(other.pk)]
    for action, url in [("delete_selected", "/admin/projects/cooperativeproject/"),
                        ("restore_selected", "/admin/projects/cooperativeproject/?deleted=yes"),
                        ("delete_selected", "/admin/scm_reports/scmcycle/"),
                        ("restore_selected", "/admin/scm_reports/scmcycle/?deleted=yes")]:
        selected = ids if "cooperativeproject" in url else [str(cycle.pk)]
        response = client.post(url, {"action": action, "_selected_action": selected, "post": "yes"})
        assert response.status_code == 302, action
        assert counts.drift() == [], f"admin {action} {url}"
    assert CooperativeProject.objects.filter(pk__in=ids).count() == 2, "restored"
    assert SCMCycle.objects.filter(pk=cycle.pk).exists()


@pytest.mark.django_db
def test_many_tracked_changes_in_a_batch_write_the_rows_once(lead):
    projects = [ProjectFactory(priority_area=area("maritime-security")) for _ in range(3)]
    with CaptureQueriesContext(connection) as captured, counts.batch():
        for project in projects:
            services.project_update(project=CooperativeProject.objects.get(pk=project.pk), target_year=2031)
    assert _upserts(captured) == 1  # one sorted pass for the three changes
    assert counts.drift() == []
    assert counts.matrix_counts(type("F", (), {"year": 2031})())[(area("maritime-security").pk, "concept")] == 3


@pytest.mark.django_db
def test_an_import_writes_the_rows_once_and_a_failed_row_leaves_no_drift(settings, tmp_path, monkeypatch):
    settings.RCF_IMPORT_DIR = str(tmp_path / "imports")
    content = (
        "\ufeffexternal_id,title_en,priority_area,lead_side,partner_countries,target_year,us_planned_usd\r\n"
        "B-1,One,maritime-security,us,PH,2027,100\r\n"
        "B-2,Two,capacity-building,rok,FJ,2026,\r\n"
        "B-3,Three,information-sharing,us,VN,2026,7\r\n"
    )
    with CaptureQueriesContext(connection) as captured:
        report = run_import(ProjectImporter(by=None), upload=io.BytesIO(content.encode()), name="i.csv",
                            dry_run=False)
    assert report.applied and report.created == 3, report.errors
    assert _upserts(captured) == 1  # every row joined one tracker: one sorted pass
    assert counts.drift() == []
    # A row that fails in its service (after the project was created and counted): its savepoint rolls back.
    real_create = services.resource_line_create

    def failing_line(**kwargs):
        real_create(**kwargs)
        raise services.ValidationError({"amount": ["refused"]})

    monkeypatch.setattr(services, "resource_line_create", failing_line)
    content = content.replace("B-", "C-")
    report = run_import(ProjectImporter(by=None), upload=io.BytesIO(content.encode()), name="i.csv",
                        dry_run=True)
    assert [e[0] for e in report.errors] == [2, 4], report.errors
    assert counts.drift() == []


@pytest.mark.django_db
def test_a_failed_change_inside_a_batch_is_forgotten_with_its_savepoint(lead):
    one, two = ProjectFactory(target_year=2027), ProjectFactory(target_year=2027)
    with counts.batch():
        services.project_update(project=CooperativeProject.objects.get(pk=one.pk), target_year=2030)
        with pytest.raises(RuntimeError), counts.tracking([two.pk]):
            CooperativeProject.objects.filter(pk=two.pk).update(target_year=2031)
            raise RuntimeError("the row fails")
    assert CooperativeProject.objects.get(pk=two.pk).target_year == 2027
    assert counts.drift() == []


@pytest.mark.django_db
def test_hard_deleting_a_priority_area_or_a_partner_country_recounts_its_projects():
    project = ProjectFactory()
    extra = PriorityArea.objects.create(code="tmp-area", name="Tmp", name_ko="임시")
    zed = PartnerCountry.objects.create(iso2="ZZ", iso3="ZZZ", name="Zedland", group="asean")
    with counts.tracking([project.pk]):
        project.additional_areas.add(extra)
        project.partner_countries.add(zed, country("PH"))
    assert counts.drift() == []
    zed.delete()
    assert counts.drift() == []
    extra.delete()
    assert counts.drift() == []
    assert counts.country_counts()[country("PH").pk] == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_batch_of_two_changes_and_a_concurrent_edit_do_not_deadlock():
    """The review's scenario: T1 changes P1 (area 2) then P2 (area 1); T2 moves P3 from area 1 to area 2."""
    a1, a2 = list(PriorityArea.objects.order_by("pk")[:2])
    p1 = ProjectFactory(priority_area=a2, lead_side="joint")
    p2 = ProjectFactory(priority_area=a1, lead_side="joint")
    p3 = ProjectFactory(priority_area=a1, lead_side="joint", target_year=2031)
    out = {}
    first_done = threading.Event()

    def importer():
        try:
            with transaction.atomic(), counts.batch():
                services.project_update(project=CooperativeProject.objects.get(pk=p1.pk), target_year=2031)
                first_done.set()
                time.sleep(1.5)
                services.project_update(project=CooperativeProject.objects.get(pk=p2.pk), target_year=2031)
            out["import"] = "ok"
        except Exception as error:  # noqa: BLE001 - the outcome is what the test reads
            out["import"] = repr(error)
        finally:
            first_done.set()
            connections.close_all()

    def editor():
        first_done.wait(10)
        time.sleep(0.3)
        try:
            with transaction.atomic():
                services.project_update(project=CooperativeProject.objects.get(pk=p3.pk), priority_area=a2)
            out["edit"] = "ok"
        except Exception as error:  # noqa: BLE001
            out["edit"] = repr(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=importer), threading.Thread(target=editor)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert out == {"import": "ok", "edit": "ok"}
    assert counts.drift() == []


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_drift_check_reads_one_snapshot_under_a_concurrent_writer(monkeypatch):
    project = ProjectFactory(target_year=2027)
    counts.rebuild()
    real_actual = counts.actual

    def actual_after_a_concurrent_commit(*args, **kwargs):
        def write():
            try:
                services.project_update(project=CooperativeProject.objects.get(pk=project.pk), target_year=2030)
            finally:
                connections.close_all()

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(30)
        return real_actual(*args, **kwargs)

    monkeypatch.setattr(counts, "actual", actual_after_a_concurrent_commit)
    assert counts.drift() == []  # the stored rows and the count from scratch are read in one snapshot
    monkeypatch.setattr(counts, "actual", real_actual)
    assert CooperativeProject.objects.get(pk=project.pk).target_year == 2030
    assert counts.drift() == []


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_project_whose_failed_row_released_its_lock_is_not_counted_twice():
    """A failed row's savepoint releases its project's lock: a concurrent edit of that project may commit
    before the batch ends, and the batch must not count that edit a second time."""
    one, two = ProjectFactory(target_year=2027), ProjectFactory(target_year=2027)

    def edit_two():
        try:
            services.project_update(project=CooperativeProject.objects.get(pk=two.pk), target_year=2031)
        finally:
            connections.close_all()

    with counts.batch():
        services.project_update(project=CooperativeProject.objects.get(pk=one.pk), target_year=2030)
        with pytest.raises(RuntimeError), counts.tracking([two.pk]):
            raise RuntimeError("the row fails")
        writer = threading.Thread(target=edit_two)
        writer.start()
        writer.join(30)
        assert not writer.is_alive(), "the failed row's lock was kept"
    assert CooperativeProject.objects.get(pk=two.pk).target_year == 2031
    assert counts.drift() == []

"""SCM presentations (issue 10): moving a project to "presented" records at
which SCM and what the ministers decided there; a deferral or a decline sends
the project back through the lifecycle; the SCM's report lists the decisions."""

import datetime
import io
import os
import shutil
import subprocess

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from openpyxl import load_workbook

from projects import services as project_services
from projects.models import CooperativeProject, ProjectTransition
from scm_reports import services
from scm_reports.models import SCMCycle, SCMPresentation
from scm_reports.roles import LEAD_POC
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

READY_ON = datetime.date(2025, 9, 1)  # in the 57th SCM's window (the 56th met on 2024-10-30)
AFTER_57TH = datetime.date(2026, 1, 10)


@pytest.fixture
def scm_57(db):
    """The 57th SCM, 2025-11-04 in Seoul (seeded reference data)."""
    return SCMCycle.objects.get(number=57)


@pytest.fixture
def ready(ready_project):
    return ready_project(READY_ON, today=datetime.date(2025, 10, 1), title="Coast guard training")


def _reload(project):
    return CooperativeProject.objects.get(pk=project.pk)


def _steps(project):
    return list(ProjectTransition.objects.filter(project=project).order_by("at", "id")
                .values_list("from_status", "to_status"))


def test_presented_at_the_57th_scm_deferred_goes_back_to_prioritised_and_is_on_the_57th_report(
        client, viewer, lead, ready, scm_57):
    presentation = services.presentation_record(
        project=ready, scm_cycle=scm_57, outcome="deferred", note="The ministers asked for a costed plan.", by=lead,
        today=AFTER_57TH)

    project = _reload(ready)
    assert project.status == "prioritized" and project.ready_on is None and project.priority == 3
    assert _steps(project)[-2:] == [("ready", "presented"), ("presented", "prioritized")]
    assert presentation.scm_cycle == scm_57 and presentation.recorded_by == lead
    client.force_login(viewer)
    page = client.get("/scm/2025/report/").content.decode()
    decided = page[page.index('data-testid="presentations"'):]
    assert "Coast guard training" in decided and "Deferred" in decided
    assert "The ministers asked for a costed plan." in decided
    # ...and only there: the next SCM's report has no such decision.
    assert "Coast guard training" not in client.get("/scm/2026/report/").content.decode()


def test_the_report_workbook_lists_what_the_scm_decided(client, viewer, lead, ready, scm_57):
    services.presentation_record(project=ready, scm_cycle=scm_57, outcome="endorsed", by=lead, today=AFTER_57TH)
    client.force_login(viewer)
    book = load_workbook(io.BytesIO(client.get("/scm/2025/report.xlsx").content))
    rows = list(book["Presented and decided"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Project", "Priority area", "Outcome")
    assert rows[1][0] == "Coast guard training" and rows[1][2] == "Endorsed" and rows[1][4] == "Presented"


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) is not installed; CI installs it")
def test_the_report_pdf_lists_what_the_scm_decided(client, viewer, lead, ready, scm_57, tmp_path):
    services.presentation_record(project=ready, scm_cycle=scm_57, outcome="noted", by=lead, today=AFTER_57TH)
    client.force_login(viewer)
    response = client.get("/scm/2025/report.pdf")
    if response.status_code == 503:  # WeasyPrint without Pango: the view says so itself
        if os.environ.get("RCF_REQUIRE_REAL_SERVICES") == "1":
            pytest.fail(f"CI installs Pango, yet the PDF is unavailable: {response.content.decode()}")
        pytest.skip(f"{response.content.decode()} (apt-get install libpangoft2-1.0-0; CI installs it)")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "Coast guard training" in text and "Noted" in text


def test_endorsed_stays_presented_and_keeps_counting_for_its_year(lead, ready, scm_57):
    services.presentation_record(project=ready, scm_cycle=scm_57, outcome="endorsed", by=lead, today=AFTER_57TH)
    project = _reload(ready)
    assert project.status == "presented" and project.ready_on == READY_ON
    assert _steps(project)[-1] == ("ready", "presented")
    assert "57th SCM" in ProjectTransition.objects.filter(project=project, to_status="presented").get().note


def test_declined_goes_back_to_under_review(lead, ready, scm_57):
    services.presentation_record(project=ready, scm_cycle=scm_57, outcome="declined", note="Out of scope.",
                                 by=lead, today=AFTER_57TH)
    project = _reload(ready)
    assert project.status == "under_review" and project.ready_on is None
    assert _steps(project)[-2:] == [("ready", "presented"), ("presented", "under_review")]


def test_a_project_in_implementation_is_reported_at_a_later_scm_without_a_status_change(
        lead, ready, scm_57, scm_2026, advance):
    services.presentation_record(project=ready, scm_cycle=scm_57, outcome="endorsed", by=lead, today=AFTER_57TH)
    project = advance(_reload(ready), "in_implementation")
    version = project.version
    services.presentation_record(project=project, scm_cycle=scm_2026, outcome="noted", note="Year one: on track.",
                                 by=lead, today=datetime.date(2026, 11, 20))
    project = _reload(project)
    assert project.status == "in_implementation" and project.version == version
    assert list(SCMPresentation.objects.filter(project=project).values_list("scm_cycle__number", "outcome")) == [
        (57, "endorsed"), (58, "noted")]


# --- Bad input: refused, naming the problem, nothing saved ------------------------------------------------


def _nothing_saved(project, version):
    project = _reload(project)
    assert project.status == "ready" and project.version == version
    assert not SCMPresentation.all_objects.filter(project=project).exists()


def test_an_scm_that_has_not_happened_yet_is_refused(lead, ready, scm_2026):
    with pytest.raises(ValidationError) as refused:
        services.presentation_record(project=ready, scm_cycle=scm_2026, outcome="endorsed", by=lead,
                                     today=datetime.date(2026, 11, 4))
    assert "2026-11-05" in refused.value.message_dict["scm_cycle"][0]
    assert "after today" in refused.value.message_dict["scm_cycle"][0]
    _nothing_saved(ready, ready.version)


def test_a_missing_or_deleted_cycle_is_refused(lead, ready, scm_2026, administrator):
    with pytest.raises(ValidationError) as refused:
        services.presentation_record(project=ready, scm_cycle=None, outcome="endorsed", by=lead, today=AFTER_57TH)
    assert "No such SCM cycle" in refused.value.message_dict["scm_cycle"][0]
    services.scm_cycle_delete(cycle=scm_2026, by=administrator)
    with pytest.raises(ValidationError, match="No such SCM cycle"):
        services.presentation_record(project=ready, scm_cycle=scm_2026, outcome="endorsed", by=lead,
                                     today=datetime.date(2026, 12, 1))
    _nothing_saved(ready, ready.version)


def test_a_project_that_is_not_ready_cannot_be_presented(lead, make_project, advance, scm_57):
    project = advance(make_project(title="Not yet"), "under_review", "prioritized", today=AFTER_57TH)
    with pytest.raises(ValidationError) as refused:
        services.presentation_record(project=project, scm_cycle=scm_57, outcome="endorsed", by=lead,
                                     today=AFTER_57TH)
    message = refused.value.message_dict["project"][0]
    assert "Not yet" in message and "Prioritised" in message and "only a ready project" in message
    assert _reload(project).status == "prioritized"
    assert not SCMPresentation.all_objects.exists()


def test_an_scm_before_the_project_became_ready_is_refused(lead, ready_project, scm_57):
    project = ready_project(datetime.date(2026, 2, 1), today=datetime.date(2026, 2, 1))
    with pytest.raises(ValidationError, match="became ready on 2026-02-01, after the 57"):
        services.presentation_record(project=project, scm_cycle=scm_57, outcome="endorsed", by=lead,
                                     today=datetime.date(2026, 3, 1))
    _nothing_saved(project, project.version)


def test_an_unknown_outcome_is_refused(lead, ready, scm_57):
    with pytest.raises(ValidationError) as refused:
        services.presentation_record(project=ready, scm_cycle=scm_57, outcome="approved", by=lead, today=AFTER_57TH)
    assert "endorsed, noted, deferred, declined" in refused.value.message_dict["outcome"][0]
    _nothing_saved(ready, ready.version)


def test_the_same_project_twice_at_one_scm_is_refused_by_the_service_and_the_database(lead, ready, scm_57):
    first = services.presentation_record(project=ready, scm_cycle=scm_57, outcome="endorsed", by=lead,
                                         today=AFTER_57TH)
    with pytest.raises(services.PresentationAlreadyRecorded) as refused:
        services.presentation_record(project=_reload(ready), scm_cycle=scm_57, outcome="noted", by=lead,
                                     today=AFTER_57TH)
    assert refused.value.existing == first
    with pytest.raises(IntegrityError), transaction.atomic():
        SCMPresentation.objects.create(project=ready, scm_cycle=scm_57, outcome="noted")
    assert SCMPresentation.objects.filter(project=ready).count() == 1


def test_the_generic_lifecycle_step_to_presented_is_refused_with_a_pointer(lead, ready):
    with pytest.raises(ValidationError) as refused:
        project_services.project_transition(project=ready, to="presented", by=lead)
    assert "scm-presentations" in refused.value.message_dict["to"][0]
    assert _reload(ready).status == "ready"


def test_a_presented_project_cannot_be_sent_back_without_an_scm_decision(lead, ready, scm_57, rok_lead):
    services.presentation_record(project=ready, scm_cycle=scm_57, outcome="endorsed", by=lead, today=AFTER_57TH)
    project = _reload(ready)
    assert "prioritized" not in project_services.allowed_transitions(project=project)
    with pytest.raises(ValidationError):
        project_services.project_transition(project=project, to="prioritized", by=lead)
    assert _reload(project).status == "presented"


# --- Who may record ---------------------------------------------------------------------------------


def test_editors_and_lead_group_members_without_a_lead_poc_cannot_record(editor, ready, scm_57):
    unlinked = UserFactory(username="group-only")
    unlinked.groups.set([Group.objects.get(name=LEAD_POC)])
    for user in (editor, unlinked):
        with pytest.raises(PermissionDenied):
            services.presentation_record(project=ready, scm_cycle=scm_57, outcome="endorsed", by=user,
                                         today=AFTER_57TH)
    _nothing_saved(ready, ready.version)


def test_an_administrator_can_record(administrator, ready, scm_57):
    services.presentation_record(project=ready, scm_cycle=scm_57, outcome="endorsed", by=administrator,
                                 today=AFTER_57TH)
    assert _reload(ready).status == "presented"


# --- Pages ------------------------------------------------------------------------------------------------


def test_the_project_page_step_leads_to_the_form_offering_only_scms_that_met(client, lead, ready, scm_57):
    SCMCycle.objects.create(number=59, year=2099, meeting_date=datetime.date(2099, 11, 1))  # not yet met
    client.force_login(lead)
    page = client.get(f"/projects/{ready.pk}/").content.decode()
    assert f'href="/projects/{ready.pk}/present/"' in page
    form = client.get(f"/projects/{ready.pk}/present/").content.decode()
    assert "57" in form and "2099" not in form
    for outcome in ("endorsed", "noted", "deferred", "declined"):
        assert f'value="{outcome}"' in form

    response = client.post(f"/projects/{ready.pk}/present/", {
        "scm_cycle": scm_57.pk, "outcome": "deferred", "note": "Costed plan first.", "version": ready.version})
    assert response.status_code == 302
    assert _reload(ready).status == "prioritized"
    page = client.get(f"/projects/{ready.pk}/").content.decode()
    shown = page[page.index('data-testid="presentations"'):]
    assert "Deferred" in shown and "Costed plan first." in shown


def test_the_form_refuses_an_scm_that_has_not_met_and_saves_nothing(client, lead, ready):
    future = SCMCycle.objects.create(number=59, year=2099, meeting_date=datetime.date(2099, 11, 1))
    client.force_login(lead)
    response = client.post(f"/projects/{ready.pk}/present/", {"scm_cycle": future.pk, "outcome": "endorsed"})
    assert response.status_code == 400
    assert "Choose an SCM that has met" in response.content.decode()
    _nothing_saved(ready, ready.version)


def test_the_form_is_closed_to_editors(client, editor, ready):
    client.force_login(editor)
    assert client.get(f"/projects/{ready.pk}/present/").status_code == 403


def test_the_scm_list_links_every_year_to_its_report(client, viewer):
    client.force_login(viewer)
    page = client.get("/scm/").content.decode()
    for cycle in SCMCycle.objects.all():
        assert f'href="/scm/{cycle.year}/report/"' in page
        assert client.get(f"/scm/{cycle.year}/report/").status_code == 200  # before the framework too


def test_the_admin_lists_presentations_corrects_notes_and_never_adds(client, administrator, lead, ready, scm_57):
    record = services.presentation_record(project=ready, scm_cycle=scm_57, outcome="endorsed", by=lead,
                                          today=AFTER_57TH)
    client.force_login(administrator)
    base = "/admin/scm_reports/scmpresentation/"
    assert "Coast guard training" in client.get(base).content.decode()
    assert client.get(f"{base}add/").status_code == 403
    response = client.post(f"{base}{record.pk}/change/", {"note": "Endorsed by both ministers."})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.note == "Endorsed by both ministers." and record.outcome == "endorsed" and record.version == 2


def test_after_a_deferral_a_new_ready_date_cannot_be_backfilled_before_it(lead, ready, scm_57, advance):
    services.presentation_record(project=ready, scm_cycle=scm_57, outcome="deferred", by=lead, today=AFTER_57TH)
    with pytest.raises(ValidationError, match="when the project last left"):
        advance(_reload(ready), "ready", today=datetime.date(2099, 1, 1), ready_on=datetime.date(2025, 9, 2))
    assert _reload(ready).status == "prioritized"
    project = advance(_reload(ready), "ready", today=datetime.date(2099, 1, 1), ready_on=datetime.date(2099, 1, 1))
    assert project.status == "ready"

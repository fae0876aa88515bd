"""What staff see and do on the project pages."""

import datetime

import pytest
from django.test import Client

from projects.models import CooperativeProject
from scm_reports.models import SCMCycle
from tests.factories import ProjectFactory, area, country

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"


def _form(us_poc, rok_poc, **overrides):
    data = {
        "title": "Coast guard training", "summary": "Training.", "priority_area": area().pk,
        "partner_countries": [country("PH").pk, country("FJ").pk], "lead_side": "joint",
        "us_lead_poc": us_poc.pk, "rok_lead_poc": rok_poc.pk, "external_id": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_create_with_bad_input_rerenders_every_message_and_saves_nothing(client, editor, us_lead_poc,
                                                                          rok_lead_poc):
    client.force_login(editor)
    response = client.post("/projects/new/", _form(
        us_lead_poc, rok_lead_poc, title="", start_date="2026-05-01", end_date="2026-04-01",
        us_lead_poc=rok_lead_poc.pk))
    assert response.status_code == 400
    form = response.context["form"]
    assert "title" in form.errors
    assert "us_lead_poc" in form.errors  # a ROK POC offered as U.S. lead
    assert "Nothing was saved" in response.content.decode()
    assert CooperativeProject.all_objects.count() == 0


def test_a_resource_line_with_an_amount_but_no_currency_rerenders_every_message_and_saves_nothing(
        client, editor, make_project):
    """Resources are lines on the project page now (issue 11): an amount
    without its currency, and a negative one, are refused beside the field."""
    from projects.models import ResourceLine

    project = make_project()
    client.force_login(editor)
    response = client.post(f"/projects/{project.pk}/resources/", {
        "resource-side": "us", "resource-kind": "planned", "resource-amount": "5000", "resource-currency": ""})
    assert response.status_code == 400
    form = response.context["resource_form"]
    assert list(form.errors) == ["currency"]
    assert "Nothing was saved" in response.content.decode()
    response = client.post(f"/projects/{project.pk}/resources/", {
        "resource-side": "us", "resource-kind": "planned", "resource-amount": "-5", "resource-currency": "USD"})
    assert response.context["resource_form"].errors["amount"] == ["An amount cannot be negative."]
    assert ResourceLine.all_objects.count() == 0


def test_create_then_see_it_in_the_list(client, editor, us_lead_poc, rok_lead_poc):
    client.force_login(editor)
    response = client.post("/projects/new/", _form(us_lead_poc, rok_lead_poc))
    project = CooperativeProject.objects.get()
    assert response["Location"] == f"/projects/{project.pk}/"
    assert project.created_by == editor
    assert sorted(project.partner_countries.values_list("iso2", flat=True)) == ["FJ", "PH"]
    page = client.get("/projects/").content.decode()
    assert "Coast guard training" in page and "1 project" in page


def test_an_editor_cannot_set_priority_a_lead_can(client, editor, lead, make_project, us_lead_poc, rok_lead_poc):
    project = make_project()
    client.force_login(editor)
    client.post(f"/projects/{project.pk}/edit/", _form(us_lead_poc, rok_lead_poc, priority="1",
                                                      version=project.version))
    project.refresh_from_db()
    assert project.priority is None  # the field is disabled for editors: their value is ignored
    client.force_login(lead)
    client.post(f"/projects/{project.pk}/edit/", _form(us_lead_poc, rok_lead_poc, priority="1",
                                                      version=project.version))
    project.refresh_from_db()
    assert project.priority == 1


def test_a_stale_edit_is_refused_and_shows_what_changed(client, editor, lead, make_project, us_lead_poc,
                                                        rok_lead_poc):
    project = make_project()
    opened_at = project.version
    other = Client()
    other.force_login(lead)
    other.post(f"/projects/{project.pk}/edit/", _form(us_lead_poc, rok_lead_poc, title="Lead's better title",
                                                     version=opened_at))
    client.force_login(editor)
    response = client.post(f"/projects/{project.pk}/edit/", _form(us_lead_poc, rok_lead_poc,
                                                                   title="Editor's title", version=opened_at))
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else changed this project" in page
    assert "Coast guard training" in page and "Lead&#x27;s better title" in page  # old → new
    assert "lead-user" in page  # who
    project.refresh_from_db()
    assert project.title == "Lead's better title"
    # Saving again (the form now carries the current version) applies the editor's change on top.
    again = response.context["form"].data.copy()
    response = client.post(f"/projects/{project.pk}/edit/", again)
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.title == "Editor's title"


def test_moving_to_ready_with_a_backfilled_date_and_refusals_say_why(client, lead, rok_lead, make_project, advance):
    project = advance(make_project(partner_countries=[]), "under_review", "prioritized")
    client.force_login(lead)
    response = client.post(f"/projects/{project.pk}/transition/", {"to": "ready", "note": "ok"}, follow=True)
    assert "at least one partner country" in response.content.decode()
    project.refresh_from_db()
    assert project.status == "prioritized"
    project.partner_countries.set([country("VN")])
    response = client.post(f"/projects/{project.pk}/transition/",
                           {"to": "ready", "note": "agreed", "ready_on": "2025-09-01"}, follow=True)
    # A joint decision: proposed by the U.S. lead, it happens when the ROK lead concurs.
    assert "Proposed “Ready”: Awaiting ROK concurrence." in response.content.decode()
    client.force_login(rok_lead)
    proposal = project.concurrences.get(step="ready")
    response = client.post(f"/projects/concurrences/{proposal.pk}/concur/", {"version": proposal.version},
                           follow=True)
    assert "You concurred: the project is now “Ready”." in response.content.decode()
    project.refresh_from_db()
    assert (project.status, project.ready_on) == ("ready", datetime.date(2025, 9, 1))


def test_logging_an_engagement_with_a_missing_date_shows_the_error(client, editor, make_project, us_lead_poc):
    project = make_project()
    client.force_login(editor)
    response = client.post(f"/projects/{project.pk}/engagements/", {"kind": "visit", "summary": "Site visit"})
    assert response.status_code == 400
    assert "date" in response.context["engagement_form"].errors
    response = client.post(f"/projects/{project.pk}/engagements/",
                           {"date": "2026-02-03", "kind": "visit", "summary": "Site visit",
                            "participants": [us_lead_poc.pk]}, follow=True)
    assert "Site visit" in response.content.decode()
    assert project.engagements.get().participants.get() == us_lead_poc


def test_history_shows_who_changed_which_field_old_to_new(client, viewer, lead, make_project, advance):
    from projects.services import project_update

    project = make_project()
    project_update(project=project, by=lead, title="Renamed project", partner_countries=["PH", "VN"])
    advance(project, "under_review")
    client.force_login(viewer)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert "Title: <del>Coast guard training</del> → <ins>Renamed project</ins>" in page
    assert "Partner countries: <del>Philippines</del> → <ins>Philippines, Viet Nam</ins>" in page
    assert "Status: <del>Concept</del> → <ins>Under review</ins>" in page
    assert "lead-user" in page


def test_list_filters_search_sort_and_count(client, viewer, make_project, advance):
    SCMCycle.objects.create(number=58, year=2026, meeting_date=datetime.date(2026, 11, 5))
    a = advance(make_project(title="Alpha patrol", partner_countries=[country("FJ")]),
                "under_review", "prioritized", "ready", ready_on=datetime.date(2025, 12, 1))
    make_project(title="Bravo cyber", priority_area=area("technical-cooperation"),
                 partner_countries=[country("SG")])
    make_project(title="Charlie info", additional_areas=[area("technical-cooperation")],
                 partner_countries=[country("JP")])
    client.force_login(viewer)

    def titles(**params):
        response = client.get("/projects/", params)
        return sorted(p.title for p in response.context["projects"]), response.context["count"]

    assert titles(q="patrol") == (["Alpha patrol"], 1)
    assert titles(status="ready") == (["Alpha patrol"], 1)
    assert titles(year="2026") == (["Alpha patrol"], 1)  # ready 2025-12-01: counts for the 2026 SCM
    assert titles(year="2025") == ([], 0)
    assert titles(country_group="pacific_islands") == (["Alpha patrol"], 1)
    assert titles(country="SG") == (["Bravo cyber"], 1)
    assert titles(priority_area="technical-cooperation") == (["Bravo cyber", "Charlie info"], 2)
    assert titles(lead_poc=a.us_lead_poc_id)[1] == 3
    response = client.get("/projects/", {"sort": "title"})
    assert [p.title for p in response.context["projects"]] == ["Alpha patrol", "Bravo cyber", "Charlie info"]


def test_the_list_answers_htmx_with_just_the_results(client, viewer, make_project):
    make_project()
    client.force_login(viewer)
    response = client.get("/projects/", {"q": "Coast"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    page = response.content.decode()
    assert "Coast guard training" in page and "<html" not in page


@pytest.mark.parametrize("count", [10, 1000])
def test_the_list_issues_the_same_number_of_queries_for_10_and_1000_projects(
    client, viewer, django_assert_num_queries, count, us_lead_poc, rok_lead_poc
):
    projects = CooperativeProject.objects.bulk_create(
        [CooperativeProject(title=f"P{i}", priority_area=area(), lead_side="us", us_lead_poc=us_lead_poc,
                            rok_lead_poc=rok_lead_poc) for i in range(count)]
    )
    through = CooperativeProject.partner_countries.through
    through.objects.bulk_create([through(cooperativeproject=p, partnercountry=country("PH")) for p in projects])
    client.force_login(viewer)
    client.get("/projects/")  # warm up: session, permissions cache
    # savepoint + release (ATOMIC_REQUESTS), session, user, permissions (2), SCM windows, the filter
    # form's choices (areas, countries, lead POCs), count, page, partner countries prefetch
    with django_assert_num_queries(13):
        response = client.get("/projects/")
    assert response.context["count"] == count


def test_a_script_in_a_title_is_shown_as_text_everywhere(client, administrator, make_project, us_lead_poc):
    project = make_project(title=XSS, summary=XSS)
    from projects.services import engagement_create, project_update

    engagement_create(projects=[project], date=datetime.date(2026, 1, 2), kind="call", summary=XSS,
                      participants=[us_lead_poc])
    project_update(project=project, by=None, title=XSS + "!")
    client.force_login(administrator)
    for url in ("/projects/", f"/projects/{project.pk}/", f"/projects/{project.pk}/edit/",
                f"/contacts/{us_lead_poc.pk}/", f"/projects/{project.pk}/delete/"):
        page = client.get(url).content.decode()
        assert XSS not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url


def test_forms_without_a_csrf_token_are_refused(editor, make_project, us_lead_poc, rok_lead_poc):
    project = make_project()
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    for url, data in ((f"/projects/{project.pk}/transition/", {"to": "under_review"}),
                      ("/projects/new/", _form(us_lead_poc, rok_lead_poc, title="Sneaky")),
                      (f"/projects/{project.pk}/delete/", {})):
        assert client.post(url, data).status_code == 403
    project.refresh_from_db()
    assert (project.status, project.deleted_at) == ("concept", None)
    assert not CooperativeProject.objects.filter(title="Sneaky").exists()


def test_deleting_hides_the_project_and_keeps_it(client, editor, make_project):
    project = make_project()
    client.force_login(editor)
    response = client.post(f"/projects/{project.pk}/delete/", follow=True)
    assert "An administrator can restore it." in response.content.decode()
    assert client.get(f"/projects/{project.pk}/").status_code == 404
    assert CooperativeProject.all_objects.get(pk=project.pk).deleted_at is not None


def test_switching_to_korean_persists_and_shows_korean_area_names(client, viewer):
    ProjectFactory(priority_area=area("maritime-security"))
    client.force_login(viewer)
    response = client.post("/i18n/setlang/", {"language": "ko", "next": "/projects/"})
    assert response.status_code == 302
    page = client.get("/projects/").content.decode()
    assert '<html lang="ko">' in page
    assert "해양안보" in page
    page = client.get("/projects/").content.decode()  # the choice persists (cookie)
    assert '<html lang="ko">' in page


def test_the_detail_page_query_count_does_not_grow_with_the_history(client, viewer, lead, make_project,
                                                                      django_assert_max_num_queries):
    from projects.services import project_update

    project = make_project()
    client.force_login(viewer)
    client.get(f"/projects/{project.pk}/")
    for i in range(30):
        project = project_update(project=project, by=lead, title=f"Title {i}",
                                 partner_countries=["PH"] if i % 2 else ["VN"])
    with django_assert_max_num_queries(40):
        page = client.get(f"/projects/{project.pk}/").content.decode()
    assert "Partner countries: <del>Philippines</del> → <ins>Viet Nam</ins>" in page

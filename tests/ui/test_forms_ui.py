"""The forms as served (issue 12): the project form in sections with the fields
Ready needs marked (taken from the rule that refuses the step), searchable
pickers on the multiple selects, real placeholders instead of "---------",
an error summary linking each field after an invalid submit, and the project
page's engagement form coming back where the user was."""

import re

import pytest
from django.urls import reverse

from projects import services
from projects.forms import ProjectForm
from projects.models import CooperativeProject, Engagement
from tests.factories import OrganizationFactory, PointOfContactFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def _fields_marked_ready(html: str) -> set[str]:
    """The name of the control in each field block marked as needed for Ready."""
    marked = set()
    for chunk in html.split('<div class="field')[1:]:
        head, _, rest = chunk.partition(">")
        if "data-ready-required" in head:
            marked.add(re.search(r'name="([a-z_]+)"', rest).group(1))
    return marked


def test_the_project_form_is_in_sections_with_the_fields_ready_needs_marked(client, lead):
    client.force_login(lead)
    html = client.get(reverse("projects:create")).content.decode()
    legends = re.findall(r'<fieldset class="form-section"[^>]*><legend>([^<]+)</legend>', html)
    assert legends == ["What", "Who", "Where", "When", "Money and references"]
    marked = _fields_marked_ready(html)
    assert marked == {"summary", "partner_countries", "us_lead_poc", "rok_lead_poc", "priority"}
    assert html.count('<span class="ready-mark">needed for Ready</span>') == 5 + 1  # the fields and the note
    # The Save bar stays in view on the long form.
    assert 'class="form-actions sticky-actions"' in html


def test_the_ready_marks_follow_the_rule_that_refuses_the_step():
    """A blank project misses everything the ready step asks for: those are the marked fields."""
    missing = set(services.ready_requirements_errors(CooperativeProject(), 0))
    assert missing <= set(ProjectForm().ready_fields)
    assert set(ProjectForm().ready_fields) - missing == {"priority"}


def test_multiple_selects_are_searchable_pickers_grouped_and_with_placeholders(client, lead):
    client.force_login(lead)
    html = client.get(reverse("projects:create")).content.decode()
    for name, placeholder in (("partner_countries", "Choose countries"), ("additional_areas", "Choose areas"),
                              ("industry_partners", "Choose organisations"),
                              ("complemented_partners", "Choose partners")):
        select = re.search(rf'<select name="{name}"[^>]*>', html).group(0)
        assert "multiple" in select and "data-picker" in select, select
        assert f'data-placeholder="{placeholder}"' in select, select
    # No 34 checkboxes: the countries are one select, in the framework's groups.
    assert 'type="checkbox"' not in html
    assert re.search(r'<optgroup label="ASEAN">.*<optgroup label="Pacific Island countries">', html, re.S)
    assert "django_tomselect/js/django-tomselect.min.js" in html and "js/pickers.js" in html
    assert "---------" not in html
    assert ">Choose an area</option>" in html and ">Choose a side</option>" in html
    assert ">Choose the U.S. lead</option>" in html and ">Choose the ROK lead</option>" in html


@pytest.mark.parametrize("url_name,role", [
    ("projects:create", "lead"), ("engagements:create", "lead"), ("actions:create", "lead"),
    ("contacts:poc_create", "admin"), ("contacts:organization_create", "admin"),
])
def test_no_select_says_dashes(client, lead, administrator, url_name, role):
    ProjectFactory()
    OrganizationFactory(side="industry")
    client.force_login(lead if role == "lead" else administrator)
    html = client.get(reverse(url_name)).content.decode()
    assert "---------" not in html
    assert "<select" in html
    for empty in re.findall(r'<option value="">([^<]*)</option>', html):
        assert empty.strip(), html


def test_an_invalid_project_shows_a_focusable_summary_linking_each_field(client, lead):
    client.force_login(lead)
    response = client.post(reverse("projects:create"), {"summary": "No title yet."})
    assert response.status_code == 400
    html = response.content.decode()
    summary = re.search(r'<div class="error-summary form-errors" id="form-errors" tabindex="-1"'
                        r' data-error-summary.*?</div>', html, re.S).group(0)
    assert 'href="#id_title"' in summary and 'href="#id_priority_area"' in summary
    assert 'href="#id_lead_side"' in summary
    assert CooperativeProject.objects.count() == 0


@pytest.mark.parametrize("url_name,data,field", [
    ("contacts:poc_create", {"full_name": ""}, "id_full_name"),
    ("contacts:organization_create", {"name": ""}, "id_name"),
    ("actions:create", {"title": ""}, "id_title"),
])
def test_the_short_forms_link_their_fields_from_the_summary(client, lead, administrator, url_name, data, field):
    client.force_login(administrator if url_name.startswith("contacts") else lead)
    response = client.post(reverse(url_name), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="form-errors"' in html and f'href="#{field}"' in html


def _engagement_post(**extra):
    body = {"kind": "", "date": "", "summary": "", "location": "Manila",
            "others-TOTAL_FORMS": "0", "others-INITIAL_FORMS": "0"}
    body.update(extra)
    return body


def test_an_invalid_engagement_on_the_project_page_comes_back_at_the_form(client, editor):
    project = ProjectFactory()
    client.force_login(editor)
    page = client.get(reverse("projects:detail", args=[project.pk])).content.decode()
    log_url = reverse("projects:log_engagement", args=[project.pk])
    # Without script the form posts to an address that lands on the form; with htmx only the form is swapped.
    assert f'action="{log_url}#log-engagement"' in page
    assert f'data-hx-post="{log_url}" data-hx-target="#log-engagement"' in page

    response = client.post(log_url, _engagement_post())
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="log-engagement"' in html and 'id="form-errors"' in html and 'value="Manila"' in html

    response = client.post(log_url, _engagement_post(), headers={"HX-Request": "true"})
    assert response.status_code == 200  # htmx swaps it
    fragment = response.content.decode()
    assert "<html" not in fragment and "<details open>" in fragment
    assert 'data-error-summary' in fragment and 'href="#id_engagement_kind"' in fragment
    assert 'value="Manila"' in fragment
    assert Engagement.objects.count() == 0


def test_a_valid_engagement_from_the_project_page_reloads_it_at_its_engagements(client, editor):
    project = ProjectFactory()
    client.force_login(editor)
    response = client.post(reverse("projects:log_engagement", args=[project.pk]),
                           _engagement_post(kind="meeting", date="2026-03-02", summary="Talks."),
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("projects:detail", args=[project.pk]) + "#engagements"
    assert response["HX-Refresh"] == "true"
    assert Engagement.objects.get().projects.get() == project


def test_the_engagement_form_offers_pickers_for_people_projects_organisations_and_countries(client, editor):
    PointOfContactFactory(full_name="Jordan Lee", side="us")
    client.force_login(editor)
    html = client.get(reverse("engagements:create")).content.decode()
    for name in ("participants", "projects", "industry_organizations", "partner_countries"):
        select = re.search(rf'<select name="{name}"[^>]*>', html).group(0)
        assert "multiple" in select and "data-picker" in select, select
    assert re.search(r'<optgroup label="U.S.">', html)
    assert 'type="checkbox"' not in html


def test_a_poc_chooses_priority_areas_in_a_picker(client, administrator):
    client.force_login(administrator)
    html = client.get(reverse("contacts:poc_create")).content.decode()
    select = re.search(r'<select name="priority_areas"[^>]*>', html).group(0)
    assert "data-picker" in select and 'data-placeholder="Choose areas"' in select
    assert ">Choose an organisation</option>" in html

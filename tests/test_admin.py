"""Staff can work in the Django admin from day one, through the same rules."""

import pytest
from django.urls import reverse

from projects.models import CooperativeProject
from tests.factories import PointOfContactFactory, area, country

pytestmark = pytest.mark.django_db

ADMIN_MODELS = [
    "rcf/priorityarea", "rcf/partnercountry", "contacts/organization", "contacts/pointofcontact",
    "projects/cooperativeproject", "projects/engagement", "scm_reports/scmcycle", "scm_reports/readinessflag",
]


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.org", "pw-for-tests-1")


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_every_model_has_a_searchable_admin_list(client, superuser, model, make_project):
    make_project()
    client.force_login(superuser)
    response = client.get(f"/admin/{model}/", {"q": "a"})
    assert response.status_code == 200
    add_status = client.get(f"/admin/{model}/add/").status_code
    assert add_status == (403 if model == "scm_reports/readinessflag" else 200)


def test_admin_create_project_with_bad_input_names_the_field_and_saves_nothing(client, superuser):
    client.force_login(superuser)
    rok = PointOfContactFactory(side="rok", full_name="Wrong Side")
    response = client.post(
        reverse("admin:projects_cooperativeproject_add"),
        {
            "title": "Patrol boats",
            "priority_area": area().pk,
            "lead_side": "joint",
            "us_lead_poc": rok.pk,
            "start_date": "2026-05-01",
            "end_date": "2026-04-01",
            "transitions-TOTAL_FORMS": "0",
            "transitions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "us_lead_poc" in errors
    assert CooperativeProject.all_objects.count() == 0


def test_admin_create_then_delete_is_a_soft_delete(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:projects_cooperativeproject_add"),
        {
            "title": "Patrol boats",
            "summary": "Help",
            "priority_area": area().pk,
            "lead_side": "joint",
            "partner_countries": [country("VN").pk],
            "transitions-TOTAL_FORMS": "0",
            "transitions-INITIAL_FORMS": "0",
            # Issue 11: the project's resource lines, shown read-only inline.
            "resource_lines-TOTAL_FORMS": "0",
            "resource_lines-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    project = CooperativeProject.objects.get(title="Patrol boats")
    assert project.created_by == superuser
    assert list(project.partner_countries.values_list("iso2", flat=True)) == ["VN"]
    response = client.post(
        reverse("admin:projects_cooperativeproject_delete", args=[project.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not CooperativeProject.objects.filter(pk=project.pk).exists()
    assert CooperativeProject.all_objects.get(pk=project.pk).deleted_at is not None


def test_admin_refuses_what_the_services_refuse(client, superuser, make_project, us_lead_poc, lead):
    from projects.services import project_soft_delete

    client.force_login(superuser)
    # An organisation with points of contact cannot be deleted.
    org = us_lead_poc.organization
    assert client.get(reverse("admin:contacts_organization_delete", args=[org.pk])).status_code == 403
    # An external id held by a deleted project is refused on the form, not with a server error.
    project_soft_delete(project=make_project(external_id="ext-9"), by=lead)
    response = client.post(reverse("admin:projects_cooperativeproject_add"), {
        "title": "Again", "priority_area": area().pk, "lead_side": "us", "external_id": "ext-9",
        "transitions-TOTAL_FORMS": "0", "transitions-INITIAL_FORMS": "0"})
    assert response.status_code == 200
    assert "external id already exists" in str(response.context["adminform"].form.errors["external_id"])
    # A lead POC cannot switch sides under their projects.
    response = client.post(reverse("admin:contacts_pointofcontact_change", args=[us_lead_poc.pk]), {
        "full_name": us_lead_poc.full_name, "organization": us_lead_poc.organization_id, "side": "rok",
        "email": us_lead_poc.email, "is_lead": "on", "active": "on"})
    assert response.status_code == 200
    assert "replace them as lead first" in str(response.context["adminform"].form.errors["side"])
    us_lead_poc.refresh_from_db()
    assert us_lead_poc.side == "us"


@pytest.mark.parametrize("model", ["rcf/outboxmessage", "projects/concurrence"])
def test_records_only_services_write_are_read_only_in_the_admin(client, superuser, model, make_project, lead):
    from projects import services as project_services
    from rcf.outbox import outbox_enqueue

    project = make_project()
    project = project_services.project_transition(project=project, to="under_review", by=lead)
    project_services.project_transition(project=project, to="prioritized", by=lead, priority=2)  # a proposal
    outbox_enqueue(topic="test.admin", payload={})
    client.force_login(superuser)
    listing = client.get(f"/admin/{model}/")
    assert listing.status_code == 200
    assert client.get(f"/admin/{model}/add/").status_code == 403
    app_label, model_name = model.split("/")
    from django.apps import apps

    record = apps.get_model(app_label, model_name).objects.order_by("pk").first()
    assert client.get(f"/admin/{model}/{record.pk}/change/").status_code == 200  # shown, read-only
    assert client.post(f"/admin/{model}/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert apps.get_model(app_label, model_name).objects.filter(pk=record.pk).exists()

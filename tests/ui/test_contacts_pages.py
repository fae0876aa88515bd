import pytest

from contacts.models import PointOfContact
from tests.factories import OrganizationFactory, PointOfContactFactory, area

pytestmark = pytest.mark.django_db


def test_directory_groups_by_side_and_area_with_leads_first(client, viewer):
    org = OrganizationFactory(side="us", name="DoD")
    officer = PointOfContactFactory(side="us", full_name="Alex Officer", organization=org)
    lead = PointOfContactFactory(side="us", full_name="Zoe Lead", is_lead=True, organization=org)
    for poc in (officer, lead):
        poc.priority_areas.set([area("maritime-security")])
    PointOfContactFactory(side="rok", full_name="Kim Unassigned")
    client.force_login(viewer)
    directory = client.get("/contacts/").context["directory"]
    us, rok = directory
    assert (us["side"], rok["side"]) == ("us", "rok")
    assert [p.full_name for p in us["groups"][0]["pocs"]] == ["Zoe Lead", "Alex Officer"]
    assert us["groups"][0]["area"].code == "maritime-security"
    assert rok["groups"][0]["area"] is None
    assert [p.full_name for p in us["leads"]] == ["Zoe Lead"]


def test_a_poc_page_lists_their_projects_and_engagements(client, viewer, make_project, us_lead_poc):
    import datetime

    from projects.services import engagement_create

    project = make_project(title="Patrol boats")
    engagement_create(projects=[project], date=datetime.date(2026, 3, 1), kind="visit", summary="Yard visit",
                      participants=[us_lead_poc])
    client.force_login(viewer)
    page = client.get(f"/contacts/{us_lead_poc.pk}/").content.decode()
    assert "Patrol boats" in page and "Visit" in page


def test_poc_form_refuses_a_duplicate_email_and_saves_nothing(client, editor):
    org = OrganizationFactory(side="rok")
    PointOfContactFactory(side="rok", email="kim@example.org")
    client.force_login(editor)
    response = client.post("/contacts/new/", {"full_name": "Another Kim", "organization": org.pk, "side": "rok",
                                              "email": "KIM@example.org", "active": "on"})
    assert response.status_code == 400
    assert "already uses this e-mail address" in response.content.decode()
    assert PointOfContact.objects.filter(full_name="Another Kim").count() == 0
    valid = {"full_name": "Another Kim", "organization": org.pk, "side": "rok",
             "email": "another.kim@example.org", "active": "on", "priority_areas": [area().pk]}
    # Designating a lead is for administrators (issue 10): an editor's "is lead" is refused by name.
    response = client.post("/contacts/new/", {**valid, "is_lead": "on"})
    assert response.status_code == 400
    assert PointOfContact.objects.filter(full_name="Another Kim").count() == 0
    response = client.post("/contacts/new/", valid)
    poc = PointOfContact.objects.get(full_name="Another Kim")
    assert response["Location"] == f"/contacts/{poc.pk}/"
    assert not poc.is_lead and list(poc.priority_areas.all()) == [area()]


def test_a_lead_poc_cannot_switch_side_under_their_projects(client, editor, make_project, us_lead_poc):
    make_project()
    client.force_login(editor)
    response = client.post(f"/contacts/{us_lead_poc.pk}/edit/", {
        "full_name": us_lead_poc.full_name, "organization": us_lead_poc.organization_id, "side": "rok",
        "email": us_lead_poc.email, "active": "on", "is_lead": "on", "version": us_lead_poc.version})
    assert response.status_code == 400
    assert "replace them as lead first" in response.content.decode()
    us_lead_poc.refresh_from_db()
    assert us_lead_poc.side == "us"

"""The other resources and the list filters: reference data by code, the
readiness rule's own answer, flags, organisations, POCs, engagements and
SCM cycles."""

import datetime

import pytest
from django.utils import timezone

from contacts.models import Organization
from scm_reports.models import ReadinessFlag
from scm_reports.selectors import readiness_by_year
from tests.factories import EngagementFactory, OrganizationFactory, PointOfContactFactory, country

pytestmark = pytest.mark.django_db


def ids(response):
    assert response.status_code == 200, response.json()
    body = response.json()
    return sorted(r["id"] for r in (body["results"] if isinstance(body, dict) else body))


def test_reference_data_by_code(api_client, viewer):
    client = api_client(viewer)
    areas = client.get("/api/v1/priority-areas/").json()
    assert [a["code"] for a in areas][:2] == ["maritime-security", "multilateral-exercises"] and len(areas) == 6
    assert client.get("/api/v1/priority-areas/capacity-building/").json()["name"] == "Capacity Building"
    assert client.get("/api/v1/priority-areas/piracy/").status_code == 404
    asean = client.get("/api/v1/countries/", {"group": "asean"}).json()
    assert {"PH", "VN", "TL"} <= {c["iso2"] for c in asean} and all(c["group"] == "asean" for c in asean)
    assert client.get("/api/v1/countries/TL/").json()["member_since"] == "2025-10-26"
    assert client.get("/api/v1/countries/", {"group": "atlantis"}).status_code == 400


def test_readiness_is_the_rules_own_answer(api_client, viewer, scm_2026, make_project, advance):
    project = advance(make_project(), "under_review", "prioritized", "ready", today=datetime.date(2026, 5, 2),
                      ready_on=datetime.date(2026, 5, 1))
    client = api_client(viewer)
    today = datetime.date(2026, 6, 1)
    response = client.get("/api/v1/readiness/", {"today": today.isoformat()})
    assert response.status_code == 200
    assert response.json() == [r.as_dict() for r in readiness_by_year(today=today, with_project_ids=True)]
    year_2026 = next(r for r in response.json() if r["year"] == 2026)
    assert (year_2026["state"], year_2026["counting_project_ids"]) == ("covered", [project.pk])
    assert client.get("/api/v1/readiness/", {"today": "2026-02-30"}).status_code == 400
    assert client.get("/api/v1/readiness/").status_code == 200  # today by default


def test_flags_filter_by_year_kind_and_open(api_client, viewer):
    missed = ReadinessFlag.objects.create(year=2025, kind="missed")
    resolved = ReadinessFlag.objects.create(year=2026, kind="at_risk")
    ReadinessFlag.objects.filter(pk=resolved.pk).update(resolved_at=timezone.now())
    unscheduled = ReadinessFlag.objects.create(year=2026, kind="unscheduled")
    client = api_client(viewer)
    assert ids(client.get("/api/v1/flags/", {"year": 2025})) == [missed.pk]
    assert ids(client.get("/api/v1/flags/", {"open": "true", "year": 2026})) == [unscheduled.pk]
    assert len(ids(client.get("/api/v1/flags/", {"open": "false"}))) == 1
    flag = client.get(f"/api/v1/flags/{missed.pk}/").json()
    assert (flag["kind"], flag["open"]) == ("missed", True)
    assert client.get("/api/v1/flags/", {"kind": "lost"}).status_code == 400


def test_project_filters(api_client, viewer, make_project, advance, scm_2026):
    coast = make_project(title="Coast guard", partner_countries=["PH"], lead_side="us")
    cyber = make_project(title="Cyber tabletop", priority_area="technical-cooperation", partner_countries=["FJ"],
                         additional_areas=["information-sharing"], summary="Incident response", lead_side="rok")
    ready = advance(make_project(title="Ready one", partner_countries=["VN"]), "under_review", "prioritized",
                    "ready", today=datetime.date(2026, 5, 2), ready_on=datetime.date(2026, 5, 1))
    client = api_client(viewer)
    url = "/api/v1/projects/"
    assert ids(client.get(url, {"priority_area": "information-sharing"})) == [cyber.pk]  # primary or other area
    assert ids(client.get(url, {"priority_area": "maritime-security"})) == sorted([coast.pk, ready.pk])
    assert ids(client.get(url, {"status": "ready"})) == [ready.pk]
    assert ids(client.get(url, {"lead_side": "rok"})) == [cyber.pk]
    assert ids(client.get(url, {"country": "PH"})) == [coast.pk]
    assert ids(client.get(url, {"country_group": "pacific_islands"})) == [cyber.pk]
    assert ids(client.get(url, {"country_group": "asean"})) == sorted([coast.pk, ready.pk])
    assert ids(client.get(url, {"year": 2026})) == [ready.pk]  # the SCM year it counts for
    assert ids(client.get(url, {"search": "incident"})) == [cyber.pk]
    assert client.get(url, {"status": "finished"}).status_code == 400
    assert client.get(url, {"country": "XX"}).status_code == 400
    # Filters narrow lists; a record's own URL ignores them.
    assert client.get(f"{url}{coast.pk}/", {"year": 2026, "status": "ready"}).status_code == 200


def test_organisations(api_client, editor, administrator):
    vn = OrganizationFactory(side="partner", name="Viet Nam Coast Guard", country=country("VN"))
    fj = OrganizationFactory(side="partner", name="Fiji Navy", country=country("FJ"))
    yard = OrganizationFactory(side="industry", name="Shipyard")
    client = api_client(editor)
    assert ids(client.get("/api/v1/organizations/", {"country": "vn"})) == [vn.pk]
    assert ids(client.get("/api/v1/organizations/", {"country_group": "pacific_islands"})) == [fj.pk]
    assert ids(client.get("/api/v1/organizations/", {"side": "industry"})) == [yard.pk]
    assert ids(client.get("/api/v1/organizations/", {"search": "coast"})) == [vn.pk]
    created = client.post("/api/v1/organizations/", {"name": "Navy League", "side": "partner", "country": "ph"})
    assert created.status_code == 201 and created.json()["country"] == "PH"
    duplicate = client.post("/api/v1/organizations/", {"name": "navy league", "side": "partner"})
    assert duplicate.status_code == 400  # the service's rule, with its message
    # An organisation with POCs cannot go: the service says why.
    PointOfContactFactory(organization=vn, side="us")
    response = client.delete(f"/api/v1/organizations/{vn.pk}/", HTTP_IF_MATCH='"1"')
    assert response.status_code == 400 and "points of contact" in response.json()["non_field_errors"][0]
    # Deleted and restored: restoring is for administrators (staff), as in the admin.
    assert client.delete(f"/api/v1/organizations/{yard.pk}/", HTTP_IF_MATCH='"1"').status_code == 204
    assert client.post(f"/api/v1/organizations/{yard.pk}/restore/").status_code == 403
    assert api_client(administrator).post(f"/api/v1/organizations/{yard.pk}/restore/").status_code == 200
    assert Organization.objects.filter(pk=yard.pk).exists()


def test_points_of_contact(api_client, editor, administrator):
    org = OrganizationFactory(side="rok", name="MND")
    client = api_client(editor)
    body = {"full_name": "Park Seo-yeon", "side": "rok", "organization": org.pk, "email": "park@example.org",
            "priority_areas": ["technical-cooperation"], "is_lead": True}
    # Only administrators designate lead POCs (issue 10).
    refused = client.post("/api/v1/contacts/", body)
    assert refused.status_code == 400 and "is_lead" in refused.json()
    response = api_client(administrator).post("/api/v1/contacts/", body)
    assert response.status_code == 201, response.json()
    poc = response.json()
    assert poc["priority_areas"] == ["technical-cooperation"] and "user" not in poc
    PointOfContactFactory(side="us", full_name="Alex Morgan")
    assert ids(client.get("/api/v1/contacts/", {"priority_area": "technical-cooperation"})) == [poc["id"]]
    assert ids(client.get("/api/v1/contacts/", {"side": "rok", "is_lead": "true"})) == [poc["id"]]
    assert ids(client.get("/api/v1/contacts/", {"search": "morgan"})) != [poc["id"]]
    taken = client.post("/api/v1/contacts/", {"full_name": "Other", "side": "rok", "organization": org.pk,
                                              "email": "PARK@example.org"})
    assert taken.status_code == 400


def test_engagements(api_client, editor, make_project):
    project = make_project()
    client = api_client(editor)
    response = client.post("/api/v1/engagements/", {"projects": [project.pk], "date": "2026-03-02", "kind": "call",
                                                    "summary": "Kick-off"})
    assert response.status_code == 201, response.json()
    EngagementFactory(projects=[project], date=datetime.date(2025, 5, 5), kind="visit")
    assert ids(client.get("/api/v1/engagements/", {"year": 2026})) == [response.json()["id"]]
    assert len(ids(client.get("/api/v1/engagements/", {"project": project.pk, "kind": "visit"}))) == 1
    # Not against a deleted project.
    assert client.delete(f"/api/v1/projects/{project.pk}/", HTTP_IF_MATCH='"1"').status_code == 204
    refused = client.post("/api/v1/engagements/", {"projects": [project.pk], "date": "2026-03-03", "kind": "call",
                                                   "summary": "Too late"})
    assert refused.status_code == 400 and "projects" in refused.json()


def test_scm_cycles_filter_by_year(api_client, viewer, scm_2026):
    assert ids(api_client(viewer).get("/api/v1/scm-cycles/", {"year": 2026})) == [scm_2026.pk]

"""Projects through the API: representation, writes through the services,
conflict detection (ETag / If-Match), idempotent create, soft delete and
restore, the lifecycle action, and bad input."""

import datetime
import json

import pytest

from projects.models import CooperativeProject, ProjectTransition
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/"

REPRESENTATION = {
    "id", "external_id", "title", "summary", "title_ko", "summary_ko", "channel", "priority_area", "additional_areas",
    "partner_countries",
    "lead_side", "status", "priority", "us_lead_poc", "rok_lead_poc", "industry_partners", "complementary_efforts",
    "complemented_partners", "target_year", "ready_on",
    "start_date", "end_date", "version", "created_at", "updated_at",
}


def new_project(**extra):
    return {"title": "Patrol boat MRO", "priority_area": "defense-industrial-cooperation", "lead_side": "joint",
            **extra}


def test_create_speaks_codes_and_answers_201_with_location_and_etag(api_client, lead, us_lead_poc):
    yard = OrganizationFactory(side="industry", name="Shipyard")
    response = api_client(lead).post(URL, new_project(
        external_id="mnd-001", partner_countries=["vn", "PH"], additional_areas=["capacity-building"],
        us_lead_poc=us_lead_poc.pk, industry_partners=[yard.pk],
    ))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == REPRESENTATION
    assert body["priority_area"] == "defense-industrial-cooperation"
    assert sorted(body["partner_countries"]) == ["PH", "VN"]
    assert body["additional_areas"] == ["capacity-building"]
    assert body["industry_partners"] == [yard.pk]
    assert body["status"] == "concept" and body["version"] == 1
    assert response.headers["ETag"].startswith('"1.')
    assert response.headers["Location"].endswith(f"{URL}{body['id']}/")
    stored = CooperativeProject.objects.get(pk=body["id"])
    assert stored.created_by == lead and stored.external_id == "mnd-001"


def test_get_carries_a_strong_etag_of_the_version(api_client, viewer, make_project, lead):
    project = make_project()
    client = api_client(viewer)
    assert client.get(f"{URL}{project.pk}/").headers["ETag"].startswith('"1.')
    api_client(lead).patch(f"{URL}{project.pk}/", {"title": "Renamed"}, HTTP_IF_MATCH='"1"')
    response = client.get(f"{URL}{project.pk}/")
    assert response.headers["ETag"].startswith('"2.')
    assert response.json()["title"] == "Renamed"


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_writes_without_if_match_are_428_and_change_nothing(api_client, lead, make_project, method):
    project = make_project()
    response = getattr(api_client(lead), method)(f"{URL}{project.pk}/", new_project(title="Changed"))
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]
    assert CooperativeProject.objects.get(pk=project.pk).version == 1


def test_if_match_star_is_not_enough(api_client, lead, make_project):
    project = make_project()
    response = api_client(lead).patch(f"{URL}{project.pk}/", {"title": "x"}, HTTP_IF_MATCH="*")
    assert response.status_code == 428


def test_a_stale_if_match_is_412_with_the_current_record(api_client, lead, editor, make_project):
    project = make_project()
    api_client(lead).patch(f"{URL}{project.pk}/", {"title": "Lead's title"}, HTTP_IF_MATCH='"1"')
    response = api_client(editor).patch(f"{URL}{project.pk}/", {"summary": "Editor's"}, HTTP_IF_MATCH='"1"')
    assert response.status_code == 412
    body = response.json()
    assert body["current"]["title"] == "Lead's title" and body["current"]["version"] == 2
    assert response.headers["ETag"].startswith('"2.')
    assert CooperativeProject.objects.get(pk=project.pk).summary == "Maritime domain awareness training."
    # The client applies its change to the version it was shown.
    retry = api_client(editor).patch(f"{URL}{project.pk}/", {"summary": "Editor's"}, HTTP_IF_MATCH='"2"')
    assert retry.status_code == 200 and retry.json()["version"] == 3


def test_weak_or_malformed_if_match(api_client, lead, make_project):
    project = make_project()
    client = api_client(lead)
    assert client.patch(f"{URL}{project.pk}/", {"title": "x"}, HTTP_IF_MATCH='W/"1"').status_code == 412
    malformed = client.patch(f"{URL}{project.pk}/", {"title": "x"}, HTTP_IF_MATCH="1")
    assert malformed.status_code == 400 and "If-Match" in malformed.json()
    listed = client.patch(f"{URL}{project.pk}/", {"title": "x"}, HTTP_IF_MATCH='"7", "1"')
    assert listed.status_code == 200


def test_put_replaces_the_record(api_client, lead, make_project):
    project = make_project(channel="Working group", target_year=2027, external_id="mnd-9")
    response = api_client(lead).put(
        f"{URL}{project.pk}/", new_project(summary="Replaced", partner_countries=["FJ"]), HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["title"] == "Patrol boat MRO" and body["partner_countries"] == ["FJ"]
    # Left out: what a create would give; but the client's own key stays.
    assert body["channel"] == "" and body["target_year"] is None and body["us_lead_poc"] is None
    assert body["external_id"] == "mnd-9"


def test_unknown_and_read_only_fields_are_refused_by_name(api_client, lead, make_project):
    project = make_project()
    client = api_client(lead)
    response = client.post(URL, new_project(sumary="typo", colour="red"))
    assert response.status_code == 400
    assert response.json() == {"sumary": ["Unknown field."], "colour": ["Unknown field."]}
    response = client.patch(f"{URL}{project.pk}/", {"status": "ready"}, HTTP_IF_MATCH='"1"')
    assert response.status_code == 400
    assert "transition" in response.json()["status"][0]
    assert CooperativeProject.objects.get(pk=project.pk).version == 1


def test_bad_values_are_named_per_field_and_nothing_is_saved(api_client, lead):
    response = api_client(lead).post(URL, new_project(
        priority_area="piracy", partner_countries=["XX"], start_date="2027-01-01", end_date="2026-01-01",
        lead_side="both",
    ))
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"priority_area", "partner_countries", "lead_side"}
    assert not CooperativeProject.all_objects.exists()
    # Rules the service checks come back the same way.
    response = api_client(lead).post(URL, new_project(start_date="2027-01-01", end_date="2026-01-01"))
    assert response.status_code == 400
    assert "non_field_errors" in response.json() or "end_date" in response.json()
    assert not CooperativeProject.all_objects.exists()


def test_malformed_json_is_400_and_other_media_types_415(api_client, lead):
    client = api_client(lead)
    response = client.generic("POST", URL, '{"title": "x",', content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    response = client.generic("POST", URL, "title=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_oversized_bodies_are_refused_with_413(api_client, lead, settings):
    settings.RCF_API_MAX_BODY_BYTES = 1000
    body = json.dumps(new_project(summary="x" * 2000))
    response = api_client(lead).generic("POST", URL, body, content_type="application/json")
    assert response.status_code == 413
    assert "1000" in response.json()["detail"]
    assert not CooperativeProject.all_objects.exists()


def test_a_duplicate_external_id_is_409_naming_the_existing_record(api_client, lead, make_project):
    existing = make_project(external_id="mnd-7")
    client = api_client(lead)
    response = client.post(URL, new_project(external_id="mnd-7"))
    assert response.status_code == 409
    body = response.json()
    assert body["id"] == existing.pk and body["deleted"] is False
    assert body["location"].endswith(f"{URL}{existing.pk}/")
    assert response.headers["Location"] == body["location"]
    assert CooperativeProject.all_objects.filter(external_id="mnd-7").count() == 1
    # A deleted record keeps its external_id: still 409, never a second record.
    client.delete(f"{URL}{existing.pk}/", HTTP_IF_MATCH='"1"')
    response = client.post(URL, new_project(external_id="mnd-7"))
    assert response.status_code == 409 and response.json()["deleted"] is True


def test_delete_is_soft_and_an_administrator_restores(api_client, lead, administrator, make_project):
    project = make_project()
    client = api_client(lead)
    assert client.delete(f"{URL}{project.pk}/", HTTP_IF_MATCH='"1"').status_code == 204
    assert client.get(f"{URL}{project.pk}/").status_code == 404
    assert project.pk not in [p["id"] for p in client.get(URL).json()["results"]]
    assert CooperativeProject.all_objects.get(pk=project.pk).deleted_at is not None
    assert client.post(f"{URL}{project.pk}/restore/").status_code == 403  # a lead POC cannot restore
    response = api_client(administrator).post(f"{URL}{project.pk}/restore/")
    assert response.status_code == 200
    assert response.json()["version"] == 3
    assert client.get(f"{URL}{project.pk}/").status_code == 200


def test_only_deleted_records_can_be_restored(api_client, administrator, make_project):
    project = make_project()
    assert api_client(administrator).post(f"{URL}{project.pk}/restore/").status_code == 404


def test_the_lifecycle_action_calls_the_service(api_client, lead, rok_lead, editor, make_project):
    project = make_project()
    editor_client = api_client(editor)
    response = editor_client.post(f"{URL}{project.pk}/transition/", {"to": "under_review", "note": "Looks good"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "under_review"
    step = ProjectTransition.objects.get(project=project)
    assert (step.by, step.note) == (editor, "Looks good")
    # Beyond an editor's reach: 403, and nothing moves.
    response = editor_client.post(f"{URL}{project.pk}/transition/", {"to": "prioritized", "priority": 2})
    assert response.status_code == 403
    assert CooperativeProject.objects.get(pk=project.pk).status == "under_review"
    # The lead POCs take it to ready, backdating ready_on: the U.S. lead proposes (202), the ROK lead concurs.
    lead_client, rok_client = api_client(lead), api_client(rok_lead)
    proposal = lead_client.post(f"{URL}{project.pk}/transition/", {"to": "prioritized", "priority": 2})
    assert proposal.status_code == 202, proposal.json()
    assert rok_client.post(f"/api/v1/concurrences/{proposal.json()['id']}/concur/", {}).status_code == 200
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    response = lead_client.post(f"{URL}{project.pk}/transition/", {"to": "ready", "ready_on": yesterday},
                                HTTP_IF_MATCH='"3"')
    assert response.status_code == 202, response.json()
    assert rok_client.post(f"/api/v1/concurrences/{response.json()['id']}/concur/", {}).status_code == 200
    response = lead_client.get(f"{URL}{project.pk}/")
    assert response.json()["ready_on"] == yesterday
    # Not a step of the lifecycle: 400 naming `to`; a stale If-Match: 412.
    assert "to" in lead_client.post(f"{URL}{project.pk}/transition/", {"to": "concept"}).json()
    assert lead_client.post(f"{URL}{project.pk}/transition/", {"to": "presented"},
                            HTTP_IF_MATCH='"3"').status_code == 412


def test_an_editor_cannot_set_a_priority(api_client, editor, make_project):
    project = make_project()
    response = api_client(editor).patch(f"{URL}{project.pk}/", {"priority": 1}, HTTP_IF_MATCH='"1"')
    assert response.status_code == 403
    assert CooperativeProject.objects.get(pk=project.pk).priority is None


def test_an_empty_patch_is_refused(api_client, lead, make_project):
    project = make_project()
    response = api_client(lead).patch(f"{URL}{project.pk}/", {}, HTTP_IF_MATCH='"1"')
    assert response.status_code == 400
    assert CooperativeProject.objects.get(pk=project.pk).version == 1

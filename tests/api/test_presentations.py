"""The scm-presentations resource: what was presented at which SCM and what
was decided, recorded through the same service as the project page (the
lifecycle step with it), with ETags, filters and the sync feed."""

import datetime

import pytest

from projects.models import CooperativeProject
from scm_reports.models import SCMCycle, SCMPresentation

from .conftest import API

pytestmark = pytest.mark.django_db

URL = f"{API}/scm-presentations/"


@pytest.fixture
def scm_57(db):
    return SCMCycle.objects.get(number=57)


@pytest.fixture
def ready(make_project, advance):
    project = make_project(title="Coast guard training")
    return advance(project, "under_review", "prioritized", "ready", today=datetime.date(2025, 10, 1),
                   ready_on=datetime.date(2025, 9, 1))


def _status(project):
    return CooperativeProject.objects.get(pk=project.pk).status


def test_a_lead_records_a_deferral_and_the_project_goes_back_to_prioritised(api_client, lead, ready, scm_57):
    response = api_client(lead).post(URL, {"project": ready.pk, "scm_cycle": scm_57.pk, "outcome": "deferred",
                                           "note": "Costed plan first."}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["year"] == 2025 and body["scm_number"] == 57 and body["outcome"] == "deferred"
    assert body["recorded_by"] == "lead-user" and body["note"] == "Costed plan first."
    assert response["ETag"].startswith(f'"{body["version"]}.')
    assert response["Location"].endswith(f"{URL}{body['id']}/")
    assert _status(ready) == "prioritized"


def test_a_second_record_for_the_same_project_and_scm_is_a_409_naming_the_first(api_client, lead, ready, scm_57):
    client = api_client(lead)
    first = client.post(URL, {"project": ready.pk, "scm_cycle": scm_57.pk, "outcome": "endorsed"}, format="json")
    again = client.post(URL, {"project": ready.pk, "scm_cycle": scm_57.pk, "outcome": "noted"}, format="json")
    assert again.status_code == 409
    assert again.json()["id"] == first.json()["id"] and "already recorded" in again.json()["detail"]
    assert again["Location"].endswith(f"{URL}{first.json()['id']}/")
    assert SCMPresentation.objects.count() == 1


def test_bad_input_is_a_400_naming_the_field_and_nothing_is_saved(api_client, lead, ready, scm_57, scm_2026,
                                                                   make_project):
    client = api_client(lead)
    scm_2026.meeting_date = datetime.date(2099, 11, 5)  # an SCM that has not met yet
    scm_2026.year = 2099
    scm_2026.save()
    future = client.post(URL, {"project": ready.pk, "scm_cycle": scm_2026.pk, "outcome": "endorsed"}, format="json")
    assert future.status_code == 400 and "2099-11-05" in future.json()["scm_cycle"][0]
    missing = client.post(URL, {"project": ready.pk, "scm_cycle": 999999, "outcome": "endorsed"}, format="json")
    assert missing.status_code == 400 and "scm_cycle" in missing.json()
    outcome = client.post(URL, {"project": ready.pk, "scm_cycle": scm_57.pk, "outcome": "approved"}, format="json")
    assert outcome.status_code == 400 and "outcome" in outcome.json()
    concept = make_project(title="Only a concept")
    early = client.post(URL, {"project": concept.pk, "scm_cycle": scm_57.pk, "outcome": "endorsed"}, format="json")
    assert early.status_code == 400 and "Only a concept" in early.json()["project"][0]
    assert not SCMPresentation.all_objects.exists()
    assert _status(ready) == "ready"


def test_the_generic_transition_to_presented_points_to_this_resource(api_client, lead, ready):
    response = api_client(lead).post(f"{API}/projects/{ready.pk}/transition/", {"to": "presented"}, format="json")
    assert response.status_code == 400
    assert "/api/v1/scm-presentations/" in response.json()["to"][0]
    assert _status(ready) == "ready"


def test_who_may_record(api_client, editor, viewer, lead, ready, scm_57):
    data = {"project": ready.pk, "scm_cycle": scm_57.pk, "outcome": "endorsed"}
    assert api_client(editor).post(URL, data, format="json").status_code == 403
    assert api_client(viewer).post(URL, data, format="json").status_code == 403
    assert api_client(lead, read_only=True).post(URL, data, format="json").status_code == 403
    assert api_client(viewer).get(URL).status_code == 200
    assert not SCMPresentation.objects.exists()


def test_filters_by_cycle_year_project_and_outcome(api_client, lead, viewer, ready, scm_57, make_project, advance):
    other = advance(make_project(title="Second"), "under_review", "prioritized", "ready",
                    today=datetime.date(2025, 10, 1), ready_on=datetime.date(2025, 9, 2))
    client = api_client(lead)
    a = client.post(URL, {"project": ready.pk, "scm_cycle": scm_57.pk, "outcome": "endorsed"}, format="json").json()
    b = client.post(URL, {"project": other.pk, "scm_cycle": scm_57.pk, "outcome": "declined"}, format="json").json()
    reader = api_client(viewer)

    def ids(**query):
        response = reader.get(URL, query)
        assert response.status_code == 200, response.content
        return sorted(r["id"] for r in response.json()["results"])

    assert ids(cycle=scm_57.pk) == sorted([a["id"], b["id"]])
    assert ids(year=2025) == sorted([a["id"], b["id"]]) and ids(year=2024) == []
    assert ids(project=other.pk) == [b["id"]]
    assert ids(outcome="endorsed") == [a["id"]]
    assert reader.get(URL, {"outcome": "approved"}).status_code == 400


def test_the_note_can_be_changed_with_if_match_but_not_the_decision(api_client, lead, ready, scm_57):
    client = api_client(lead)
    created = client.post(URL, {"project": ready.pk, "scm_cycle": scm_57.pk, "outcome": "endorsed"}, format="json")
    url = created["Location"]
    assert client.patch(url, {"note": "x"}, format="json").status_code == 428
    changed = client.patch(url, {"note": "Both ministers endorsed it."}, format="json", HTTP_IF_MATCH=created["ETag"])
    assert changed.status_code == 200 and changed.json()["note"] == "Both ministers endorsed it."
    stale = client.patch(url, {"note": "late"}, format="json", HTTP_IF_MATCH=created["ETag"])
    assert stale.status_code == 412
    refused = client.patch(url, {"outcome": "declined"}, format="json", HTTP_IF_MATCH=changed["ETag"])
    assert refused.status_code == 400 and "outcome" in refused.json()
    assert SCMPresentation.objects.get().outcome == "endorsed" and _status(ready) == "presented"


@pytest.mark.django_db(transaction=True)  # committed, as the feed only hands out finished transactions
def test_sync_reports_new_records_and_deletions_as_tombstones(api_client, lead, administrator, ready, scm_57):
    created = api_client(lead).post(URL, {"project": ready.pk, "scm_cycle": scm_57.pk, "outcome": "endorsed"},
                                    format="json")
    reader = api_client(lead)
    full = reader.get(URL, {"since": ""}).json()
    assert [r["id"] for r in full["results"]] == [created.json()["id"]]
    assert api_client(lead).delete(created["Location"], HTTP_IF_MATCH=created["ETag"]).status_code == 403
    assert api_client(administrator).delete(created["Location"], HTTP_IF_MATCH=created["ETag"]).status_code == 204
    changes = reader.get(URL, {"since": full["cursor"]}).json()["results"]
    assert len(changes) == 1 and changes[0]["deleted"] is True and changes[0]["id"] == created.json()["id"]
    assert reader.get(URL).json()["count"] == 0


def test_the_schema_documents_the_resource(api_client, viewer):
    schema = api_client(viewer).get(f"{API}/schema/", HTTP_ACCEPT="application/json").json()
    assert f"{URL}" in schema["paths"] and f"{URL}{{id}}/" in schema["paths"]
    assert "409" in schema["paths"][URL]["post"]["responses"]


def test_the_bulk_representation_equals_drfs(lead, ready, scm_57):
    from rcf.serializers import BulkRepresentation
    from scm_reports import services
    from scm_reports.serializers import SCMPresentationSerializer

    record = services.presentation_record(project=ready, scm_cycle=scm_57, outcome="noted", note="n", by=lead,
                                          today=datetime.date(2026, 1, 10))
    reader = BulkRepresentation(SCMPresentationSerializer)
    bulk = reader.represent(reader.values(SCMPresentation.all_objects.filter(pk=record.pk)))
    assert bulk == [SCMPresentationSerializer(SCMPresentation.objects.get(pk=record.pk)).data]

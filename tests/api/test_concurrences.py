"""Joint concurrence through the API (issue 10): the lifecycle action answers
202 with a proposal, /api/v1/concurrences/ lists, syncs, concurs and
declines; every bad input is a 4xx naming the problem."""

import datetime

import pytest

from projects.models import Concurrence, CooperativeProject
from scm_reports.roles import LEAD_POC
from tests.factories import PointOfContactFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/concurrences/"


@pytest.fixture
def prioritized(make_project, advance):
    return advance(make_project(), "under_review", "prioritized")


def _status(project):
    return CooperativeProject.objects.get(pk=project.pk).status


def test_a_lead_s_step_answers_202_with_the_proposal_and_the_other_side_concurs(api_client, prioritized, lead,
                                                                              rok_lead):
    us, rok = api_client(lead), api_client(rok_lead)
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    response = us.post(f"/api/v1/projects/{prioritized.pk}/transition/",
                       {"to": "ready", "note": "Briefed", "ready_on": yesterday})
    assert response.status_code == 202, response.json()
    proposal = response.json()
    assert (proposal["step"], proposal["side"], proposal["ready_on"], proposal["proposed_by"]) == (
        "ready", "us", yesterday, "lead-user")
    assert proposal["concurred_at"] is None
    assert response["Location"].endswith(f"{URL}{proposal['id']}/")
    assert _status(prioritized) == "prioritized"
    assert [c["id"] for c in rok.get(URL, {"open": "true"}).json()["results"]] == [proposal["id"]]

    response = rok.post(f"{URL}{proposal['id']}/concur/", {"note": "Agreed"},
                        HTTP_IF_MATCH=f'"{proposal["version"]}"')
    assert response.status_code == 200, response.json()
    assert (response.json()["concurred_by"], response.json()["response_note"]) == ("rok-lead-user", "Agreed")
    project = CooperativeProject.objects.get(pk=prioritized.pk)
    assert (project.status, project.ready_on.isoformat()) == ("ready", yesterday)
    assert rok.get(URL, {"open": "true"}).json()["results"] == []


@pytest.mark.django_db(transaction=True)  # the feed holds only committed rows (PostgreSQL's horizon)
def test_concurrences_sync_like_the_other_resources(api_client, prioritized, lead, rok_lead):
    us = api_client(lead)
    first = us.get(URL, {"since": ""}).json()
    assert [c["step"] for c in first["results"]] == ["prioritized"]  # the one the fixture concurred with
    proposal = us.post(f"/api/v1/projects/{prioritized.pk}/transition/", {"to": "ready"}).json()
    page = us.get(URL, {"since": first["cursor"]}).json()
    assert [(c["id"], c["concurred_at"]) for c in page["results"]] == [(proposal["id"], None)]
    api_client(rok_lead).post(f"{URL}{proposal['id']}/decline/", {"note": "Wait for the partner."})
    page = us.get(URL, {"since": page["cursor"]}).json()
    assert [(c["id"], c["response_note"]) for c in page["results"]] == [(proposal["id"], "Wait for the partner.")]
    assert page["results"][0]["declined_at"] is not None


def test_proposing_through_the_concurrences_resource(api_client, make_project, advance, lead, rok_lead):
    project = advance(make_project(), "under_review")
    response = api_client(rok_lead).post(URL, {"project": project.pk, "step": "prioritized", "priority": 1})
    assert response.status_code == 202, response.json()
    assert (response.json()["side"], response.json()["priority"]) == ("rok", 1)
    assert api_client(lead).post(f"{URL}{response.json()['id']}/concur/", {}).status_code == 200
    assert _status(project) == "prioritized"


def test_who_may_answer(api_client, prioritized, lead, editor):
    proposal = api_client(lead).post(f"/api/v1/projects/{prioritized.pk}/transition/", {"to": "ready"}).json()
    # The same side: 403, naming who must concur.
    response = api_client(lead).post(f"{URL}{proposal['id']}/concur/", {})
    assert response.status_code == 403 and "ROK side must concur" in response.json()["detail"]
    # A lead group without a linked lead POC, an editor, a read-only token: 403.
    group_only = UserFactory(username="group-only")
    group_only.groups.set(lead.groups.all())
    assert group_only.groups.get().name == LEAD_POC
    for client in (api_client(group_only), api_client(editor)):
        assert client.post(f"{URL}{proposal['id']}/concur/", {}).status_code == 403
        assert client.post(f"{URL}{proposal['id']}/decline/", {"note": "no"}).status_code == 403
    rok_read_only = UserFactory(username="rok-read-only")
    rok_read_only.groups.set(lead.groups.all())
    PointOfContactFactory(side="rok", is_lead=True, user=rok_read_only)
    assert api_client(rok_read_only, read_only=True).post(f"{URL}{proposal['id']}/concur/", {}).status_code == 403
    assert (_status(prioritized), Concurrence.objects.get(pk=proposal["id"]).state) == ("prioritized", "open")


def test_a_lead_group_without_a_poc_cannot_take_a_lead_step(api_client, make_project, advance):
    project = advance(make_project(), "under_review")
    group_only = UserFactory(username="group-only")
    from django.contrib.auth.models import Group

    group_only.groups.set([Group.objects.get(name=LEAD_POC)])
    client = api_client(group_only)
    response = client.post(f"/api/v1/projects/{project.pk}/transition/", {"to": "prioritized", "priority": 1})
    assert response.status_code == 403 and "lead POC" in response.json()["detail"]
    assert client.patch(f"/api/v1/projects/{project.pk}/", {"priority": 1}, HTTP_IF_MATCH=f'"{project.version}"'
                        ).status_code == 403
    assert (_status(project), Concurrence.objects.filter(step="prioritized", concurred_at__isnull=True).count()) \
        == ("under_review", 0)


def test_an_editor_cannot_set_is_lead_through_the_api(api_client, editor, us_lead_poc):
    response = api_client(editor).patch(f"/api/v1/contacts/{us_lead_poc.pk}/", {"is_lead": False},
                                        HTTP_IF_MATCH=f'"{us_lead_poc.version}"')
    assert response.status_code == 400
    assert response.json()["is_lead"] == ["Only administrators can designate or remove lead POCs."]
    us_lead_poc.refresh_from_db()
    assert us_lead_poc.is_lead is True


def test_closed_and_stale_proposals_answer_409_naming_why(api_client, prioritized, lead, rok_lead):
    us, rok = api_client(lead), api_client(rok_lead)
    proposal = us.post(f"/api/v1/projects/{prioritized.pk}/transition/", {"to": "ready"}).json()
    # A second proposal of the same step while it is open.
    again = rok.post(f"/api/v1/projects/{prioritized.pk}/transition/", {"to": "ready"})
    assert again.status_code == 409 and "already proposed" in again.json()["detail"]
    # The project changed after the version the ROK lead reviewed.
    seen = prioritized.version
    us.patch(f"/api/v1/projects/{prioritized.pk}/", {"summary": "New scope."}, HTTP_IF_MATCH=f'"{seen}"')
    stale = rok.post(f"{URL}{proposal['id']}/concur/", {"project_version": seen})
    assert stale.status_code == 409 and "changed after you opened it" in stale.json()["detail"]
    # A stale If-Match on the proposal itself: 412.
    assert rok.post(f"{URL}{proposal['id']}/concur/", {}, HTTP_IF_MATCH='"99"').status_code == 412
    assert rok.post(f"{URL}{proposal['id']}/decline/", {"note": "Not now."}).status_code == 200
    for answer in ("concur", "decline", "withdraw"):
        closed = rok.post(f"{URL}{proposal['id']}/{answer}/", {"note": "again"})
        assert closed.status_code in (403, 409)
        if answer != "withdraw":
            assert closed.status_code == 409 and "closed: it was declined" in closed.json()["detail"]
    assert _status(prioritized) == "prioritized"


@pytest.mark.parametrize("body,field", [
    ({"step": "launch"}, "step"),
    ({"step": "ready", "project": 999999}, "project"),
    ({"step": "ready", "project": "x"}, "project"),
    ({"step": "prioritized", "priority": 9}, "priority"),
    ({"step": "ready", "ready_on": "9999-01-01"}, "ready_on"),
    ({"step": "ready", "ready_on": "tomorrow"}, "ready_on"),
    ({"step": "ready", "note": "a\x07b"}, "note"),
    ({"step": "ready", "unexpected": 1}, "unexpected"),
])
def test_bad_proposals_are_400_naming_the_field(api_client, prioritized, lead, body, field):
    response = api_client(lead).post(URL, {"project": prioritized.pk, **body})
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Concurrence.objects.filter(step="ready").exists()


def test_a_step_the_lifecycle_does_not_allow_is_400(api_client, make_project, lead):
    project = make_project()
    response = api_client(lead).post(URL, {"project": project.pk, "step": "ready"})
    assert response.status_code == 400 and "cannot move from" in str(response.json()["to"])
    response = api_client(lead).post(f"/api/v1/projects/{project.pk}/transition/", {"to": "ready"})
    assert response.status_code == 400
    assert not Concurrence.objects.exists()


def test_bad_answers(api_client, prioritized, lead, rok_lead):
    proposal = api_client(lead).post(f"/api/v1/projects/{prioritized.pk}/transition/", {"to": "ready"}).json()
    rok = api_client(rok_lead)
    assert rok.post(f"{URL}999999/concur/", {}).status_code == 404
    response = rok.post(f"{URL}{proposal['id']}/decline/", {})
    assert response.status_code == 400 and "note" in response.json()
    response = rok.post(f"{URL}{proposal['id']}/decline/", {"note": "x", "project_version": 3})
    assert response.status_code == 400 and "project_version" in response.json()
    response = rok.post(f"{URL}{proposal['id']}/concur/", {"project_version": "three"})
    assert response.status_code == 400 and "project_version" in response.json()
    response = rok.post(f"{URL}{proposal['id']}/concur/", {"note": "ok", "priority": 1})
    assert response.status_code == 400 and "priority" in response.json()
    # Proposals change only through the actions.
    assert rok.patch(f"{URL}{proposal['id']}/", {"note": "x"}, HTTP_IF_MATCH='"1"').status_code == 405
    assert rok.delete(f"{URL}{proposal['id']}/", HTTP_IF_MATCH='"1"').status_code == 405
    assert Concurrence.objects.get(pk=proposal["id"]).state == "open"


def test_with_concurrence_off_the_step_happens_at_once(settings, api_client, prioritized, lead):
    settings.RCF_JOINT_CONCURRENCE = False
    response = api_client(lead).post(f"/api/v1/projects/{prioritized.pk}/transition/", {"to": "ready"})
    assert response.status_code == 200 and response.json()["status"] == "ready"
    assert not Concurrence.objects.filter(step="ready").exists()

"""Engagements in the sync API (issue 11): the contract's field names,
filters, bad shapes answered 400 naming the field, ETags, the sync feed,
and a constant number of queries per page."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Engagement
from projects.services import engagement_create, project_soft_delete
from tests.factories import OrganizationFactory, PointOfContactFactory, ProjectFactory, country

from .conftest import settle

D = datetime.date
URL = "/api/v1/engagements/"


def ids(response):
    assert response.status_code == 200, response.content
    return [r["id"] for r in response.json()["results"]]


@pytest.mark.django_db
def test_create_and_read_in_the_contract_shape(api_client, editor):
    coast, port = ProjectFactory(title="Coast guard training"), ProjectFactory(title="Port security")
    poc = PointOfContactFactory()
    yard = OrganizationFactory(side="industry", name="Hanwha Ocean")
    client = api_client(editor)
    body = {"external_id": "mofa-2026-031", "projects": [coast.pk, port.pk], "date": "2026-03-02", "kind": "b2b",
            "summary": "Shipyards met partner coast guards.", "location": "Manila", "participants": [poc.pk],
            "other_participants": [{"name": "Maria Santos", "organization": "Philippine Coast Guard"},
                                   {"name": "Tran Van"}],
            "industry_organizations": [yard.pk], "partner_countries": ["ph", "VN"]}
    response = client.post(URL, body)
    assert response.status_code == 201, response.json()
    record = response.json()
    assert response["ETag"].startswith('"1.') and response["Location"].endswith(f"{URL}{record['id']}/")
    assert list(record) == ["id", "external_id", "projects", "date", "kind", "summary", "location", "participants",
                            "other_participants", "industry_organizations", "partner_countries", "version",
                            "created_at", "updated_at"]
    assert sorted(record["projects"]) == sorted([coast.pk, port.pk])
    assert record["participants"] == [poc.pk] and record["industry_organizations"] == [yard.pk]
    assert sorted(record["partner_countries"]) == ["PH", "VN"]
    assert record["other_participants"] == body["other_participants"]
    assert client.get(f"{URL}{record['id']}/").json() == record
    # The same external_id again: 409 naming the record, never a duplicate.
    again = client.post(URL, body)
    assert again.status_code == 409 and again.json()["id"] == record["id"]
    assert Engagement.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "field", "message"), [
    ({"other_participants": {"name": "Maria"}}, "other_participants",
     "Give a list of participants, each with a name and an organisation."),
    ({"other_participants": [{"organization": "PCG"}]}, "other_participants", "Participant 1: give a name."),
    ({"other_participants": [{"name": "A", "title": "Dr"}]}, "other_participants",
     "Participant 1: give an object with only “name” and “organization”."),
    ({"other_participants": None}, "other_participants", "This field may not be null."),
    ({"projects": 3}, "projects", "Expected a list of items but got type “int”."),
    ({"projects": [999999]}, "projects", 'Invalid pk "999999" - object does not exist.'),
    ({"partner_countries": ["XX"]}, "partner_countries", "Unknown code: XX."),
    ({"kind": "party"}, "kind", '"party" is not a valid choice.'),
    ({"date": "2101-01-01"}, "date", "Give a date between 1950-01-01 and 2100-12-31 (got 2101-01-01)."),
    ({"project": 1}, "project", "Unknown field."),
])
def test_bad_shapes_answer_400_naming_the_field(api_client, editor, change, field, message):
    body = {"date": "2026-03-02", "kind": "call", "summary": "Call", **change}
    response = api_client(editor).post(URL, body)
    assert response.status_code == 400
    assert list(response.json()) == [field] and response.json()[field][0].startswith(message), response.json()
    assert Engagement.all_objects.count() == 0


@pytest.mark.django_db
def test_the_rules_answer_400_naming_the_field_and_save_nothing(api_client, editor, lead):
    gone = ProjectFactory(title="Closed survey")
    project_soft_delete(project=gone, by=lead)
    retired = PointOfContactFactory(full_name="Pat Retired", active=False)
    ministry = OrganizationFactory(name="MND", side="rok")
    yard = OrganizationFactory(name="Hanwha Ocean", side="industry")
    client = api_client(editor)
    response = client.post(URL, {"date": "2026-03-02", "kind": "b2b", "summary": "B2B", "projects": [gone.pk],
                                 "participants": [retired.pk], "industry_organizations": [ministry.pk]})
    assert response.status_code == 400
    assert response.json() == {
        "projects": ["Deleted project: Closed survey. Choose live projects only."],
        "participants": ["No longer an active point of contact: Pat Retired."],
        "industry_organizations": ["Not a live industry organisation: MND."],
    }
    response = client.post(URL, {"date": "2026-03-02", "kind": "meeting", "summary": "M",
                                 "industry_organizations": [yard.pk]})
    assert response.status_code == 400 and list(response.json()) == ["industry_organizations"]
    assert Engagement.all_objects.count() == 0


@pytest.mark.django_db
def test_updates_need_the_current_etag_and_put_keeps_the_external_id(api_client, editor):
    engagement = engagement_create(by=editor, date=D(2026, 3, 2), kind="call", summary="Call", external_id="x-1",
                                   other_participants=[{"name": "Maria Santos"}])
    client = api_client(editor)
    url = f"{URL}{engagement.pk}/"
    assert client.patch(url, {"summary": "No ETag"}).status_code == 428
    patched = client.patch(url, {"other_participants": [{"name": "Maria Santos", "organization": "PCG"}]},
                           HTTP_IF_MATCH='"1"')
    assert patched.status_code == 200 and patched["ETag"].startswith('"2.')
    assert patched.json()["other_participants"] == [{"name": "Maria Santos", "organization": "PCG"}]
    stale = client.patch(url, {"summary": "Stale"}, HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412 and stale.json()["current"]["version"] == 2
    replaced = client.put(url, {"date": "2026-03-03", "kind": "meeting", "summary": "Replaced"},
                          HTTP_IF_MATCH='"2"')
    assert replaced.status_code == 200
    assert replaced.json()["external_id"] == "x-1" and replaced.json()["other_participants"] == []
    assert client.delete(url, HTTP_IF_MATCH='"3"').status_code == 204
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_filters(api_client, viewer, editor):
    fiji = ProjectFactory(title="Fiji patrol")
    fiji.partner_countries.set([country("FJ")])
    other = ProjectFactory(title="Cyber")
    poc = PointOfContactFactory()
    a = engagement_create(by=editor, projects=[fiji], date=D(2026, 1, 10), kind="meeting", summary="Patrol talks")
    b = engagement_create(by=editor, projects=[other, fiji], date=D(2026, 2, 10), kind="b2b", summary="Yards",
                          participants=[poc], partner_countries=["VN"],
                          other_participants=[{"name": "Maria Santos", "organization": "PCG"}])
    c = engagement_create(by=editor, date=D(2025, 12, 1), kind="call", summary="Call", location="Suva",
                          partner_countries=["FJ"], external_id="ext-c")
    client = api_client(viewer)
    assert ids(client.get(URL)) == [b.pk, a.pk, c.pk]
    assert ids(client.get(URL, {"project": fiji.pk})) == [b.pk, a.pk]
    assert ids(client.get(URL, {"project": other.pk, "kind": "b2b"})) == [b.pk]
    assert ids(client.get(URL, {"participant": poc.pk})) == [b.pk]
    assert ids(client.get(URL, {"country": "fj"})) == [b.pk, a.pk, c.pk]
    assert ids(client.get(URL, {"country": "VN"})) == [b.pk]
    assert ids(client.get(URL, {"date_after": "2026-01-01", "date_before": "2026-01-31"})) == [a.pk]
    assert ids(client.get(URL, {"year": 2025})) == [c.pk]
    assert ids(client.get(URL, {"search": "maria"})) == [b.pk]
    assert ids(client.get(URL, {"search": "suva"})) == [c.pk]
    assert ids(client.get(URL, {"search": "ext-c"})) == [c.pk]
    for params, field in (({"country": "XX"}, "country"), ({"participant": "x"}, "participant"),
                          ({"date_after": "2026-13-01"}, "date_after"), ({"kind": "party"}, "kind")):
        response = client.get(URL, params)
        assert response.status_code == 400 and field in response.json(), params


@pytest.mark.django_db
def test_the_schema_documents_the_engagement_fields(client):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    request = schema["components"]["schemas"]["EngagementRequest"]["properties"]
    assert request["other_participants"]["type"] == "array"
    assert request["other_participants"]["items"]["required"] == ["name"]
    assert request["partner_countries"]["items"]["type"] == "string"
    for name in ("projects", "participants", "industry_organizations"):
        assert request[name]["items"]["type"] == "integer", name
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/engagements/"]["get"]["parameters"]}
    assert parameters["project"]["type"] == "integer" and parameters["participant"]["type"] == "integer"
    assert parameters["country"]["type"] == "string"
    assert parameters["date_after"]["format"] == "date" and parameters["date_before"]["format"] == "date"
    assert {"kind", "year", "search", "since"} <= set(parameters)


# --- Constant queries (committed rows: the feed hands out rows of finished transactions) ---------


def add_engagements(count):
    """``count`` engagements, each with two projects, a participant, an industry organisation, a country."""
    projects = [ProjectFactory(), ProjectFactory()]
    poc, yard = PointOfContactFactory(), OrganizationFactory(side="industry")
    start = Engagement.all_objects.count()
    engagements = Engagement.objects.bulk_create(
        Engagement(date=D(2026, 1, 1) + datetime.timedelta(days=n % 300), kind="b2b", summary=f"E{start + n}",
                   other_participants=[{"name": f"Guest {n}", "organization": "PCG"}])
        for n in range(count))
    for name, targets in (("projects", projects), ("participants", [poc]), ("industry_organizations", [yard]),
                          ("partner_countries", [country("PH")])):
        relation = getattr(Engagement, name)
        through = relation.through
        source, target = relation.field.m2m_field_name(), relation.field.m2m_reverse_field_name()
        through.objects.bulk_create(through(**{f"{source}_id": e.pk, f"{target}_id": t.pk})
                                    for e in engagements for t in targets)


def queries_for(client, params):
    settle()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(captured), response.json()["results"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("params", [{"page_size": 1000}, {"since": "", "page_size": 1000},
                                    {"page_size": 1000, "country": "PH", "kind": "b2b", "search": "E"}],
                         ids=["list", "sync feed", "filtered list"])
def test_a_page_costs_the_same_queries_for_10_and_1000_engagements(api_client, viewer, params):
    client = api_client(viewer)
    add_engagements(10)
    few, results = queries_for(client, params)
    assert len(results) == 10
    assert all(len(r["projects"]) == 2 and r["participants"] and r["industry_organizations"]
               and r["partner_countries"] == ["PH"] and r["other_participants"] for r in results)
    add_engagements(990)
    many, results = queries_for(client, params)
    assert len(results) == 1000
    assert many == few
    assert few <= 15  # auth, permissions, the page, one per many-to-many field


@pytest.mark.django_db(transaction=True)
def test_the_sync_feed_reports_changes_and_deletions(api_client, editor, viewer):
    engagement = engagement_create(by=editor, date=D(2026, 3, 2), kind="call", summary="Call",
                                   external_id="sync-1")
    reader = api_client(viewer)
    settle()
    first = reader.get(URL, {"since": ""}).json()
    assert [r["id"] for r in first["results"]] == [engagement.pk]
    writer = api_client(editor)
    assert writer.delete(f"{URL}{engagement.pk}/", HTTP_IF_MATCH='"1"').status_code == 204
    settle()
    feed = reader.get(URL, {"since": first["cursor"]}).json()
    assert feed["results"] == [{"id": engagement.pk, "external_id": "sync-1", "deleted": True,
                                "deleted_at": feed["results"][0]["deleted_at"]}]

"""The resource-lines resource of the sync API (issue 11): the same rules as
the pages (side required, no negative amount, USD or KRW), token auth and
roles, ETag/If-Match, sync with tombstones, external_id, filters, OpenAPI;
list and feed query counts do not grow with the data."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import services
from projects.models import CooperativeProject, ResourceLine
from projects.serializers import ResourceLineSerializer
from rcf.serializers import BulkRepresentation
from tests.factories import ProjectFactory, ResourceLineFactory, area

from .conftest import settle

URL = "/api/v1/resource-lines/"
REPRESENTATION = {"id", "external_id", "project", "side", "source", "fiscal_year", "kind", "amount", "currency",
                  "note", "version", "created_at", "updated_at"}


def ids(response):
    assert response.status_code == 200, response.json()
    return sorted(r["id"] for r in response.json()["results"])


def _payload(project, **extra):
    return {"project": project.pk, "side": "us", "source": "FMF", "fiscal_year": 2026, "kind": "committed",
            "amount": "1250000.50", "currency": "USD", "note": "Two courses", **extra}


@pytest.mark.django_db
def test_create_and_read_back(api_client, editor):
    project = ProjectFactory()
    client = api_client(editor)
    response = client.post(URL, _payload(project, external_id="mnd-r1"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == REPRESENTATION
    assert (body["project"], body["side"], body["kind"], body["amount"], body["currency"], body["fiscal_year"]) == (
        project.pk, "us", "committed", "1250000.50", "USD", 2026)
    assert response["ETag"].startswith('"1.') and response["Location"].endswith(f"{URL}{body['id']}/")
    assert ResourceLine.objects.get().created_by == editor
    assert client.get(f"{URL}{body['id']}/").json() == body
    again = client.post(URL, _payload(project, external_id="mnd-r1"), format="json")
    assert again.status_code == 409 and again.json()["id"] == body["id"]
    assert ResourceLine.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("extra", "field", "message"), [
    ({"amount": "-1.00"}, "amount", "An amount cannot be negative."),
    ({"currency": "EUR"}, "currency", None),
    ({"side": "japan"}, "side", None),
    ({"side": ""}, "side", "Choose whose resources these are: us, rok, partner, industry."),
    ({"fiscal_year": 2200}, "fiscal_year", None),
    ({"amount": "1000.50", "currency": "KRW"}, "amount", "An amount in KRW is in whole won (no decimals)."),
    ({"colour": "red"}, "colour", "Unknown field."),
])
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_saved(api_client, editor, extra, field, message):
    response = api_client(editor).post(URL, _payload(ProjectFactory(), **extra), format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    if message:
        assert response.json()[field] == [message]
    assert ResourceLine.all_objects.count() == 0


@pytest.mark.django_db
def test_side_and_kind_are_required_and_a_deleted_project_takes_no_line(api_client, editor):
    client = api_client(editor)
    payload = _payload(ProjectFactory())
    del payload["side"], payload["kind"]
    response = client.post(URL, payload, format="json")
    assert response.status_code == 400 and sorted(response.json()) == ["kind", "side"]
    gone = ProjectFactory()
    services.project_soft_delete(project=gone, by=editor)
    response = client.post(URL, _payload(gone), format="json")
    assert response.status_code == 400 and response.json() == {"project": ["The project is deleted."]}
    assert ResourceLine.all_objects.count() == 0


@pytest.mark.django_db
def test_update_needs_the_current_etag_and_a_viewer_cannot_write(api_client, editor, viewer):
    line = ResourceLineFactory()
    client = api_client(editor)
    assert client.patch(f"{URL}{line.pk}/", {"kind": "spent"}, format="json").status_code == 428
    response = client.patch(f"{URL}{line.pk}/", {"kind": "spent"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.json()
    assert (response.json()["kind"], response["ETag"][:3]) == ("spent", '"2.')
    stale = client.patch(f"{URL}{line.pk}/", {"amount": "5.00"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412 and stale.json()["current"]["kind"] == "spent"
    response = client.patch(f"{URL}{line.pk}/", {"amount": "-5"}, format="json", HTTP_IF_MATCH='"2"')
    assert response.status_code == 400 and response.json() == {"amount": ["An amount cannot be negative."]}
    assert ResourceLine.objects.get(pk=line.pk).amount == Decimal("1000.00")
    reader = api_client(viewer)
    assert reader.get(f"{URL}{line.pk}/").status_code == 200
    assert reader.post(URL, _payload(line.project), format="json").status_code == 403


@pytest.mark.django_db
def test_filters(api_client, viewer):
    one, two = ProjectFactory(), ProjectFactory()
    usd = ResourceLineFactory(project=one, side="us", kind="planned", currency="USD", fiscal_year=2026)
    krw = ResourceLineFactory(project=one, side="rok", kind="committed", currency="KRW", amount="5000",
                              fiscal_year=2027)
    other = ResourceLineFactory(project=two, side="industry", kind="spent", currency="USD", fiscal_year=2026)
    client = api_client(viewer)
    assert ids(client.get(URL, {"project": one.pk})) == sorted([usd.pk, krw.pk])
    assert ids(client.get(URL, {"side": "rok"})) == [krw.pk]
    assert ids(client.get(URL, {"kind": "spent"})) == [other.pk]
    assert ids(client.get(URL, {"currency": "USD"})) == sorted([usd.pk, other.pk])
    assert ids(client.get(URL, {"fiscal_year": 2027})) == [krw.pk]
    assert client.get(URL, {"currency": "EUR"}).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_sync_feed_reports_changes_and_tombstones(api_client, editor):
    client = api_client(editor)
    created = client.post(URL, _payload(ProjectFactory(), external_id="r-1"), format="json").json()
    settle()
    first = client.get(URL, {"since": ""}).json()
    assert [r["id"] for r in first["results"]] == [created["id"]]
    assert client.delete(f"{URL}{created['id']}/", HTTP_IF_MATCH='"1"').status_code == 204
    settle()
    second = client.get(URL, {"since": first["cursor"]}).json()
    assert second["results"] == [{"id": created["id"], "external_id": "r-1", "deleted": True,
                                  "deleted_at": second["results"][0]["deleted_at"]}]
    assert client.get(f"{URL}{created['id']}/").status_code == 404


@pytest.mark.django_db
def test_lines_read_in_bulk_equal_drf(editor):
    lines = [ResourceLineFactory(amount="1250000.5", source="FMF", note="n"),
             ResourceLineFactory(side="", fiscal_year=None, currency="KRW", amount="1300000000")]
    reader = BulkRepresentation(ResourceLineSerializer)
    bulk = reader.represent(reader.values(ResourceLine.all_objects.filter(pk__in=[x.pk for x in lines])
                                          .order_by("pk")))
    drf = [ResourceLineSerializer(ResourceLine.all_objects.get(pk=x.pk)).data for x in lines]
    assert bulk == drf and bulk[0]["amount"] == "1250000.50"


@pytest.mark.django_db
def test_the_schema_documents_the_resource(api_client, viewer):
    schema = api_client(viewer).get("/api/v1/schema/", {"format": "json"}).json()
    assert {"/api/v1/resource-lines/", "/api/v1/resource-lines/{id}/"} <= set(schema["paths"])
    component = schema["components"]["schemas"]["ResourceLine"]
    assert set(component["properties"]) == REPRESENTATION
    parameters = {p["name"] for p in schema["paths"][URL]["get"]["parameters"]}
    assert {"project", "side", "kind", "currency", "fiscal_year", "since"} <= parameters
    assert {"project", "side", "kind", "amount", "currency"} <= set(
        schema["components"]["schemas"]["ResourceLineRequest"]["required"])
    assert "409" in schema["paths"][URL]["post"]["responses"]


# --- Query counts: 10 vs 1,000 records ------------------------------------------------------


def _bulk(count, start=0):
    project = CooperativeProject.objects.create(title=f"Bulk {start}", priority_area=area(), lead_side="joint")
    ResourceLine.objects.bulk_create(
        ResourceLine(project=project, side=["us", "rok", "partner", "industry"][n % 4],
                     kind=["planned", "committed", "spent"][n % 3], amount=Decimal(n), currency=["USD", "KRW"][n % 2],
                     fiscal_year=2026, external_id=f"r-{start + n}") for n in range(count))


def _queries(client, params):
    settle()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(captured), response.json()["results"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("params", [{"page_size": 1000}, {"since": "", "page_size": 1000},
                                    {"page_size": 1000, "fiscal_year": 2026}],
                         ids=["list", "sync feed", "filtered list"])
def test_a_page_costs_the_same_queries_for_10_and_1000_records(api_client, viewer, params):
    client = api_client(viewer)
    _bulk(10)
    few, results = _queries(client, params)
    assert len(results) == 10
    _bulk(990, start=10)
    many, results = _queries(client, params)
    assert len(results) == 1000
    assert many == few

"""The schema as strict validators and generated clients read it (issue 13).

Every answer of the API suite is validated against the schema by the
``_contract`` fixture (tests/api/conftest.py, tests/api/contract.py); the
tests here prove that check is really on, and pin what the integrator's
report found: blank-or-URL strings as ``oneOf`` unions, integers typed
``number``, an undocumented ``Retry-After``, tombstones whose ``external_id``
was ``""`` on one resource and ``null`` on another, and component names a
generator must rename."""

import copy
import json
import re

import pytest

from projects import services as project_services
from tests.factories import OrganizationFactory, PointOfContactFactory

from . import contract
from .conftest import settle

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_client, viewer):
    response = api_client(viewer).get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _walk(node, path=""):
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


# --- The contract check is on ---------------------------------------------------------------


def test_a_wrong_answer_fails_the_contract_check(api_client, viewer):
    organization = OrganizationFactory(name="Hanwha Ocean", side="industry", website="")
    response = api_client(viewer).get(f"/api/v1/organizations/{organization.pk}/")  # checked, and valid
    assert response.status_code == 200
    good = response.json()
    headers = dict(response.items())
    url = f"/api/v1/organizations/{organization.pk}/"

    def answer(body, status=200, answer_headers=headers):
        contract.check(method="GET", url=url, status=status, headers=answer_headers,
                       body=json.dumps(body).encode())

    answer(good)
    wrong = [
        {**good, "version": "three"},  # a wrong type
        {**good, "website": None},  # null where the schema says a string
        {**good, "colour": "blue"},  # a property the schema does not name (strict)
        {key: value for key, value in good.items() if key != "name"},  # a required one missing
    ]
    for body in wrong:
        with pytest.raises(contract.ContractViolation, match=r"GET /api/v1/organizations/\d+/ -> 200"):
            answer(body)
    with pytest.raises(contract.ContractViolation, match="-> 418"):  # a status the operation does not document
        answer({"detail": "teapot"}, status=418)
    without_etag = {key: value for key, value in headers.items() if key != "ETag"}
    with pytest.raises(contract.ContractViolation, match="ETag"):  # a documented, required header missing
        answer(good, answer_headers=without_etag)


def test_the_clients_of_the_api_tests_are_checked(api_client, http, viewer, monkeypatch):
    """The fixture wraps the clients: against a schema that says ``version`` is a string, a real
    answer fails the test at the request, in process and over real HTTP."""
    organization = OrganizationFactory(name="Austal", side="industry")
    tampered = copy.deepcopy(contract.spec())
    tampered["components"]["schemas"]["Organization"]["properties"]["version"]["type"] = "string"
    monkeypatch.setattr(contract, "openapi", lambda: contract.validator(tampered))
    url = f"/api/v1/organizations/{organization.pk}/"
    with pytest.raises(contract.ContractViolation, match=r"GET /api/v1/organizations/\d+/ -> 200 .*version"):
        api_client(viewer).get(url)


@pytest.mark.django_db(transaction=True)
def test_answers_over_real_http_are_checked(http, viewer, monkeypatch):
    organization = OrganizationFactory(name="Austal", side="industry")
    tampered = copy.deepcopy(contract.spec())
    del tampered["components"]["schemas"]["Organization"]["properties"]["notes"]
    monkeypatch.setattr(contract, "openapi", lambda: contract.validator(tampered))
    with pytest.raises(contract.ContractViolation, match="notes"):  # now a property the schema does not name
        http(viewer).get(f"/api/v1/organizations/{organization.pk}/")


def test_head_and_gzip_answers_are_checked_not_crashed(api_client, viewer, monkeypatch):
    """HEAD is checked as the GET it mirrors (status, headers), a gzip body after decompressing it."""
    organization = OrganizationFactory(name="Hanwha", side="industry", notes="Builds hulls. " * 40)
    client = api_client(viewer)
    url = f"/api/v1/organizations/{organization.pk}/"
    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    compressed = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert compressed["Content-Encoding"] == "gzip"
    # Both are really validated: a schema that requires a header the answer lacks fails them.
    tampered = copy.deepcopy(contract.spec())
    get = tampered["paths"]["/api/v1/organizations/{id}/"]["get"]
    get["responses"]["200"]["headers"]["X-Missing"] = {"schema": {"type": "string"}, "required": True}
    monkeypatch.setattr(contract, "openapi", lambda: contract.validator(tampered))
    monkeypatch.setattr(contract, "openapi_headers", lambda: contract.OpenAPI.from_dict(
        tampered, config=contract.Config(response_validator_cls=contract.V30ResponseHeadersValidator)))
    for request in (lambda: client.head(url), lambda: client.get(url, HTTP_ACCEPT_ENCODING="gzip")):
        with pytest.raises(contract.ContractViolation, match="X-Missing"):
            request()


def test_html_is_skipped_only_when_it_was_asked_for():
    url = "/api/v1/organizations/1/"
    html = {"Content-Type": "text/html; charset=utf-8"}
    error_page = b"<h1>Server Error (500)</h1>"
    with pytest.raises(contract.ContractViolation, match="-> 500"):
        contract.check(method="GET", url=url, status=500, headers=html, body=error_page)
    with pytest.raises(contract.ContractViolation, match="-> 500"):
        contract.check(method="GET", url=url, status=500, headers=html, body=error_page,
                       request_headers={"Accept": "application/json"})
    # The browsable API, asked for: HTML for a person, not the contract.
    contract.check(method="GET", url=url + "?format=api", status=200, headers=html, body=b"<html></html>")
    contract.check(method="GET", url=url, status=200, headers=html, body=b"<html></html>",
                   request_headers={"Accept": "text/html,application/xhtml+xml"})


def test_404_and_405_outside_the_operations_must_still_be_the_error_shape(api_client, viewer):
    as_json = {"Content-Type": "application/json"}
    with pytest.raises(contract.ContractViolation, match="error shape"):
        contract.check(method="GET", url="/api/v1/nothing-here/", status=404, headers=as_json,
                       body=b'{"whatever": [1, 2, 3]}')
    with pytest.raises(contract.ContractViolation, match="error shape"):
        contract.check(method="DELETE", url="/api/v1/priority-areas/", status=405, headers=as_json,
                       body=b"not json at all")
    with pytest.raises(contract.ContractViolation, match="not an operation"):
        contract.check(method="PATCH", url="/api/v1/priority-areas/", status=200, headers=as_json, body=b"{}")
    # The API's real answers pass.
    client = api_client(viewer)
    assert client.get("/api/v1/nothing-here/").status_code == 404
    assert client.delete("/api/v1/priority-areas/").status_code in (403, 405)


# --- What the report found ------------------------------------------------------------------


def test_strings_that_may_be_empty_are_plain_strings(schema, api_client, viewer):
    components = schema["components"]["schemas"]
    assert components["Organization"]["properties"]["website"]["type"] == "string"
    assert components["PointOfContact"]["properties"]["email"]["type"] == "string"
    for path, node in _walk(schema):
        if isinstance(node, dict) and "oneOf" in node:
            assert {"type": "string", "maxLength": 0} not in node["oneOf"], path
    # Real answers with an empty and a set value both pass the (strict) contract check.
    OrganizationFactory(name="No site", side="industry", website="")
    OrganizationFactory(name="A site", side="industry", website="https://example.org/")
    PointOfContactFactory(side="us", email="")
    client = api_client(viewer)
    assert client.get("/api/v1/organizations/").status_code == 200
    assert client.get("/api/v1/contacts/").status_code == 200


def test_integers_are_integers(schema):
    numbers = [path for path, node in _walk(schema) if isinstance(node, dict) and node.get("type") == "number"]
    assert numbers == []
    parameters = {(path, p["name"]): p["schema"] for path, item in schema["paths"].items()
                  for op in item.values() if isinstance(op, dict) for p in op.get("parameters", [])}
    assert parameters[("/api/v1/projects/", "year")]["type"] == "integer"
    assert parameters[("/api/v1/engagements/", "year")]["type"] == "integer"
    assert parameters[("/api/v1/actions/", "project")]["type"] == "integer"


def test_every_429_documents_retry_after(schema):
    count = 0
    for item in schema["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "429" in operation.get("responses", {}):
                header = operation["responses"]["429"]["headers"]["Retry-After"]
                assert header["schema"]["type"] == "integer"
                count += 1
    assert count > 50


@pytest.mark.django_db(transaction=True)
def test_a_tombstone_s_external_id_is_null_when_absent_on_every_resource(http, viewer, lead, make_project,
                                                                         scm_2026, administrator):
    from scm_reports import services as scm_services

    without = make_project(title="No external id")
    with_id = make_project(title="With one", external_id="mnd-7")
    for project in (without, with_id):
        project_services.project_soft_delete(project=project, by=lead)
    scm_services.scm_cycle_delete(cycle=scm_2026, by=administrator)
    settle()
    client = http(viewer)
    projects = client.get("/api/v1/projects/", params={"since": ""}).json()["results"]
    tombstones = {item["id"]: item for item in projects if item.get("deleted")}
    assert tombstones[without.pk]["external_id"] is None
    assert tombstones[with_id.pk]["external_id"] == "mnd-7"
    cycles = client.get("/api/v1/scm-cycles/", params={"since": ""}).json()["results"]
    assert [item["external_id"] for item in cycles if item.get("deleted")] == [None]


def test_component_names_do_not_clash(schema):
    components = schema["components"]["schemas"]
    names = list(components)

    def key(name):  # how a generator or a case-insensitive file system sees a name
        return re.sub(r"\d+$", "", name).lower()

    seen = {}
    for name in names:
        assert key(name) not in seen, f"{name} and {seen[key(name)]} differ only by case or a trailing digit"
        seen[key(name)] = name
    objects = {name.lower() for name, c in components.items() if c.get("type") == "object"}
    for name, component in components.items():
        if "enum" in component:
            assert name.lower() not in objects, name
            assert name.lower().removesuffix("enum") not in objects, f"enum {name} is named after an object"

    # An inline enum or object is named by generators after its property or parameter
    # (``priority_area`` -> ``PriorityArea``): none may take a component's name.
    def camel(text):
        return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\-\s]+", text) if part).lower()

    taken = {key(name) for name in names}
    for path, node in _walk(schema):
        if not (isinstance(node, dict) and "properties" in node):
            continue
        for prop, value in node["properties"].items():
            value = value.get("items", value)
            if "$ref" not in value and ("enum" in value or value.get("type") == "object"):
                assert camel(prop) not in taken, f"{path}/{prop}"
    for item in schema["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                value = parameter["schema"].get("items", parameter["schema"])
                if "enum" in value:
                    assert camel(parameter["name"]) not in taken, parameter["name"]

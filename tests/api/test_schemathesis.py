"""Property-based: schemathesis generates requests from the schema for every
operation (its examples, coverage cases at the edges of each constraint, and
random ones) and sends them to a live server as an administrator, who may
call every operation. No answer may be a server error, and every answer must
be one the schema documents, in the documented shape."""

import os

import pytest
import schemathesis
from django.core.management.color import no_style
from django.db import connection
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from contacts.models import Organization, PointOfContact
from projects import services as project_services
from projects.models import CooperativeProject, Engagement
from tests.factories import EngagementFactory, OrganizationFactory, PointOfContactFactory, area

from .conftest import issue_key

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def number_from_one(*models):
    """Empty tables number their rows from 1 again, so the ids the schema's
    examples name (1) exist and the examples exercise successful writes."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)
        else:
            for model in models:
                cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [model._meta.db_table])


@pytest.fixture
def admin_headers(administrator):
    return {"Authorization": f"Token {issue_key(administrator)}"}


@pytest.fixture
def api_schema(live_server, admin_headers, lead):
    number_from_one(Organization, PointOfContact, CooperativeProject, Engagement)
    OrganizationFactory(side="industry", name="Example Yard")
    poc = PointOfContactFactory(side="us", is_lead=True)
    project = project_services.project_create(by=lead, title="Seed", priority_area=area(), lead_side="joint",
                                              external_id="seed-1", us_lead_poc=poc, partner_countries=["PH"])
    EngagementFactory(projects=[project]).participants.set([poc])
    deleted = project_services.project_create(by=lead, title="Deleted", priority_area=area(), lead_side="us")
    project_services.project_soft_delete(project=deleted, by=lead)
    return schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/?format=json", headers=admin_headers)


schema = schemathesis.pytest.from_fixture("api_schema")


# Examples per operation: 12 keeps the whole suite within CI's time (≈ 50 operations, real HTTP); a deeper
# local run: RCF_SCHEMATHESIS_EXAMPLES=100.
EXAMPLES = int(os.environ.get("RCF_SCHEMATHESIS_EXAMPLES", "12"))


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_operation_answers_a_server_error_or_breaks_the_schema(case, admin_headers):
    case.call_and_validate(headers=admin_headers, checks=CHECKS, timeout=30)

"""The bulk reader behind lists and the sync feed gives exactly what DRF's own
serializer gives, so the fast path cannot drift from the documented shape."""

import datetime

import pytest

from contacts.serializers import OrganizationSerializer, PointOfContactSerializer
from projects import services as project_services
from projects.serializers import EngagementSerializer, ProjectSerializer
from rcf.serializers import BulkRepresentation
from scm_reports.serializers import SCMCycleSerializer
from tests.factories import (
    EngagementFactory,
    OrganizationFactory,
    PointOfContactFactory,
    ProjectFactory,
    SCMCycleFactory,
    country,
)

pytestmark = pytest.mark.django_db


def _both(serializer_class, instances):
    reader = BulkRepresentation(serializer_class)
    model = serializer_class.Meta.model
    pks = [i.pk for i in instances]
    bulk = reader.represent(reader.values(model.all_objects.filter(pk__in=pks).order_by("pk")))
    drf = [serializer_class(model.all_objects.get(pk=pk)).data for pk in sorted(pks)]
    return bulk, drf


def test_projects_read_in_bulk_equal_drf_field_by_field(make_project, advance, lead):
    industry = [OrganizationFactory(side="industry", name=f"Yard {n}") for n in range(2)]
    full = make_project(
        external_id="ext-1", summary="All fields", channel="Working group", priority=None,
        additional_areas=["capacity-building", "information-sharing"], partner_countries=["VN", "PH", "FJ"],
        complemented_partners=["AU", "JP"], industry_partners=industry,
        target_year=2026, start_date=datetime.date(2026, 1, 5),
        end_date=datetime.date(2027, 3, 1), complementary_efforts="Japan's OSA",
    )
    advance(full, "under_review", "prioritized", "ready", today=datetime.date(2026, 2, 1),
            ready_on=datetime.date(2026, 1, 20))
    bare = project_services.project_create(by=lead, title="Bare", priority_area="maritime-security",
                                           lead_side="us")
    bulk, drf = _both(ProjectSerializer, [full, bare])
    assert bulk == drf
    assert [list(r) for r in bulk] == [list(r) for r in drf]  # the same keys in the same order
    assert bulk[0]["ready_on"] == "2026-01-20"
    assert bulk[0]["created_at"].endswith("Z")


def test_other_resources_read_in_bulk_equal_drf():
    org = OrganizationFactory(side="partner", country=country("VN"), website="https://example.org")
    poc = PointOfContactFactory(side="rok", organization=OrganizationFactory(side="rok"))
    poc.priority_areas.set([1, 3])
    engagement = EngagementFactory(location="Manila", kind="b2b", projects=[ProjectFactory(), ProjectFactory()],
                                   other_participants=[{"name": "Maria Santos", "organization": "PCG"}])
    engagement.participants.set([poc])
    engagement.industry_organizations.set([OrganizationFactory(side="industry")])
    engagement.partner_countries.set([country("VN"), country("PH")])
    cycle = SCMCycleFactory(meeting_date=datetime.date(2031, 11, 1), readiness_deadline=datetime.date(2031, 10, 1))
    for serializer, instance in (
        (OrganizationSerializer, org),
        (PointOfContactSerializer, poc),
        (EngagementSerializer, engagement),
        (SCMCycleSerializer, cycle),
    ):
        bulk, drf = _both(serializer, [instance])
        assert bulk == drf, serializer.__name__

"""Timestamps and dates read in bulk (issue 14: formatted by PostgreSQL, or a column
at a time in Python elsewhere) are exactly what DRF's own serializer writes, with
and without microseconds."""

import datetime

import pytest

from projects.models import CooperativeProject
from projects.serializers import ProjectSerializer
from rcf.serializers import BulkRepresentation

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("moment", [
    datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),  # whole seconds: no fraction at all
    datetime.datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=datetime.UTC),  # 000007
    datetime.datetime(2026, 12, 31, 23, 59, 59, 120000, tzinfo=datetime.UTC),  # 120000, not .12
    datetime.datetime(999, 3, 4, 5, 6, 7, tzinfo=datetime.UTC),  # a year of three digits: 0999
])
def test_bulk_timestamps_equal_drf(make_project, moment):
    project = make_project(start_date=datetime.date(2026, 1, 5))
    CooperativeProject.all_objects.filter(pk=project.pk).update(created_at=moment, updated_at=moment)
    reader = BulkRepresentation(ProjectSerializer)
    bulk = reader.represent(reader.values(CooperativeProject.all_objects.filter(pk=project.pk)))
    drf = ProjectSerializer(CooperativeProject.all_objects.get(pk=project.pk)).data
    assert bulk == [drf]
    assert bulk[0]["created_at"] == drf["created_at"] == moment.isoformat().replace("+00:00", "Z")
    assert bulk[0]["start_date"] == "2026-01-05" and bulk[0]["ready_on"] is None

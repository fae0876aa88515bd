"""Database constraints hold even when code skips validation."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from projects.models import CooperativeProject
from scm_reports.models import SCMCycle
from tests.factories import PointOfContactFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def _violates(**fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        ProjectFactory(**fields)


def test_end_date_before_start_date():
    _violates(start_date=datetime.date(2026, 2, 1), end_date=datetime.date(2026, 1, 1))


def test_priority_outside_1_to_5():
    _violates(priority=0)
    _violates(priority=6)


@pytest.mark.parametrize("status", ["ready", "presented", "in_implementation", "completed"])
def test_ready_on_required_once_ready(status):
    _violates(status=status, priority=1, ready_on=None)


@pytest.mark.parametrize("status", ["concept", "under_review", "prioritized"])
def test_ready_on_forbidden_before_ready(status):
    _violates(status=status, priority=1, ready_on=datetime.date(2025, 1, 1))


def test_on_hold_may_keep_a_ready_on_from_before():
    ProjectFactory(status="on_hold", ready_on=datetime.date(2025, 1, 1))


def test_unknown_status():
    _violates(status="lost")


def test_duplicate_external_id():
    ProjectFactory(external_id="abc")
    _violates(external_id="abc")
    ProjectFactory(external_id="")
    ProjectFactory(external_id="")  # blank is "not set": many allowed


def test_lead_poc_of_the_wrong_side_is_refused_by_the_database():
    rok = PointOfContactFactory(side="rok")
    _violates(us_lead_poc=rok)
    us = PointOfContactFactory(side="us")
    _violates(rok_lead_poc=us)
    project = ProjectFactory(us_lead_poc=us)
    with pytest.raises(IntegrityError), transaction.atomic():
        CooperativeProject.objects.filter(pk=project.pk).update(us_lead_poc=rok)


def test_a_lead_poc_cannot_change_side_under_a_project():
    us = PointOfContactFactory(side="us")
    ProjectFactory(us_lead_poc=us)
    us.side = "rok"
    with pytest.raises(IntegrityError), transaction.atomic():
        us.save()


def test_scm_year_must_be_the_meeting_year_and_deadline_not_after_meeting():
    with pytest.raises(IntegrityError), transaction.atomic():
        SCMCycle.objects.create(number=60, year=2027, meeting_date=datetime.date(2028, 11, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        SCMCycle.objects.create(number=60, year=2028, meeting_date=datetime.date(2028, 11, 1),
                                readiness_deadline=datetime.date(2028, 11, 2))
    with pytest.raises(IntegrityError), transaction.atomic():
        SCMCycle.objects.create(number=57, year=2028, meeting_date=datetime.date(2028, 11, 1))

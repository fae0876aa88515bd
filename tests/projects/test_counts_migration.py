"""Upgrading a database that already holds projects: the migration creates
the dashboard's summary rows empty, and the projects are counted once after
the whole migration run (projects.apps.count_existing_projects), with the
current code and schema. Migrates the real test database back and forth, so
it runs outside a test transaction and ends at the latest state."""

import datetime

import pytest
from django.core.management import call_command

from tests.projects.test_resource_migration import _migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("projects", "0011_search_trigram")]


@pytest.fixture
def before_summary_rows():
    try:
        yield _migrate(BEFORE)
    finally:
        call_command("migrate", verbosity=0)


def test_the_projects_already_there_are_counted_once_the_migrations_have_run(before_summary_rows):
    apps = before_summary_rows
    Project = apps.get_model("projects", "CooperativeProject")
    area = apps.get_model("rcf", "PriorityArea").objects.get(code="maritime-security")
    Project.objects.create(title="Coast guard training", priority_area=area, lead_side="us", target_year=2026)
    Project.objects.create(title="Cyber range", priority_area=area, lead_side="rok", status="ready", priority=1,
                           ready_on=datetime.date(2025, 3, 1))

    call_command("migrate", verbosity=0)  # what an upgrade runs

    from projects import counts
    from projects.models import DashboardCount

    assert DashboardCount.objects.exists()
    assert counts.drift() == []
    from scm_reports.dashboard import dashboard

    board = dashboard(today=datetime.date(2026, 1, 10))
    assert board.matrix["total"] == 2

import datetime

import pytest

from scm_reports.models import SCMCycle


@pytest.fixture
def scm_2026(db):
    """The 58th SCM, on a date of the test's choosing (5 Nov 2026)."""
    return SCMCycle.objects.create(number=58, year=2026, meeting_date=datetime.date(2026, 11, 5),
                                   location="Washington")


@pytest.fixture
def ready_project(make_project, advance):
    """A project that became ready on ``ready_on`` (evaluated as of ``today``)."""

    def make(ready_on, today=None, **fields):
        project = make_project(**fields)
        return advance(project, "under_review", "prioritized", "ready",
                       today=today or max(ready_on, datetime.date(2026, 1, 1)), ready_on=ready_on)

    return make

"""Every synced table stamps sync_txid on insert and update, by trigger
(SQLite drops triggers when a migration rebuilds a table: this catches it)."""

import datetime

import pytest
from django.apps import apps
from django.db import transaction

from rcf.models import TrackedModel
from tests.factories import EngagementFactory, OrganizationFactory, PointOfContactFactory, ProjectFactory

pytestmark = pytest.mark.django_db(transaction=True)

MAKERS = {
    "contacts.Organization": OrganizationFactory,
    "contacts.PointOfContact": PointOfContactFactory,
    "projects.CooperativeProject": ProjectFactory,
    "projects.Engagement": EngagementFactory,
    # Issue 10: a U.S. proposal to prioritise.
    "projects.Concurrence": lambda: apps.get_model("projects", "Concurrence").objects.create(
        project=ProjectFactory(), step="prioritized", from_status="under_review", project_version=1, priority=2,
        side="us",
    ),
    "scm_reports.SCMCycle": lambda: apps.get_model("scm_reports", "SCMCycle").objects.create(
        number=90, year=2058, meeting_date=datetime.date(2058, 11, 1)
    ),
    # Issue 10: a presentation at the (seeded) 57th SCM.
    "scm_reports.SCMPresentation": lambda: apps.get_model("scm_reports", "SCMPresentation").objects.create(
        project=ProjectFactory(), scm_cycle=apps.get_model("scm_reports", "SCMCycle").objects.get(number=57),
        outcome="noted",
    ),
}


def test_every_tracked_model_is_covered():
    tracked = {
        m._meta.label for m in apps.get_models() if issubclass(m, TrackedModel) and not m._meta.abstract
    }
    assert tracked == set(MAKERS)


@pytest.mark.parametrize("label", sorted(MAKERS))
def test_insert_and_update_stamp_a_later_sync_txid(label):
    model = apps.get_model(label)
    with transaction.atomic():
        obj = MAKERS[label]()
    inserted = model.all_objects.values_list("sync_txid", flat=True).get(pk=obj.pk)
    assert inserted > 0
    with transaction.atomic():
        model.all_objects.filter(pk=obj.pk).update(version=obj.version)  # even a bare UPDATE
    updated = model.all_objects.values_list("sync_txid", flat=True).get(pk=obj.pk)
    assert updated > inserted

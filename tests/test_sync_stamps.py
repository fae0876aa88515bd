"""Every synced table stamps sync_txid on insert and update, by trigger
(SQLite drops triggers when a migration rebuilds a table: this catches it)."""


import pytest
from django.apps import apps
from django.db import transaction

from rcf.models import TrackedModel
from tests.factories import TRACKED_MODEL_MAKERS

pytestmark = pytest.mark.django_db(transaction=True)

MAKERS = TRACKED_MODEL_MAKERS


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

"""What loading a fixture (``manage.py loaddata``, e.g. a ``dumpdata``
backup into a fresh database) must and must not do.

Loaded rows are restored data, not changes: Django saves them with
``raw=True``, which django-simple-history honours for the record itself but
not for its many-to-many fields (``loaddata`` sets those after the save, and
``m2m_changed`` carries no ``raw`` flag). Each such set would write a history
row of its own, beside the history rows the fixture brings (and on
PostgreSQL collide with their ids). Marking the instance for the duration of
the load stops that.

The sync bookkeeping of another database must not be taken over as it is:
the loaded epoch row names the source's cluster and database, so on
PostgreSQL it is cleared and the first write starts a new epoch (cursors of
the source answer 410); on SQLite the epoch moves on at once. The SQLite
write counter never moves backwards (rows loaded before it were stamped
already).
"""

from django.db.models.signals import pre_save
from django.dispatch import receiver

from .models import SyncClock, SyncEpoch


@receiver(pre_save, dispatch_uid="rcf_fixture_rows_write_no_history")
def fixture_rows_write_no_history(sender, instance, raw=False, **kwargs):
    if raw and hasattr(sender._meta, "simple_history_manager_attribute"):
        # simple_history's post_save and m2m_changed receivers skip an
        # instance that has this attribute.
        instance.skip_history_when_saving = True


@receiver(pre_save, sender=SyncEpoch, dispatch_uid="rcf_fixture_epoch_is_another_databases")
def fixture_epoch_is_another_databases(sender, instance, raw=False, using=None, **kwargs):
    if not raw:
        return
    from django.db import connections

    if connections[using or "default"].vendor == "postgresql":
        instance.system_identifier = None  # another database's: rcf_sync_epoch() starts the next epoch
        instance.database_oid = None
    else:
        instance.epoch += 1


@receiver(pre_save, sender=SyncClock, dispatch_uid="rcf_fixture_clock_never_goes_back")
def fixture_clock_never_goes_back(sender, instance, raw=False, using=None, **kwargs):
    if raw:
        current = SyncClock.objects.using(using).filter(pk=instance.pk).values_list("value", flat=True).first()
        instance.value = max(instance.value, current or 0)

"""Write helpers shared by every app's services."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import TrackedModel


class VersionConflict(Exception):
    """The record changed since the caller read it (a lost update was refused).

    ``current`` is the record as it is now, so the caller can show what changed.
    """

    def __init__(self, current: TrackedModel):
        self.current = current
        super().__init__(
            f"{current._meta.verbose_name} {current.pk} is at version {current.version}"
        )


def claim_version(*, instance: TrackedModel, expected_version: int | None = None) -> None:
    """Atomically move ``instance`` from ``expected_version`` to the next one.

    One conditional ``UPDATE ... WHERE id = %s AND version = %s``: two writers
    holding the same version cannot both succeed, whatever the database's
    isolation level. Must run inside the caller's transaction, before the
    caller's ``save()``; the save then does not bump the version again.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("claim_version() must run inside transaction.atomic()")
    expected = instance.version if expected_version is None else expected_version
    model = type(instance)
    claimed = model.all_objects.filter(pk=instance.pk, version=expected).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    if not claimed:
        current = model.all_objects.filter(pk=instance.pk).first()
        if current is None:
            raise model.DoesNotExist(f"{model._meta.verbose_name} {instance.pk} does not exist")
        raise VersionConflict(current)
    instance.version = expected + 1
    instance._version_claimed = True


def validate_and_save(*, instance: TrackedModel, by=None, exclude=None) -> TrackedModel:
    """``full_clean()`` then ``save()``: the user gets per-field messages from
    validation, the database constraints catch anything validation missed."""
    instance.full_clean(exclude=exclude)
    if by is not None:
        instance._history_user = by
    instance.save()
    return instance


def soft_delete(*, instance: TrackedModel, by=None, expected_version: int | None = None):
    with transaction.atomic():
        if instance.deleted_at is not None:
            raise ValidationError(_("This record is already deleted."))
        claim_version(instance=instance, expected_version=expected_version)
        instance.deleted_at = timezone.now()
        if by is not None:
            instance._history_user = by
        instance.save()
    return instance


def restore(*, instance: TrackedModel, by=None):
    with transaction.atomic():
        if instance.deleted_at is None:
            raise ValidationError(_("This record is not deleted."))
        claim_version(instance=instance)
        instance.deleted_at = None
        if by is not None:
            instance._history_user = by
        instance.save()
    return instance

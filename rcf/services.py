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


def tracked_create(*, model, by=None, fields: dict, m2m: dict | None = None):
    """Create a tracked record: validate (per-field messages), save, set its
    many-to-many fields, all in one transaction."""
    with transaction.atomic():
        instance = model(**fields)
        validate_and_save(instance=instance, by=by)
        for name, values in (m2m or {}).items():
            getattr(instance, name).set(values)
    return instance


def tracked_update(*, instance, by=None, expected_version: int | None = None, fields: dict, m2m: dict | None = None):
    """Change a tracked record with the optimistic lock (``VersionConflict``
    when it moved past ``expected_version``, default: the version loaded)."""
    if instance.deleted_at is not None:
        raise ValidationError(_("A deleted record cannot be edited; restore it first."))
    with transaction.atomic():
        claim_version(instance=instance, expected_version=expected_version)
        for name, value in fields.items():
            setattr(instance, name, value)
        validate_and_save(instance=instance, by=by)
        for name, values in (m2m or {}).items():
            getattr(instance, name).set(values)
    return instance


def split_fields(data: dict, *, editable: tuple[str, ...], m2m: tuple[str, ...] = ()) -> tuple[dict, dict]:
    """Separate plain fields from many-to-many ones; refuse anything else by name."""
    unknown = set(data) - set(editable) - set(m2m)
    if unknown:
        raise ValidationError({name: [_("This field cannot be set.")] for name in sorted(unknown)})
    return (
        {k: v for k, v in data.items() if k in editable},
        {k: list(v) for k, v in data.items() if k in m2m},
    )


def resolve_codes(model, key: str, values, field: str, label: str) -> list:
    """Accept model instances or their codes (``iso2``, ``code``): sync clients
    and forms speak in codes. An unknown code is refused naming the field."""
    values = list(values)
    codes = [v for v in values if isinstance(v, str)]
    found = {}
    if codes:
        lookup = {f"{key}__in": [c.upper() if key == "iso2" else c for c in codes]}
        found = {getattr(o, key): o for o in model.objects.filter(**lookup)}
    resolved, unknown = [], []
    for value in values:
        if isinstance(value, str):
            obj = found.get(value.upper() if key == "iso2" else value)
            (resolved if obj else unknown).append(obj or value)
        else:
            resolved.append(value)
    if unknown:
        raise ValidationError(
            {field: [_("Unknown %(what)s: %(codes)s.") % {"what": label, "codes": ", ".join(unknown)}]}
        )
    return resolved

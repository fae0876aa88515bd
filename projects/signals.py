"""Signals other apps listen to, so this app need not import them."""

from django.dispatch import Signal

# Sent (with ``project``) when a change may move a project in or out of an SCM
# year's count: becoming ready, leaving ready, soft delete, restore. Sent
# inside the change's transaction, so a receiver can record follow-up work
# (an outbox row) that commits or rolls back with the change.
project_readiness_changed = Signal()


# --- The dashboard's summary rows when reference data is hard-deleted ----------------------------
# Deleting a priority area or a partner country (rcf's admin) deletes the projects' links to it without any
# service: the projects touching it are recounted around the delete (``projects.counts``), in its transaction.


def _linked_projects(instance) -> list[int]:
    from rcf.models import PartnerCountry, PriorityArea

    from .models import CooperativeProject

    if isinstance(instance, PriorityArea):
        through = CooperativeProject.additional_areas.through
        ids = set(through.objects.filter(priorityarea_id=instance.pk).values_list("cooperativeproject_id", flat=True))
        ids |= set(CooperativeProject.all_objects.filter(priority_area_id=instance.pk).values_list("pk", flat=True))
        return sorted(ids)
    if isinstance(instance, PartnerCountry):
        through = CooperativeProject.partner_countries.through
        return sorted(through.objects.filter(partnercountry_id=instance.pk)
                      .values_list("cooperativeproject_id", flat=True).distinct())
    return []


def reference_deleting(sender, instance, **kwargs):
    """``pre_delete``: the linked projects' contributions before (locked)."""
    from . import counts

    ids = _linked_projects(instance)
    if not ids:
        return
    outer = getattr(counts._local, "tracker", None)
    if outer is not None:  # a tracked block (a batch) around the delete counts them at its end
        outer.add(*ids)
        return
    tracker = counts.Tracker()
    tracker.add(*ids)
    instance._counts_tracker = tracker


def reference_deleted(sender, instance, **kwargs):
    """``post_delete``: the links are gone; apply the difference."""
    tracker = instance.__dict__.pop("_counts_tracker", None)
    if tracker is not None:
        tracker.finish()


def connect_reference_deletes() -> None:
    from django.db.models.signals import post_delete, pre_delete

    from rcf.models import PartnerCountry, PriorityArea

    for model in (PriorityArea, PartnerCountry):
        pre_delete.connect(reference_deleting, sender=model, dispatch_uid=f"projects.counts.deleting.{model.__name__}")
        post_delete.connect(reference_deleted, sender=model, dispatch_uid=f"projects.counts.deleted.{model.__name__}")

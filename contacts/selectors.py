"""Reads on organisations and points of contact."""

from django.db.models import Prefetch

from rcf.models import PriorityArea, Side

from .models import Organization, PointOfContact


def poc_directory() -> list[dict]:
    """Active and inactive live POCs grouped by side, then by priority area,
    lead POCs first. A POC with several areas appears under each; one with
    none under "No priority area". Two queries."""
    pocs = list(
        PointOfContact.objects.select_related("organization").prefetch_related("priority_areas")
        .order_by("-is_lead", "-active", "full_name")
    )
    areas = list(PriorityArea.objects.all())
    directory = []
    for side, side_label in Side.choices:
        side_pocs = [p for p in pocs if p.side == side]
        groups = []
        for area in areas:
            members = [p for p in side_pocs if any(a.pk == area.pk for a in p.priority_areas.all())]
            if members:
                groups.append({"area": area, "pocs": members})
        unassigned = [p for p in side_pocs if not p.priority_areas.all()]
        if unassigned:
            groups.append({"area": None, "pocs": unassigned})
        directory.append({"side": side, "label": side_label, "groups": groups, "count": len(side_pocs),
                          "leads": [p for p in side_pocs if p.is_lead]})
    return directory


def poc_detail(*, pk: int) -> PointOfContact:
    return (
        PointOfContact.objects.select_related("organization", "user")
        .prefetch_related("priority_areas")
        .get(pk=pk)
    )


def organization_list():
    return Organization.objects.select_related("country").prefetch_related(
        Prefetch("points_of_contact", queryset=PointOfContact.objects.order_by("-is_lead", "full_name"))
    )


LEAD_SIDES = ("us", "rok")


def acting_lead_poc(user) -> PointOfContact | None:
    """The lead POC a login acts as, or None.

    Lead-POC powers (the lifecycle steps beyond an editor's, priorities,
    proposing and concurring with joint decisions) come from being linked to
    a live, active lead POC of the U.S. or ROK side, never from a group
    alone: a person speaks for their side because the directory says so.
    One query; the link is one-to-one, so there is at most one."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return (
        PointOfContact.objects.select_related("organization")
        .filter(user_id=user.pk, is_lead=True, active=True, side__in=LEAD_SIDES)
        .first()
    )

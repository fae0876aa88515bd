"""Writes on organisations and points of contact."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from rcf.services import resolve_codes, restore, soft_delete, split_fields, tracked_create, tracked_update

from .models import Organization, PointOfContact

ORGANIZATION_FIELDS = ("name", "name_ko", "side", "country", "website", "notes")
POC_FIELDS = ("full_name", "full_name_ko", "title", "organization", "side", "email", "phone", "is_lead", "active",
              "user")
POC_M2M = ("priority_areas",)


def _resolve_country(fields: dict) -> None:
    from rcf.models import PartnerCountry

    if isinstance(fields.get("country"), str):
        fields["country"] = resolve_codes(PartnerCountry, "iso2", [fields["country"]], "country", _("country code"))[0]


def _resolve_areas(m2m: dict) -> None:
    from rcf.models import PriorityArea

    if m2m.get("priority_areas") is not None:
        m2m["priority_areas"] = resolve_codes(
            PriorityArea, "code", m2m["priority_areas"], "priority_areas", _("priority area code")
        )


def organization_create(*, by=None, **data) -> Organization:
    fields, _m2m = split_fields(data, editable=ORGANIZATION_FIELDS)
    _resolve_country(fields)
    return tracked_create(model=Organization, by=by, fields=fields)


def organization_update(*, organization: Organization, by=None, expected_version=None, **data) -> Organization:
    fields, _m2m = split_fields(data, editable=ORGANIZATION_FIELDS)
    _resolve_country(fields)
    return tracked_update(instance=organization, by=by, expected_version=expected_version, fields=fields)


def organization_delete(*, organization: Organization, by=None, expected_version=None) -> Organization:
    if organization.points_of_contact.exists():
        raise ValidationError(_("This organisation still has points of contact; move or delete them first."))
    return soft_delete(instance=organization, by=by, expected_version=expected_version)


def poc_side_change_check(poc: PointOfContact, new_side) -> None:
    if new_side is None or new_side == poc.side or poc.pk is None:
        return
    # Deleted projects too: they keep their leads and can be restored (the database trigger checks them all).
    led = poc.us_led_projects if poc.side == "us" else poc.rok_led_projects
    leads = led(manager="all_objects").exists()
    if leads:
        raise ValidationError(
            {"side": [_("This POC leads projects for the %(side)s side; replace them as lead first.")
                      % {"side": poc.get_side_display()}]}
        )


def poc_create(*, by=None, **data) -> PointOfContact:
    fields, m2m = split_fields(data, editable=POC_FIELDS, m2m=POC_M2M)
    _resolve_areas(m2m)
    return tracked_create(model=PointOfContact, by=by, fields=fields, m2m=m2m)


def poc_update(*, poc: PointOfContact, by=None, expected_version=None, **data) -> PointOfContact:
    fields, m2m = split_fields(data, editable=POC_FIELDS, m2m=POC_M2M)
    _resolve_areas(m2m)
    poc_side_change_check(poc, fields.get("side"))
    return tracked_update(instance=poc, by=by, expected_version=expected_version, fields=fields, m2m=m2m)


def poc_delete(*, poc: PointOfContact, by=None, expected_version=None) -> PointOfContact:
    return soft_delete(instance=poc, by=by, expected_version=expected_version)


def record_restore(*, instance, by=None):
    """Restore a soft-deleted organisation or POC (administrators)."""
    return restore(instance=instance, by=by)

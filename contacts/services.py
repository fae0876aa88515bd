"""Writes on organisations and points of contact."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from rcf.services import resolve_codes, restore, soft_delete, split_fields, tracked_create, tracked_update

from .models import Organization, PointOfContact

ORGANIZATION_FIELDS = ("name", "name_ko", "side", "country", "website", "notes")
POC_FIELDS = ("full_name", "full_name_ko", "title", "organization", "side", "email", "phone", "is_lead", "active",
              "user", "preferred_language")
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
    # ``id``: the spreadsheet import recreating a record under the ID it had (it checks the ID is free).
    fields, _m2m = split_fields(data, editable=(*ORGANIZATION_FIELDS, "id"))
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


# Who is a lead POC, and which login acts as which POC, decide who may take
# the lead steps (contacts.selectors.acting_lead_poc): administrators alone
# set them.
ADMIN_ONLY_FIELDS = ("is_lead", "user")
DESIGNATE_LEADS = "contacts.designate_lead_pointofcontact"


def can_designate_leads(user) -> bool:
    return user is None or user.has_perm(DESIGNATE_LEADS)


def _check_admin_only_fields(by, fields: dict, poc: PointOfContact | None) -> None:
    """Refuse, naming the field, a change of ``is_lead`` or of the linked
    login by anyone but an administrator (``by=None``: the system)."""
    if can_designate_leads(by):
        return
    defaults = {"is_lead": False, "user": None}
    errors = {}
    for name in ADMIN_ONLY_FIELDS:
        if name not in fields:
            continue
        current = getattr(poc, f"{name}_id" if name == "user" else name) if poc is not None else defaults[name]
        wanted = fields[name]
        if name == "user":
            wanted = getattr(wanted, "pk", wanted)
        if bool(wanted) != bool(current) or (name == "user" and wanted != current):
            errors[name] = [
                _("Only administrators can designate or remove lead POCs.") if name == "is_lead"
                else _("Only administrators can link a login to a point of contact.")
            ]
    lead_with_login = poc is not None and poc.is_lead and poc.user_id
    if lead_with_login and fields.get("side") not in (None, poc.side):
        # The side a lead acts for is part of the designation.
        errors["side"] = [_("Only administrators can move a lead POC with a login to the other side.")]
    if lead_with_login and "active" in fields and bool(fields["active"]) != poc.active:
        # An active lead POC's login holds the lead powers: reactivating one grants them, deactivating removes them.
        errors["active"] = [_("Only administrators can activate or deactivate a lead POC with a login.")]
    if errors:
        raise ValidationError(errors)


def poc_create(*, by=None, **data) -> PointOfContact:
    # ``id``: the spreadsheet import recreating a record under the ID it had (it checks the ID is free).
    fields, m2m = split_fields(data, editable=(*POC_FIELDS, "id"), m2m=POC_M2M)
    _check_admin_only_fields(by, fields, None)
    _resolve_areas(m2m)
    return tracked_create(model=PointOfContact, by=by, fields=fields, m2m=m2m)


def poc_update(*, poc: PointOfContact, by=None, expected_version=None, **data) -> PointOfContact:
    fields, m2m = split_fields(data, editable=POC_FIELDS, m2m=POC_M2M)
    _resolve_areas(m2m)
    poc_side_change_check(poc, fields.get("side"))
    _check_admin_only_fields(by, fields, poc)
    return tracked_update(instance=poc, by=by, expected_version=expected_version, fields=fields, m2m=m2m)


def poc_delete(*, poc: PointOfContact, by=None, expected_version=None) -> PointOfContact:
    if poc.is_lead and poc.user_id and not can_designate_leads(by):
        # Deleting a lead POC with a login removes its lead powers, as deactivating it does.
        raise PermissionDenied(_("Only administrators can delete a lead POC with a login."))
    return soft_delete(instance=poc, by=by, expected_version=expected_version)


def record_restore(*, instance, by=None):
    """Restore a soft-deleted organisation or POC (administrators)."""
    return restore(instance=instance, by=by)


# --- A user's own e-mail preferences (the profile page, issue 11) --------------------------


def poc_preferences_update(*, poc: PointOfContact, by, preferred_language: str, weekly_digest: bool,
                           expected_version: int | None = None) -> PointOfContact:
    """Change the language of ``poc``'s e-mails and their weekly digest
    opt-in, as ``by``: only the user whose login is linked to ``poc`` may,
    and nothing else of the record (the directory's fields are the editors').
    ``PermissionDenied`` for anyone else, a ValidationError naming the field
    for an unknown language, ``VersionConflict`` when the record changed."""
    from .models import PreferredLanguage

    if by is None or not getattr(by, "is_authenticated", False) or poc.user_id is None or poc.user_id != by.pk:
        raise PermissionDenied(_("You can change only your own preferences."))
    if preferred_language not in PreferredLanguage.values:
        raise ValidationError({"preferred_language": [_("Choose one of: %(choices)s.") % {
            "choices": ", ".join(str(label) for label in PreferredLanguage.labels)}]})
    if not isinstance(weekly_digest, bool):
        raise ValidationError({"weekly_digest": [_("Must be true or false.")]})
    return tracked_update(instance=poc, by=by, expected_version=expected_version,
                          fields={"preferred_language": preferred_language, "weekly_digest": weekly_digest})

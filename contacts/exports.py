"""The points of contact and the organisations as spreadsheet rows (CSV and
XLSX through ``rcf.exports``). One column definition each, shared with the
import (contacts.imports): a stable key per column (``?headers=keys``) and a
translated label; the import takes either."""

from django.utils.translation import gettext as _

from rcf.imports import Column, header


def organization_column_defs() -> list[Column]:
    return [
        Column("id", lambda: _("ID"), lambda o, ctx: o.pk),
        Column("name", lambda: _("Name"), lambda o, ctx: o.name, "name"),
        Column("name_ko", lambda: _("Korean name"), lambda o, ctx: o.name_ko, "name_ko"),
        Column("side", lambda: _("Side"), lambda o, ctx: str(o.get_side_display()), "side"),
        Column("country", lambda: _("Country"), lambda o, ctx: o.country.iso2 if o.country_id else "", "country"),
        Column("website", lambda: _("Website"), lambda o, ctx: o.website, "website"),
        Column("notes", lambda: _("Notes"), lambda o, ctx: o.notes, "notes"),
        Column("version", lambda: _("Version"), lambda o, ctx: o.version),
    ]


def poc_column_defs() -> list[Column]:
    return [
        Column("id", lambda: _("ID"), lambda p, ctx: p.pk),
        Column("full_name", lambda: _("Full name"), lambda p, ctx: p.full_name, "full_name"),
        Column("full_name_ko", lambda: _("Name in Korean"), lambda p, ctx: p.full_name_ko, "full_name_ko"),
        Column("title", lambda: _("Title"), lambda p, ctx: p.title, "title"),
        Column("organization", lambda: _("Organisation"), lambda p, ctx: p.organization.name, "organization"),
        Column("organization_side", lambda: _("Organisation side"),
               lambda p, ctx: str(p.organization.get_side_display())),
        Column("side", lambda: _("Side"), lambda p, ctx: str(p.get_side_display()), "side"),
        Column("email", lambda: _("E-mail"), lambda p, ctx: p.email, "email"),
        Column("phone", lambda: _("Phone"), lambda p, ctx: p.phone, "phone"),
        Column("is_lead", lambda: _("Lead POC"), lambda p, ctx: p.is_lead, "is_lead"),
        Column("active", lambda: _("Active"), lambda p, ctx: p.active, "active"),
        Column("priority_areas", lambda: _("Priority areas"),
               lambda p, ctx: ", ".join(a.code for a in p.priority_areas.all()), "priority_areas"),
        Column("preferred_language", lambda: _("Preferred language"), lambda p, ctx: p.preferred_language,
               "preferred_language"),
        Column("version", lambda: _("Version"), lambda p, ctx: p.version),
    ]


def rows(columns: list[Column], records) -> list[list]:
    return [[column.get(record, {}) for column in columns] for record in records]


def organization_export(*, keys: bool = False):
    from .models import Organization

    columns = organization_column_defs()
    records = Organization.objects.select_related("country").order_by("side", "name", "id")
    return header(columns, keys=keys), rows(columns, records)


def poc_export(*, keys: bool = False):
    from .models import PointOfContact

    columns = poc_column_defs()
    records = (PointOfContact.objects.select_related("organization").prefetch_related("priority_areas")
               .order_by("side", "-is_lead", "full_name", "id"))
    return header(columns, keys=keys), rows(columns, records)

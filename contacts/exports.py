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
        Column("side", lambda: _("Side"),
               lambda o, ctx: _label(ctx, "organization_side", o.side, o.get_side_display), "side"),
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
               lambda p, ctx: _label(ctx, "organization_side", p.organization.side, p.organization.get_side_display)),
        Column("side", lambda: _("Side"), lambda p, ctx: _label(ctx, "poc_side", p.side, p.get_side_display), "side"),
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


def _label(ctx, what: str, value, make) -> str:
    """A choice's display label looked up once per value for a whole export, not once per row."""
    labels = ctx.setdefault("labels", {})
    if (what, value) not in labels:
        labels[(what, value)] = str(make())
    return labels[(what, value)]


def rows(columns: list[Column], records, *, chunk_size: int | None = None):
    """The rows, the records read ``chunk_size`` at a time (``RCF_EXPORT_CHUNK_ROWS``; prefetches per batch)."""
    from rcf.export_jobs import chunk_rows

    ctx: dict = {}
    source = records.iterator(chunk_size=chunk_size or chunk_rows()) if hasattr(records, "iterator") else records
    for record in source:
        yield [column.get(record, ctx) for column in columns]


def _organizations():
    from .models import Organization

    return Organization.objects.select_related("country").order_by("side", "name", "id")


def _pocs():
    from .models import PointOfContact

    return (PointOfContact.objects.select_related("organization").prefetch_related("priority_areas")
            .order_by("side", "-is_lead", "full_name", "id"))


def organization_export(*, keys: bool = False):
    columns = organization_column_defs()
    return header(columns, keys=keys), rows(columns, _organizations())


def poc_export(*, keys: bool = False):
    columns = poc_column_defs()
    return header(columns, keys=keys), rows(columns, _pocs())


EXPORTS = {"organizations": (organization_export, _organizations, lambda: _("Organisations")),
           "pocs": (poc_export, _pocs, lambda: _("Points of contact"))}


def _make_export(run, out, progress) -> None:
    """An export job's file (rcf.export_jobs): the points of contact or the organisations."""
    from rcf.exports import csv_write, xlsx_write

    export, records, sheet = EXPORTS[run.kind]
    progress.total(records().count())
    head, body = export(keys=run.params.get("headers") == "keys")
    if run.fmt == "csv":
        csv_write(out, header=head, rows=body, on_row=progress.row)
    else:
        xlsx_write(out, sheets=[(sheet(), head, body)], on_row=progress.row)


def _register() -> None:
    from rcf.export_jobs import register_export_kind

    permissions = {"organizations": "contacts.view_organization", "pocs": "contacts.view_pointofcontact"}
    for kind in EXPORTS:
        register_export_kind(kind, _make_export, permission=permissions[kind])


_register()

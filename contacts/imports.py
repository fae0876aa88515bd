"""Import organisations and points of contact from a spreadsheet in the shape
of their exports (contacts.exports: one column definition for both), through
contacts.services. The machinery (reading, header, one transaction, dry run)
is ``rcf.imports``.

Matching: an organisation by its ID, else by its name and side; a point of
contact by its ID, else by its e-mail. A row matching nothing creates the
record (under the row's ID when it is free, so an export imported into an
empty database comes back the same). Which of the two a file holds is told
by its header (a "Full name" column: points of contact)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from rcf.import_jobs import register_import_kind
from rcf.imports import (
    CellError,
    Importer,
    ImportFileError,
    RowResult,
    boolean,
    choice,
    header_lookup,
    integer,
    open_rows,
    shown,
    text,
)
from rcf.models import Side

from . import services
from .exports import organization_column_defs, poc_column_defs
from .models import Organization, OrganizationSide, PointOfContact, PreferredLanguage


def _norm(value) -> str:
    return " ".join(str(value).split()).casefold()


class _ContactImporter(Importer):
    def __init__(self, *, by):
        super().__init__(by=by)
        self.columns = self.column_defs()
        self.by_key = {c.key: c for c in self.columns}

    def label(self, key):
        return str(self.by_key[key].label())

    def _row_id(self, cells):
        try:
            number = integer(cells.get("id"))
        except CellError:
            return None
        return number if number is not None and 0 < number < 2**31 else None

    def _perm(self, result, action) -> bool:
        codename = f"contacts.{action}_{self.model._meta.model_name}"
        if self.by is not None and not self.by.has_perm(codename):
            result.error("", _("Your role does not allow this change."))
            return False
        return True

    def _version(self, result, cells, target) -> None:
        if "version" not in cells:
            return
        try:
            version = integer(cells["version"])
        except CellError as error:
            result.error(self.label("version"), error)
            return
        if version is not None and version != target.version:
            result.error(self.label("version"), _(
                "The record changed since this file was exported (version %(file)s, now %(now)s): export again "
                "and redo the change.") % {"file": version, "now": target.version})
        result.extra["expected_version"] = version

    def _diff(self, result, new, target) -> dict:
        changed = {}
        for name, value in new.items():
            old = getattr(target, name) if name != "priority_areas" else sorted(
                target.priority_areas.all(), key=lambda a: a.code)
            if self._comparable(value) != self._comparable(old):
                changed[name] = value
                result.changes.append((self.field_label(name), self._show(old), self._show(value)))
        return changed

    @staticmethod
    def _comparable(value):
        if isinstance(value, list):
            return tuple(sorted(v.pk for v in value))
        if hasattr(value, "pk"):
            return value.pk
        return None if value == "" else value

    @staticmethod
    def _show(value):
        if isinstance(value, list):
            return shown([getattr(v, "code", str(v)) for v in value])
        if isinstance(value, Organization):
            return value.name
        return shown(value)

    def _plan_write(self, result, new, target, row_id, by_id) -> None:
        if target is None:
            if not self._perm(result, "add"):
                return
            data = dict(new)
            if row_id is not None and by_id is None:
                data["id"] = row_id
            result.action, result.data = "create", data
            result.changes = [(self.field_label(k), "", self._show(v)) for k, v in new.items()
                              if v not in (None, "", [], False)]
            return
        result.target = target
        self._version(result, result.extra.get("cells", {}), target)
        changed = self._diff(result, new, target)
        if result.errors or not changed:
            return
        if self._perm(result, "change"):
            result.action, result.data = "update", changed

    def apply(self, result: RowResult) -> None:
        if result.action == "create":
            data = self.keep_id(result.data)
            self.create(by=self.by, **data)
            if "id" in data:
                self.created_with_id()
        else:
            self.update(result.target, by=self.by,
                        expected_version=result.extra.get("expected_version") or result.target.version,
                        **result.data)


class OrganizationImporter(_ContactImporter):
    kind = "organizations"
    model = Organization

    @staticmethod
    def column_defs():
        return organization_column_defs()

    def create(self, **data):
        services.organization_create(**data)

    def update(self, target, **data):
        services.organization_update(organization=target, **data)

    def check_header(self, present):
        keys = {c.key for c in present}
        missing = [self.label(k) for k in ("name", "side") if k not in keys]
        if missing:
            return [_("The file needs the columns: %(names)s.") % {"names": ", ".join(missing)}]
        return []

    def prepare(self):
        from rcf.models import PartnerCountry

        self.countries = {}
        for country in PartnerCountry.objects.all():
            for name in (country.iso2, country.iso3, country.name, country.name_ko):
                if name:
                    self.countries.setdefault(_norm(name), country)

    def _side(self, cells):
        try:
            return choice(cells.get("side"), OrganizationSide.choices)
        except CellError:
            return None

    def identity(self, cells):
        row_id = self._row_id(cells)
        if row_id is not None:
            return f"ID {row_id}"
        name = _norm(text(cells.get("name")))
        return f"{name} ({self._side(cells) or text(cells.get('side'))})" if name else None

    def identity_label(self):
        return self.label("name")

    def match(self, rows):
        ids = {self._row_id(r) for r in rows} - {None}
        by_id = {o.pk: o for o in Organization.all_objects.select_related("country").filter(pk__in=ids)}
        names = {_norm(text(r.get("name"))) for r in rows} - {""}
        by_name = {}
        if names:
            for o in Organization.objects.select_related("country").all():
                if _norm(o.name) in names:
                    by_name[(_norm(o.name), o.side)] = o
        return {r["row"]: (by_id.get(self._row_id(r)), by_name.get((_norm(text(r.get("name"))), self._side(r))))
                for r in rows}

    def plan(self, result, cells, existing):
        by_id, by_name = existing
        row_id = self._row_id(cells)
        result.label = text(cells.get("name"))
        if "id" in cells and row_id is None and text(cells.get("id")):
            result.error(self.label("id"), _("Give a whole number."))
            return
        target = by_id or by_name
        if target is not None and target.deleted_at is not None:
            result.error(self.label("id"), _("This record is deleted; an administrator can restore it first."))
            return
        new = {}
        for key in ("name", "name_ko", "website", "notes"):
            if key in cells:
                new[key] = text(cells[key])
        if not new.get("name", "x"):
            result.error(self.label("name"), _("Give the name."))
        if "side" in cells:
            try:
                new["side"] = choice(cells["side"], OrganizationSide.choices)
            except CellError as error:
                result.error(self.label("side"), error)
        if "country" in cells:
            name = text(cells["country"])
            new["country"] = self.countries.get(_norm(name)) if name else None
            if name and new["country"] is None:
                result.error(self.label("country"), _("Unknown country “%(value)s”: give its ISO code or name.")
                             % {"value": name})
        if result.errors:
            return
        result.extra["cells"] = cells
        self._plan_write(result, new, target, row_id, by_id)


class PocImporter(_ContactImporter):
    kind = "points of contact"
    model = PointOfContact

    @staticmethod
    def column_defs():
        return poc_column_defs()

    def create(self, **data):
        services.poc_create(**data)

    def update(self, target, **data):
        services.poc_update(poc=target, **data)

    def check_header(self, present):
        keys = {c.key for c in present}
        missing = [self.label(k) for k in ("full_name", "side", "organization") if k not in keys]
        if missing and "id" not in keys and "email" not in keys:
            return [_("The file needs the columns: %(names)s.") % {"names": ", ".join(missing)}]
        return []

    def prepare(self):
        from rcf.models import PriorityArea

        self.areas = {}
        for area in PriorityArea.objects.all():
            for name in (area.code, area.name, area.name_ko):
                self.areas.setdefault(_norm(name), area)
        self.organizations = {}
        for organization in Organization.objects.all():
            for name in {organization.name, organization.name_ko} - {""}:
                self.organizations.setdefault(_norm(name), []).append(organization)

    def identity(self, cells):
        row_id = self._row_id(cells)
        if row_id is not None:
            return f"ID {row_id}"
        return text(cells.get("email")).casefold() or None

    def identity_label(self):
        return self.label("email")

    def match(self, rows):
        ids = {self._row_id(r) for r in rows} - {None}
        base = PointOfContact.all_objects.select_related("organization").prefetch_related("priority_areas")
        by_id = {p.pk: p for p in base.filter(pk__in=ids)}
        emails = {text(r.get("email")).casefold() for r in rows} - {""}
        by_email = {}
        if emails:
            for p in base.filter(deleted_at__isnull=True, email__iregex=r"^.+$"):
                if p.email.casefold() in emails:
                    by_email[p.email.casefold()] = p
        return {r["row"]: (by_id.get(self._row_id(r)), by_email.get(text(r.get("email")).casefold())) for r in rows}

    def _organization(self, result, cells, side):
        name = text(cells.get("organization"))
        if not name:
            result.error(self.label("organization"), _("Give the organisation."))
            return None
        candidates = self.organizations.get(_norm(name), [])
        if len(candidates) > 1 and text(cells.get("organization_side")):
            try:
                wanted = choice(cells["organization_side"], OrganizationSide.choices)
            except CellError as error:
                result.error(self.label("organization_side"), error)
                return None
            candidates = [o for o in candidates if o.side == wanted]
        if len(candidates) > 1:
            candidates = [o for o in candidates if o.side == side] or candidates
        if len(candidates) != 1:
            result.error(self.label("organization"), (
                _("No organisation is named “%(name)s”: import the organisations first.") if not candidates else
                _("Several organisations are named “%(name)s”: give its side in “%(column)s”."))
                % {"name": name, "column": self.label("organization_side")})
            return None
        return candidates[0]

    def plan(self, result, cells, existing):
        by_id, by_email = existing
        row_id = self._row_id(cells)
        result.label = text(cells.get("full_name")) or text(cells.get("email"))
        if "id" in cells and row_id is None and text(cells.get("id")):
            result.error(self.label("id"), _("Give a whole number."))
            return
        target = by_id or by_email
        if target is not None and target.deleted_at is not None:
            result.error(self.label("id"), _("This record is deleted; an administrator can restore it first."))
            return
        new = {}
        for key in ("full_name", "full_name_ko", "title", "email", "phone"):
            if key in cells:
                new[key] = text(cells[key])
        if not new.get("full_name", "x"):
            result.error(self.label("full_name"), _("Give the name."))
        for key, choices in (("side", Side.choices),
                             ("preferred_language", PreferredLanguage.choices)):
            if key in cells and (text(cells[key]) or key == "side"):
                try:
                    new[key] = choice(cells[key], choices)
                except CellError as error:
                    result.error(self.label(key), error)
        for key in ("is_lead", "active"):
            if key in cells and text(cells[key]):
                try:
                    new[key] = boolean(cells[key])
                except CellError as error:
                    result.error(self.label(key), error)
        if "organization" in cells:
            new["organization"] = self._organization(result, cells, new.get("side", getattr(target, "side", "")))
        if "priority_areas" in cells:
            names = [n.strip() for n in text(cells["priority_areas"]).replace(";", ",").split(",") if n.strip()]
            found = [self.areas.get(_norm(n)) for n in names]
            unknown = [n for n, a in zip(names, found, strict=True) if a is None]
            if unknown:
                result.error(self.label("priority_areas"), _(
                    "Unknown priority area: %(names)s (give codes or names).") % {"names": ", ".join(unknown)})
            new["priority_areas"] = sorted({a.pk: a for a in found if a}.values(), key=lambda a: a.code)
        if result.errors:
            return
        result.extra["cells"] = cells
        self._plan_write(result, new, target, row_id, by_id)


def importer_for(upload, name: str, *, by) -> _ContactImporter:
    """Organisations or points of contact, by the file's header: a "Full name"
    or "E-mail" column (label in either language, or key) means points of contact."""
    poc_keys = {"full_name", "email", "full_name_ko", "is_lead"}
    lookup = header_lookup(poc_column_defs())
    org_lookup = header_lookup(organization_column_defs())
    rows = open_rows(upload, name)
    for number, values in enumerate(rows, start=1):
        cells = [_norm(text(v)) for v in values if text(v)]
        if not cells:
            continue
        if number == 1 and len(cells) == 1 and cells[0] not in lookup and cells[0] not in org_lookup:
            continue  # the handling marking
        found = {lookup[c].key for c in cells if c in lookup}
        rows.close()
        upload.seek(0)
        return PocImporter(by=by) if found & poc_keys else OrganizationImporter(by=by)
    raise ImportFileError(_("The file has no header row."))


# The import page's background runs (rcf.import_jobs): the header tells points of contact from organisations.
register_import_kind("contacts", importer_for)

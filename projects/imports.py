"""Import cooperative projects from a spreadsheet in the shape of the project
export (``projects.exports.project_column_defs``: one column definition for
both). The machinery (reading, header, one transaction, dry run) is
``rcf.imports``; this module matches rows to projects and writes through
``projects.services``.

Matching: a row with an external id updates the project that has it; else a
row with an ID updates that project; anything else creates a project (under
the row's ID when no project has it, so an export imported into an empty
database comes back the same). Reference data by code or by name in either
language: priority areas (code, English or Korean name), partner countries
(ISO codes or names), lead POCs (e-mail, else full name in either language).

What the import does not change, and refuses to see changed: the status and
the ready date (the lifecycle, on the project page), resource amounts of an
existing project (line by line on its page; a new project gets one line per
side's amount). Ignored: "SCM year" and "Updated" (computed)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from rcf.import_jobs import register_import_kind
from rcf.imports import CellError, Column, Importer, RowResult, choice, date, decimal, integer, shown, text

from . import counts, services
from .exports import _amount_key, _kind_currency_keys, _side_keys, export_amount, project_column_defs
from .models import CooperativeProject, LeadSide, ProjectStatus


def _norm(value) -> str:
    return " ".join(str(value).split()).casefold()


def _ref(value) -> str:
    """A code or a name of reference data, spaces ignored ("해양 안보" is "해양안보")."""
    return "".join(str(value).split()).casefold()


class ProjectImporter(Importer):
    kind = "projects"
    model = CooperativeProject

    def __init__(self, *, by):
        super().__init__(by=by)
        self.columns: list[Column] = project_column_defs()
        self.by_key = {c.key: c for c in self.columns}

    def label(self, key: str) -> str:
        return str(self.by_key[key].label())

    def identity_label(self) -> str:
        return self.label("external_id")

    def field_label(self, name: str) -> str:
        fields = {"title": "title_en", "amount": None}
        key = fields.get(name, name)
        if key in self.by_key:
            return self.label(key)
        return super().field_label(name)

    def check_header(self, present):
        keys = {c.key for c in present}
        if not keys & {"title_en", "title_ko", "title", "external_id", "id"}:
            return [_("The file needs a title column (“English title”, “Korean title” or “Title”) or an "
                      "“External id” or “ID” column to match projects by.")]
        return []

    def prepare(self) -> None:
        from contacts.models import PointOfContact
        from rcf.models import PartnerCountry, PriorityArea

        self.areas = {}
        for area in PriorityArea.objects.all():
            for name in (area.code, area.name, area.name_ko):
                if name:
                    self.areas.setdefault(_ref(name), area)
        self.countries = {}
        for country in PartnerCountry.objects.all():
            for name in (country.iso2, country.iso3, country.name, country.name_ko):
                if name:
                    self.countries.setdefault(_ref(name), country)
        self.poc_by_email, self.poc_by_name = {}, {}
        for poc in PointOfContact.objects.all():
            if poc.email:
                self.poc_by_email[poc.email.casefold()] = poc
            for name in {poc.full_name, poc.full_name_ko} - {""}:
                self.poc_by_name.setdefault((poc.side, _norm(name)), []).append(poc)

    def identity(self, cells):
        external_id = text(cells.get("external_id"))
        if external_id:
            return external_id
        try:
            number = integer(cells.get("id"))
        except CellError:
            return None
        return f"ID {number}" if number is not None else None

    def match(self, rows):
        from .selectors import resource_totals_by_project

        external_ids = {text(r.get("external_id")) for r in rows} - {""}
        ids = set()
        for r in rows:
            try:
                number = integer(r.get("id"))
            except CellError:
                continue
            if number is not None and 0 < number < 2**31:
                ids.add(number)
        base = CooperativeProject.all_objects.select_related(
            "priority_area", "us_lead_poc", "rok_lead_poc").prefetch_related("partner_countries")
        by_ext = {p.external_id: p for p in base.filter(external_id__in=external_ids)} if external_ids else {}
        by_id = {p.pk: p for p in base.filter(pk__in=ids)} if ids else {}
        found = {p.pk for p in [*by_ext.values(), *by_id.values()]}
        self.totals = resource_totals_by_project(projects=CooperativeProject.all_objects.filter(pk__in=found))
        matches = {}
        for r in rows:
            try:
                number = integer(r.get("id"))
            except CellError:
                number = None
            matches[r["row"]] = (by_ext.get(text(r.get("external_id"))), by_id.get(number), number)
        return matches

    # --- One row -------------------------------------------------------------------------------

    def plan(self, result: RowResult, cells: dict, existing) -> None:
        by_ext, by_id, number = existing
        external_id = text(cells.get("external_id"))
        result.label = external_id or text(cells.get("title_en")) or text(cells.get("title_ko"))
        if "id" in cells:
            try:
                integer(cells["id"])
            except CellError as error:
                result.error(self.label("id"), error)
                return
        target = by_ext
        if target is None and by_id is not None:
            if external_id and by_id.external_id and by_id.external_id != external_id:
                result.error(self.label("external_id"), _(
                    "ID %(id)s is the project with external id “%(other)s”, not “%(value)s”.")
                    % {"id": by_id.pk, "other": by_id.external_id, "value": external_id})
                return
            target = by_id
        if target is not None and target.is_deleted:
            result.error(self.label("external_id" if target is by_ext else "id"), _(
                "This project is deleted; an administrator can restore it before it is imported again."))
            return
        new = self._parse(result, cells, target)
        if result.errors:
            return
        if target is None:
            self._plan_create(result, cells, new, by_id, number)
        else:
            self._plan_update(result, cells, new, target)

    def _cell(self, result, key, parse, cells):
        try:
            return parse(cells[key])
        except CellError as error:
            result.error(self.label(key), error)
            return None

    def _parse(self, result: RowResult, cells: dict, target) -> dict:
        """The row's values by service field (only the columns the file has)."""
        new: dict = {}
        for key, name in (("title_en", "title"), ("title_ko", "title_ko"), ("external_id", "external_id")):
            if key in cells:
                new[name] = text(cells[key])
        if "title" in cells and "title_en" not in cells and "title_ko" not in cells:
            new["title"] = text(cells["title"])  # a sheet of its own with just "Title"
        if "priority_area" in cells and text(cells["priority_area"]):
            area = self.areas.get(_ref(text(cells["priority_area"])))
            if area is None:
                result.error(self.label("priority_area"), _(
                    "Unknown priority area “%(value)s”: give its code or its name in English or Korean.")
                    % {"value": text(cells["priority_area"])})
            new["priority_area"] = area
        for key in ("priority", "target_year"):
            if key in cells:
                new[key] = self._cell(result, key, integer, cells)
        for key in ("start_date", "end_date"):
            if key in cells:
                new[key] = self._cell(result, key, date, cells)
        if "lead_side" in cells and text(cells["lead_side"]):
            new["lead_side"] = self._cell(result, "lead_side", lambda v: choice(v, LeadSide.choices), cells)
        if "partner_countries" in cells:
            names = [n.strip() for n in text(cells["partner_countries"]).replace(";", ",").split(",") if n.strip()]
            found = [self.countries.get(_ref(n)) for n in names]
            unknown = [n for n, c in zip(names, found, strict=True) if c is None]
            if unknown:
                result.error(self.label("partner_countries"), _(
                    "Unknown partner country: %(names)s (give ISO codes such as PH, or names).")
                    % {"names": ", ".join(unknown)})
            new["partner_countries"] = sorted({c.pk: c for c in found if c}.values(), key=lambda c: c.iso2)
        for side, field in (("us", "us_lead_poc"), ("rok", "rok_lead_poc")):
            if field in cells or f"{field}_email" in cells:
                new[field] = self._poc(result, side, field, cells)
        return new

    def _poc(self, result, side, field, cells):
        email = text(cells.get(f"{field}_email"))
        name = text(cells.get(field))
        if email:
            poc = self.poc_by_email.get(email.casefold())
            if poc is None:
                result.error(self.label(f"{field}_email"), _("No point of contact has the e-mail %(email)s.")
                             % {"email": email})
                return None
            if name and _norm(name) not in {_norm(poc.full_name), _norm(poc.full_name_ko)}:
                result.error(self.label(field), _("“%(name)s” is not the name of %(email)s (%(other)s).")
                             % {"name": name, "email": email, "other": poc.full_name})
            return poc
        if not name:
            return None
        candidates = self.poc_by_name.get((side, _norm(name)), [])
        if len(candidates) > 1:
            candidates = [p for p in candidates if p.deleted_at is None and p.active] or candidates
        if len(candidates) != 1:
            result.error(self.label(field), (
                _("No point of contact of this side is named “%(name)s”.") if not candidates else
                _("Several points of contact are named “%(name)s”: give the e-mail in “%(column)s”."))
                % {"name": name, "column": self.label(f"{field}_email")})
            return None
        return candidates[0]

    def _check_read_only(self, result, cells, new, target) -> None:
        """Columns the import does not write: refuse a value that says otherwise."""
        status = target.status if target else ProjectStatus.CONCEPT
        if text(cells.get("status")):
            try:
                wanted = choice(cells["status"], ProjectStatus.choices)
            except CellError as error:
                result.error(self.label("status"), error)
            else:
                if wanted != status:
                    result.error(self.label("status"), _(
                        "The status changes through the project's lifecycle on its page, not by import (a new "
                        "project starts in “Concept”)."))
        if "ready_on" in cells:
            try:
                ready_on = date(cells["ready_on"])
            except CellError as error:
                result.error(self.label("ready_on"), error)
            else:
                if ready_on is not None and ready_on != (target.ready_on if target else None):
                    result.error(self.label("ready_on"), _(
                        "The ready date is set by the lifecycle (declaring the project ready), not by import."))
        title = text(cells.get("title"))
        if title and ("title_en" in cells or "title_ko" in cells):
            titles = {new.get("title", target.title if target else ""), new.get("title_ko",
                                                                             target.title_ko if target else "")}
            if title not in titles:
                result.error(self.label("title"), _(
                    "“Title” shows the English or the Korean title: change those columns instead."))
        if "version" in cells and target is not None:
            try:
                version = integer(cells["version"])
            except CellError as error:
                result.error(self.label("version"), error)
            else:
                if version is not None and version != target.version:
                    result.error(self.label("version"), _(
                        "The project changed since this file was exported (version %(file)s, now %(now)s): export "
                        "again and redo the change.") % {"file": version, "now": target.version})
                result.extra["expected_version"] = version

    def _amounts(self, result, cells, target) -> list[tuple[str, str, str, Decimal]]:
        """The per-side amounts of the row (checked against the kind totals);
        for an existing project, refused when they differ from its lines."""
        lines = []
        sums: dict[tuple[str, str], Decimal] = {}
        for side, kind, currency in _side_keys():
            key = _amount_key(side, kind, currency)
            if key not in cells:
                continue
            amount = self._cell(result, key, decimal, cells)
            if amount is None:
                continue
            sums[(kind, currency)] = sums.get((kind, currency), Decimal(0)) + amount
            if target is not None:
                current = (self.totals.get(target.pk) or {}).get((side, kind, currency))
                if current is None or Decimal(current) != amount:
                    result.error(self.label(key), _(
                        "Resource amounts of an existing project change line by line on its page, not by import "
                        "(now %(now)s).") % {"now": shown(export_amount(current, currency))})
            elif not side:
                result.error(self.label(key), _(
                    "A new project's resources need a side: move the amount to a side's column."))
            else:
                lines.append((side, kind, currency, amount))
        for kind, currency in _kind_currency_keys():
            key = _amount_key(None, kind, currency)
            if key not in cells:
                continue
            total = self._cell(result, key, decimal, cells)
            if total is None:
                continue
            if sums.get((kind, currency)) != total:
                result.error(self.label(key), _(
                    "This column is the sum of the sides' columns (%(sum)s): change those instead.")
                    % {"sum": shown(sums.get((kind, currency)))})
        return lines

    def _plan_create(self, result, cells, new, by_id, number) -> None:
        self._check_read_only(result, cells, new, None)
        lines = self._amounts(result, cells, None)
        if self.by is not None and not self.by.has_perm("projects.add_cooperativeproject"):
            result.error("", _("Your role does not allow creating projects."))
        if lines and self.by is not None and not self.by.has_perm("projects.add_resourceline"):
            result.error("", _("Your role does not allow adding resource lines."))
        for field, key in (("priority_area", "priority_area"), ("lead_side", "lead_side")):
            if new.get(field) is None and not any(k == self.label(key) for k, _m in result.errors):
                result.error(self.label(key), _("A new project needs this column."))
        if not new.get("title"):
            result.error(self.label("title_en"), _("A new project needs an English title."))
        if result.errors:
            return
        data = {k: v for k, v in new.items() if v is not None or k in ("us_lead_poc", "rok_lead_poc")}
        data["title"] = data.get("title") or ""
        if number is not None and by_id is None and number > 0:
            data["id"] = number
        result.action, result.data, result.extra["lines"] = "create", data, lines
        result.changes = [(self._label_of(k), "", self._show(k, v)) for k, v in new.items()
                          if v not in (None, "", [])]
        result.changes += [(self.label(_amount_key(s, k, c)), "", shown(a)) for s, k, c, a in lines]

    def _plan_update(self, result, cells, new, target) -> None:
        result.target = target
        result.label = result.label or target.localized_title
        self._check_read_only(result, cells, new, target)
        self._amounts(result, cells, target)
        if result.errors:
            return
        changed = {}
        for name, value in new.items():
            old = self._current(target, name)
            if self._comparable(name, value) != self._comparable(name, old):
                changed[name] = value
                result.changes.append((self._label_of(name), self._show(name, old), self._show(name, value)))
        if "title" in changed and not changed["title"]:
            result.error(self.label("title_en"), _("A project needs an English title."))
            return
        if changed and self.by is not None and not self.by.has_perm("projects.change_cooperativeproject"):
            result.error("", _("Your role does not allow changing projects."))
            return
        if changed:
            result.action, result.data = "update", changed

    def _current(self, project, name):
        if name == "partner_countries":
            return sorted(project.partner_countries.all(), key=lambda c: c.iso2)
        value = getattr(project, name)
        return value

    @staticmethod
    def _comparable(name, value):
        if name == "partner_countries":
            return tuple(sorted(c.iso2 for c in value or []))
        if hasattr(value, "pk"):
            return value.pk
        if value == "":
            return None
        return value

    def _label_of(self, name) -> str:
        return self.label({"title": "title_en"}.get(name, name))

    @staticmethod
    def _show(name, value) -> str:
        if name == "partner_countries":
            return shown([c.iso2 for c in value or []])
        if name in ("us_lead_poc", "rok_lead_poc"):
            return shown(value.full_name if value else "")
        if name == "lead_side" and value:
            return str(LeadSide(value).label)
        return shown(value)

    # --- Writing -------------------------------------------------------------------------------

    def applying(self):
        # Every row joins one tracker: the dashboard's summary rows are written once, in one sorted pass, when
        # the rows are applied (a pass per row would lock them in a different order per row until the import
        # commits: a deadlock with a concurrent edit, and a long wait for every other writer).
        return counts.batch()

    def apply(self, result: RowResult) -> None:
        # The whole row in one tracked block: a row that fails is forgotten with its savepoint.
        with counts.tracking():
            if result.action == "create":
                data = self.keep_id(result.data)
                project = services.project_create(by=self.by, **data)
                if "id" in data:
                    self.created_with_id()
                for side, kind, currency, amount in result.extra.get("lines", []):
                    services.resource_line_create(by=self.by, project=project, side=side, kind=kind,
                                                  amount=amount, currency=currency)
            else:
                services.project_update(
                    project=result.target, by=self.by,
                    expected_version=result.extra.get("expected_version") or result.target.version, **result.data)


def _project_importer(upload, name, *, by):
    return ProjectImporter(by=by)


# The import page's background runs (rcf.import_jobs) find the importer by this kind.
register_import_kind("projects", _project_importer)

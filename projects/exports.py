"""The project list as rows for CSV and XLSX (the same filters as the page).

"Title" is the title the reader's page shows (their language, else the
other); both stored titles follow at the end, so columns that existed before
keep their place.

Resources (issue 11), where the former single estimate and its currency
were: one column per kind and currency ("Planned USD", "Planned KRW",
"Committed USD", …: every side together), then one per side, kind and
currency ("U.S. · Planned USD", …, "Side not given · …" for lines migrated
without a side). A cell is empty when the project has no such line. Amounts
are numbers (KRW in whole won), never a sum of two currencies. The columns
after them (external id, updated, both titles) follow; the columns issue 13
added for the import (version, the lead POCs' e-mails) are last.

One definition (``project_column_defs``) gives the export its header and
cells and the import (projects.imports) its columns: each has a stable key
(``?headers=keys``) and a translated label; the import takes either."""

import itertools
from decimal import Decimal

from django.utils.translation import gettext as _

from .models import Currency, ResourceKind, ResourceSide

# Every side a line can have, the migrated lines' "" last.
_SIDES = [*ResourceSide.values, ""]


def export_amount(total, currency: str):
    """An amount as a spreadsheet number: whole won for KRW, cents for USD."""
    if total is None:
        return None
    total = Decimal(total)
    return int(total.to_integral_value()) if currency == Currency.KRW else total.quantize(Decimal("0.01"))


def _kind_label(kind: str) -> str:
    return str(ResourceKind(kind).label)


def _side_label(side: str) -> str:
    from .selectors import resource_side_label

    return resource_side_label(side)


def _kind_currency_keys():
    return [(kind, currency) for kind in ResourceKind.values for currency in Currency.values]


def _side_keys():
    return [(side, kind, currency) for side in _SIDES for kind in ResourceKind.values for currency in Currency.values]


def _amount_key(side, kind, currency) -> str:
    # "unsided": the lines migrated from the former single estimate, without a side.
    return "_".join([*([side or "unsided"] if side is not None else []), kind, currency.lower()])


def _label(ctx, what: str, value, make):
    """A display label looked up once per value for a whole export (``ctx["labels"]``), not once per row: a
    choice's label is a translation lookup each time (issue 14: 2.7 million of them for 100,000 projects)."""
    labels = ctx.setdefault("labels", {})
    key = (what, value)
    if key not in labels:
        labels[key] = make()
    return labels[key]


def _poc_name(field):
    def get(p, ctx):
        poc = getattr(p, field)
        return poc.full_name if poc else ""
    return get


def _poc_email(field):
    def get(p, ctx):
        poc = getattr(p, field)
        return poc.email if poc else ""
    return get


def _kind_total(kind, currency):
    def get(p, ctx):
        return export_amount(ctx["by_kind"].get((kind, currency)), currency)
    return get


def _side_total(side, kind, currency):
    def get(p, ctx):
        return export_amount(ctx["totals"].get((side, kind, currency)), currency)
    return get


def project_column_defs() -> list:
    """The project export's columns, shared with the import (projects.imports):
    each with its language-independent key (``?headers=keys``), its label, how
    it is exported, and the service field it imports into (None: checked or
    ignored, see projects.imports). New columns go at the end."""
    from rcf.imports import Column

    return [
        Column("id", lambda: _("ID"), lambda p, ctx: p.pk),
        Column("title", lambda: _("Title"), lambda p, ctx: p.localized_title),
        Column("priority_area", lambda: _("Primary priority area"),
               lambda p, ctx: _label(ctx, "area", p.priority_area_id, lambda: str(p.priority_area)), "priority_area"),
        Column("status", lambda: _("Status"),
               lambda p, ctx: _label(ctx, "status", p.status, lambda: str(p.get_status_display()))),
        Column("priority", lambda: _("Priority"), lambda p, ctx: p.priority, "priority"),
        Column("lead_side", lambda: _("Lead side"),
               lambda p, ctx: _label(ctx, "lead_side", p.lead_side, lambda: str(p.get_lead_side_display())),
               "lead_side"),
        Column("partner_countries", lambda: _("Partner countries"),
               lambda p, ctx: ", ".join(c.iso2 for c in p.partner_countries.all()), "partner_countries"),
        Column("us_lead_poc", lambda: _("U.S. lead POC"), _poc_name("us_lead_poc"), "us_lead_poc"),
        Column("rok_lead_poc", lambda: _("ROK lead POC"), _poc_name("rok_lead_poc"), "rok_lead_poc"),
        Column("scm_year", lambda: _("SCM year"), lambda p, ctx: getattr(p, "scm_year", None)),
        Column("ready_on", lambda: _("Ready on"), lambda p, ctx: p.ready_on),
        Column("target_year", lambda: _("Target SCM year"), lambda p, ctx: p.target_year, "target_year"),
        Column("start_date", lambda: _("Start date"), lambda p, ctx: p.start_date, "start_date"),
        Column("end_date", lambda: _("End date"), lambda p, ctx: p.end_date, "end_date"),
        *[Column(_amount_key(None, kind, currency),
                 (lambda kind=kind, currency=currency: _("%(kind)s %(currency)s")
                  % {"kind": _kind_label(kind), "currency": currency}),
                 _kind_total(kind, currency))
          for kind, currency in _kind_currency_keys()],
        *[Column(_amount_key(side, kind, currency),
                 (lambda side=side, kind=kind, currency=currency: _("%(side)s · %(kind)s %(currency)s")
                  % {"side": _side_label(side), "kind": _kind_label(kind), "currency": currency}),
                 _side_total(side, kind, currency))
          for side, kind, currency in _side_keys()],
        Column("external_id", lambda: _("External id"), lambda p, ctx: p.external_id, "external_id"),
        Column("updated_at", lambda: _("Updated"), lambda p, ctx: _moment(p.updated_at)),
        Column("title_en", lambda: _("English title"), lambda p, ctx: p.title, "title"),
        Column("title_ko", lambda: _("Korean title"), lambda p, ctx: p.title_ko, "title_ko"),
        # Issue 13: what the import needs to round-trip and to match without ambiguity.
        Column("version", lambda: _("Version"), lambda p, ctx: p.version),
        Column("us_lead_poc_email", lambda: _("U.S. lead POC e-mail"), _poc_email("us_lead_poc")),
        Column("rok_lead_poc_email", lambda: _("ROK lead POC e-mail"), _poc_email("rok_lead_poc")),
    ]


def project_columns(*, keys: bool = False) -> list[str]:
    """The header row: the labels in the reader's language, or the keys (``?headers=keys``)."""
    from rcf.imports import header

    return header(project_column_defs(), keys=keys)


def _resource_totals(projects: list) -> dict:
    from .models import CooperativeProject
    from .selectors import resource_totals_by_project

    # A batch of projects: one query, by their ids.
    return resource_totals_by_project(projects=CooperativeProject.all_objects.filter(pk__in=[p.pk for p in projects]))


def _moment(value) -> str:
    """A moment in the framework's time zone with its offset ("2026-11-24T07:54:12+09:00"): the time
    the pages show, unambiguous to a script (a spreadsheet cell cannot hold the offset)."""
    from django.utils import timezone

    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def batches(records, size: int):
    """``records`` (a queryset or a list) in lists of at most ``size``: a queryset read with
    ``.iterator(chunk_size=size)``, so its prefetches run per batch (``IN`` lists of at most ``size`` ids)."""
    source = records.iterator(chunk_size=size) if hasattr(records, "iterator") else iter(records)
    while batch := list(itertools.islice(source, size)):
        yield batch


# What the export's columns read of a project, fetched as values (no model instances: issue 14).
_ROW_FIELDS = ("pk", "title", "title_ko", "priority_area_id", "status", "priority", "lead_side", "us_lead_poc_id",
               "rok_lead_poc_id", "scm_year", "ready_on", "target_year", "start_date", "end_date", "external_id",
               "updated_at", "version")


class _Related:
    """A many-to-many as the columns read it (``.all()``), already fetched."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items

    def all(self):
        return self.items


class _ExportRow:
    """A project as the export's columns read it (the attributes they use), built from ``values()`` and one
    lookup per batch for the POCs and the partner countries: a model instance (and its related instances)
    per row cost about a millisecond each, the most of an export's time."""

    __slots__ = (*_ROW_FIELDS, "priority_area", "us_lead_poc", "rok_lead_poc", "partner_countries")

    def __init__(self, values: dict, *, areas: dict, pocs: dict, countries: list):
        for name in _ROW_FIELDS:
            setattr(self, name, values.get(name))
        self.priority_area = areas.get(self.priority_area_id)
        self.us_lead_poc = pocs.get(self.us_lead_poc_id)
        self.rok_lead_poc = pocs.get(self.rok_lead_poc_id)
        self.partner_countries = _Related(countries)

    @property
    def localized_title(self) -> str:
        from .models import _in_reader_language

        return _in_reader_language(self.title, self.title_ko)

    def get_status_display(self):
        from .models import ProjectStatus

        return dict(ProjectStatus.choices).get(self.status, self.status)

    def get_lead_side_display(self):
        from .models import LeadSide

        return dict(LeadSide.choices).get(self.lead_side, self.lead_side)


def _export_rows(projects, size: int):
    """``projects`` (a queryset) as ``_ExportRow`` batches of at most ``size``: one query per batch for the
    projects (read ``size`` at a time), one for their POCs, one for their countries; areas and countries once."""
    from types import SimpleNamespace

    from contacts.models import PointOfContact
    from rcf.models import PartnerCountry, PriorityArea

    from .models import CooperativeProject

    areas = {a.pk: a for a in PriorityArea.objects.all()}
    all_countries = list(PartnerCountry.objects.all())  # in its own order, as the prefetch gave them
    rank = {c.pk: n for n, c in enumerate(all_countries)}
    by_pk = {c.pk: c for c in all_countries}
    through = CooperativeProject.partner_countries.through
    source = projects.prefetch_related(None).values(*_ROW_FIELDS).iterator(chunk_size=size)
    while batch := list(itertools.islice(source, size)):
        ids = [v["pk"] for v in batch]
        poc_ids = {v[f] for v in batch for f in ("us_lead_poc_id", "rok_lead_poc_id") if v[f]}
        pocs = {pk: SimpleNamespace(full_name=name, email=email) for pk, name, email in
                PointOfContact._base_manager.filter(pk__in=poc_ids).values_list("pk", "full_name", "email")}
        countries: dict[int, list] = {}
        for project_id, country_id in through.objects.filter(cooperativeproject_id__in=ids).values_list(
                "cooperativeproject_id", "partnercountry_id"):
            countries.setdefault(project_id, []).append(country_id)
        yield [_ExportRow(v, areas=areas, pocs=pocs,
                          countries=[by_pk[c] for c in sorted(countries.get(v["pk"], ()), key=rank.__getitem__)])
               for v in batch]


def project_rows(projects, *, chunk_size: int | None = None):
    """The export's rows, made ``chunk_size`` projects at a time (``RCF_EXPORT_CHUNK_ROWS``): memory and
    every query's parameters stay bounded whatever the number of projects. ``projects``: a queryset (read
    as values, ``_ExportRow``) or a list of projects."""
    from rcf.export_jobs import chunk_rows

    size = chunk_size or chunk_rows()
    columns = project_column_defs()
    labels: dict = {}
    for batch in (_export_rows(projects, size) if hasattr(projects, "values") else batches(projects, size)):
        totals = _resource_totals(batch)
        for p in batch:
            mine = totals.get(p.pk, {})
            by_kind = {}
            for (_side, kind, currency), total in mine.items():
                by_kind[(kind, currency)] = by_kind.get((kind, currency), 0) + total
            ctx = {"totals": mine, "by_kind": by_kind, "labels": labels}
            yield [column.get(p, ctx) for column in columns]


def export_queryset(query):
    """The projects an export of the list with ``query`` (its GET parameters) has: the list's filters, or the
    rows ticked on it (``?id=1&id=2``, in the list's order; none ticked: none)."""
    from types import SimpleNamespace

    from .views import _filtered_projects

    _filterset, queryset = _filtered_projects(SimpleNamespace(GET=query))
    if "id" in query or "selection" in query:
        ids = [int(v) for v in query.getlist("id") if v.isascii() and v.isdigit() and len(v) < 19]
        queryset = queryset.filter(pk__in=ids)
    return queryset


def _make_export(run, out, progress) -> None:
    """An export job's file (rcf.export_jobs): the list's export with the query it was asked with."""
    from django.http import QueryDict

    from rcf.exports import csv_write, xlsx_write

    query = QueryDict(run.params.get("query", ""))
    queryset = export_queryset(query)
    if run.rows_total is None:
        progress.total(queryset.count())
    header = project_columns(keys=query.get("headers") == "keys")
    rows = project_rows(queryset)
    if run.fmt == "csv":
        csv_write(out, header=header, rows=rows, on_row=progress.row)
    else:
        xlsx_write(out, sheets=[(_("Projects"), header, rows)], on_row=progress.row)


def _register() -> None:
    from rcf.export_jobs import register_export_kind

    register_export_kind("projects", _make_export, permission="projects.view_cooperativeproject")


_register()


def resource_total_rows(totals: list[dict]) -> list[list]:
    """``projects.selectors.resource_totals`` rows for a sheet: currency,
    side, kind, total (a number), number of lines."""
    return [[row["currency"], str(row["side_label"]), str(row["kind_label"]),
             export_amount(row["total"], row["currency"]), row["lines"]] for row in totals]

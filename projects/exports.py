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
        Column("priority_area", lambda: _("Primary priority area"), lambda p, ctx: str(p.priority_area),
               "priority_area"),
        Column("status", lambda: _("Status"), lambda p, ctx: str(p.get_status_display())),
        Column("priority", lambda: _("Priority"), lambda p, ctx: p.priority, "priority"),
        Column("lead_side", lambda: _("Lead side"), lambda p, ctx: str(p.get_lead_side_display()), "lead_side"),
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


def _resource_totals(projects) -> dict:
    from .models import CooperativeProject
    from .selectors import resource_totals_by_project

    if not hasattr(projects, "values"):  # a list: the same one query, by ids
        projects = CooperativeProject.all_objects.filter(pk__in=[p.pk for p in projects])
    return resource_totals_by_project(projects=projects)


def _moment(value) -> str:
    """A moment in the framework's time zone with its offset ("2026-11-24T07:54:12+09:00"): the time
    the pages show, unambiguous to a script (a spreadsheet cell cannot hold the offset)."""
    from django.utils import timezone

    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def project_rows(projects) -> list[list]:
    columns = project_column_defs()
    totals = _resource_totals(projects)
    rows = []
    for p in projects:
        mine = totals.get(p.pk, {})
        by_kind = {}
        for (_side, kind, currency), total in mine.items():
            by_kind[(kind, currency)] = by_kind.get((kind, currency), 0) + total
        ctx = {"totals": mine, "by_kind": by_kind}
        rows.append([column.get(p, ctx) for column in columns])
    return rows


def resource_total_rows(totals: list[dict]) -> list[list]:
    """``projects.selectors.resource_totals`` rows for a sheet: currency,
    side, kind, total (a number), number of lines."""
    return [[row["currency"], str(row["side_label"]), str(row["kind_label"]),
             export_amount(row["total"], row["currency"]), row["lines"]] for row in totals]

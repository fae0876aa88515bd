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
after them (external id, updated, both titles) stay last."""

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


def project_columns() -> list[str]:
    return [
        _("ID"), _("Title"), _("Primary priority area"), _("Status"), _("Priority"), _("Lead side"),
        _("Partner countries"), _("U.S. lead POC"), _("ROK lead POC"), _("SCM year"), _("Ready on"),
        _("Target SCM year"), _("Start date"), _("End date"),
        *[_("%(kind)s %(currency)s") % {"kind": _kind_label(kind), "currency": currency}
          for kind, currency in _kind_currency_keys()],
        *[_("%(side)s · %(kind)s %(currency)s") % {"side": _side_label(side), "kind": _kind_label(kind),
                                                    "currency": currency}
          for side, kind, currency in _side_keys()],
        _("External id"), _("Updated"), _("English title"), _("Korean title"),
    ]


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
    totals = _resource_totals(projects)
    rows = []
    for p in projects:
        mine = totals.get(p.pk, {})
        by_kind = {}
        for (_side, kind, currency), total in mine.items():
            by_kind[(kind, currency)] = by_kind.get((kind, currency), 0) + total
        rows.append([
            p.pk, p.localized_title, str(p.priority_area), str(p.get_status_display()), p.priority,
            str(p.get_lead_side_display()), ", ".join(c.iso2 for c in p.partner_countries.all()),
            p.us_lead_poc.full_name if p.us_lead_poc else "", p.rok_lead_poc.full_name if p.rok_lead_poc else "",
            p.scm_year, p.ready_on, p.target_year, p.start_date, p.end_date,
            *[export_amount(by_kind.get(key), key[1]) for key in _kind_currency_keys()],
            *[export_amount(mine.get(key), key[2]) for key in _side_keys()],
            p.external_id, _moment(p.updated_at), p.title, p.title_ko,
        ])
    return rows


def resource_total_rows(totals: list[dict]) -> list[list]:
    """``projects.selectors.resource_totals`` rows for a sheet: currency,
    side, kind, total (a number), number of lines."""
    return [[row["currency"], str(row["side_label"]), str(row["kind_label"]),
             export_amount(row["total"], row["currency"]), row["lines"]] for row in totals]

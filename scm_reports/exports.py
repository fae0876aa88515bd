"""The SCM report as an XLSX workbook (the same rows as the page).

Moments (a flag's raised and resolved times) are in the framework's time zone,
as the page shows them: a spreadsheet cell holds no offset, so UTC there would
be hours off (and sometimes a day). Amounts keep their scale (``rcf.exports``)."""

from django.utils import timezone
from django.utils.translation import gettext as _

from rcf.exports import xlsx_response

from .flag_text import flag_text


def _pocs(project) -> tuple[str, str]:
    return (project.us_lead_poc.full_name if project.us_lead_poc else "",
            project.rok_lead_poc.full_name if project.rok_lead_poc else "")


def _local(moment):
    """An aware moment as the framework time zone's wall time (what the page shows), or None."""
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def report_xlsx(report: dict):
    counting = [
        [str(p.priority_area), p.localized_title, p.localized_summary,
         ", ".join(str(c) for c in p.partner_countries.all()),
         *_pocs(p), p.ready_on, str(p.get_status_display())]
        for p in report["counting"]
    ]
    earlier = [[p.scm_year, p.localized_title, str(p.priority_area), str(p.get_status_display()), p.ready_on]
               for p in report["earlier"]]
    flags = [[f.year, str(f.get_kind_display()), _local(f.raised_at), _local(f.resolved_at),
              flag_text(f, today=report["today"])]
             for f in report["flags"]]
    coverage = [[str(_("Priority area")), str(row["area"]), _("yes") if row["covered"] else _("no")]
                for row in report["area_coverage"]]
    coverage += [[str(g["label"]), ", ".join(str(c) for c in g["covered"]) or "—",
                  f"{len(g['covered'])}/{g['members']}"] for g in report["group_coverage"]]
    presented = [[p.project.localized_title, str(p.project.priority_area), str(p.get_outcome_display()), p.note,
                  str(p.project.get_status_display())] for p in report.get("presentations", [])]
    # Issue 11: the counting projects' resource totals, one row per currency, side and kind (never summed
    # across currencies).
    from projects.exports import resource_total_rows

    resources = resource_total_rows(report.get("resource_totals", []))
    return xlsx_response(
        filename=f"rcf-scm-report-{report['year']}.xlsx",
        sheets=[
            (_("Projects"), [_("Priority area"), _("Title"), _("Summary"), _("Partner countries"), _("U.S. lead POC"),
                             _("ROK lead POC"), _("Ready on"), _("Status")], counting),
            (_("Presented and decided"), [_("Project"), _("Priority area"), _("Outcome"), _("Decision note"),
                                          _("Status now")], presented),
            (_("Earlier SCMs"), [_("SCM year"), _("Title"), _("Priority area"), _("Status"), _("Ready on")], earlier),
            (_("Flags"), [_("Year"), _("Kind"), _("Raised at"), _("Resolved at"), _("Detail")], flags),
            (_("Coverage"), [_("What"), _("Covered"), _("Share")], coverage),
            (_("Resources"), [_("Currency"), _("Side"), _("Kind"), _("Total"), _("Lines")], resources),
        ],
    )

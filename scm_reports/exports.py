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


def _status(labels: dict, project) -> str:
    """A project's status label, looked up once per status for the whole workbook."""
    if project.status not in labels:
        labels[project.status] = str(project.get_status_display())
    return labels[project.status]


def report_xlsx(report: dict):
    labels: dict = {}
    counting = (
        [str(p.priority_area), p.localized_title, p.localized_summary,
         ", ".join(str(c) for c in p.partner_countries.all()),
         *_pocs(p), p.ready_on, _status(labels, p)]
        for p in report["counting"]
    )
    # Earlier SCMs as counts per year and status (issue 14), as the page shows them.
    earlier = [[row["year"], str(s["label"]), s["count"]] for row in report["earlier"] for s in row["statuses"]]
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
            (_("Earlier SCMs"), [_("SCM year"), _("Status now"), _("Projects")], earlier),
            (_("Flags"), [_("Year"), _("Kind"), _("Raised at"), _("Resolved at"), _("Detail")], flags),
            (_("Coverage"), [_("What"), _("Covered"), _("Share")], coverage),
            (_("Resources"), [_("Currency"), _("Side"), _("Kind"), _("Total"), _("Lines")], resources),
        ],
    )


# --- The report's PDF (WeasyPrint), in the request for a small year, else an export job (issue 14) -----------


class NoSuchReport(LookupError):
    pass


def report_for(*, year: int, today):
    """The report of ``year`` as the page, the PDF and the XLSX show it. ``NoSuchReport`` when there is
    neither a readiness year nor an SCM of that year."""
    from . import selectors
    from .dashboard import scm_report
    from .models import SCMCycle

    report = scm_report(year=year, today=today)
    if report is None:
        # An SCM before the framework's first readiness year: its page lists what was presented there.
        cycle = SCMCycle.objects.filter(year=year).first()
        if cycle is None:
            raise NoSuchReport(_("There is no readiness year %(year)s.") % {"year": year})
        report = {"year": year, "readiness": None, "cycle": cycle, "by_area": [], "counting": [], "earlier": [],
                  "flags": [], "area_coverage": [], "group_coverage": [], "today": today}
    report["presentations"] = selectors.presentations_at(cycle=report["cycle"])
    return report


def report_projects(year: int) -> int:
    """How many projects count for ``year`` (what makes its PDF long), counted no further than needed."""
    from projects.models import CooperativeProject
    from rcf.export_jobs import capped_count, inline_pdf_projects

    from .selectors import projects_counting, scm_windows

    return capped_count(projects_counting(CooperativeProject.objects.all(), scm_windows()).filter(scm_year=year),
                        inline_pdf_projects() + 1)


def pdf_file_name(year: int) -> str:
    return f"rcf-scm-report-{year}.pdf"


def report_pdf(report: dict, out, *, base_url: str) -> None:
    """The report as a PDF into ``out`` (a binary file). ``ExportFailed`` when WeasyPrint cannot load (no Pango)."""
    from django.template.loader import render_to_string

    from rcf.export_jobs import ExportFailed

    try:
        from weasyprint import HTML
    except OSError as exc:  # WeasyPrint needs Pango from the operating system
        raise ExportFailed(_("The PDF cannot be made on this server: %(reason)s. Install Pango "
                             "(apt-get install libpango-1.0-0 libpangoft2-1.0-0) or use the print view.")
                           % {"reason": exc}) from exc

    html = render_to_string("scm_reports/report.html", {"report": report, "for_pdf": True})
    HTML(string=html, base_url=base_url).write_pdf(target=out)


def _make_pdf(run, out, progress) -> None:
    """An export job's file (rcf.export_jobs): the report's PDF, in stages (collecting, rendering)."""
    from django.conf import settings

    from rcf.selectors import framework_today

    progress.stage("collecting")
    report = report_for(year=int(run.params["year"]), today=framework_today())
    progress.stage("rendering")
    report_pdf(report, out, base_url=settings.SITE_URL.rstrip("/") + "/")


def _register() -> None:
    from rcf.export_jobs import register_export_kind

    register_export_kind("scm_report_pdf", _make_pdf, permission="projects.view_cooperativeproject")


_register()

"""The project list as rows for CSV and XLSX (the same filters as the page).

"Title" is the title the reader's page shows (their language, else the
other); both stored titles follow at the end, so columns that existed before
keep their place."""

from django.utils.translation import gettext as _


def project_columns() -> list[str]:
    return [
        _("ID"), _("Title"), _("Primary priority area"), _("Status"), _("Priority"), _("Lead side"),
        _("Partner countries"), _("U.S. lead POC"), _("ROK lead POC"), _("SCM year"), _("Ready on"),
        _("Target SCM year"), _("Start date"), _("End date"), _("Public resources estimate"), _("Currency"),
        _("External id"), _("Updated"), _("English title"), _("Korean title"),
    ]


def project_rows(projects) -> list[list]:
    rows = []
    for p in projects:
        rows.append([
            p.pk, p.localized_title, str(p.priority_area), str(p.get_status_display()), p.priority,
            str(p.get_lead_side_display()), ", ".join(c.iso2 for c in p.partner_countries.all()),
            p.us_lead_poc.full_name if p.us_lead_poc else "", p.rok_lead_poc.full_name if p.rok_lead_poc else "",
            p.scm_year, p.ready_on, p.target_year, p.start_date, p.end_date,
            None, "",  # TODO(resources helper): resource totals
            p.external_id, p.updated_at.replace(tzinfo=None), p.title, p.title_ko,
        ])
    return rows

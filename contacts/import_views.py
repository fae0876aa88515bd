"""/contacts/import/ (points of contact or organisations, by the file's
header) and the contacts' exports (/contacts/export.csv|xlsx for the points
of contact, /contacts/organizations/export.csv|xlsx): the import takes the
shape of the export."""

from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from rcf.import_views import ImportView
from rcf.selectors import framework_today
from rcf.views import StaffView


class ContactImportView(ImportView):
    permission_required = ("contacts.add_pointofcontact", "contacts.change_pointofcontact",
                           "contacts.add_organization", "contacts.change_organization")
    kind = "contacts"
    template_name = "contacts/import.html"
    done_url = reverse_lazy("contacts:directory")

class _ExportView(StaffView):
    """A CSV (streamed) or XLSX; larger than the request may make (``RCF_EXPORT_INLINE_ROWS``,
    ``RCF_EXPORT_INLINE_CSV_ROWS``): a background job, the answer its progress page (rcf.export_jobs)."""

    kind = ""

    def get(self, request, fmt):
        from rcf import export_jobs
        from rcf.export_views import start_export
        from rcf.exports import csv_response, xlsx_response

        from .exports import EXPORTS

        filename = f"{self.filename}-{framework_today().isoformat()}"
        if export_jobs.too_many_rows(EXPORTS[self.kind][1](), fmt):
            return start_export(request, kind=self.kind, fmt=fmt, file_name=f"{filename}.{fmt}",
                                params={"headers": request.GET.get("headers", "")},
                                more_than=export_jobs.inline_rows(fmt))
        header, rows = self.export(keys=request.GET.get("headers") == "keys")
        if fmt == "csv":
            return csv_response(filename=f"{filename}.csv", header=header, rows=rows)
        return xlsx_response(filename=f"{filename}.xlsx", sheets=[(self.sheet(), header, rows)])

    def post(self, request, fmt):
        """The "Make the file" button of a large export (a background job is made only by a POST)."""
        return self.get(request, fmt)


class PocExportView(_ExportView):
    permission_required = "contacts.view_pointofcontact"
    kind = "pocs"
    filename = "rcf-points-of-contact"

    def export(self, *, keys):
        from .exports import poc_export

        return poc_export(keys=keys)

    def sheet(self):
        return _("Points of contact")


class OrganizationExportView(_ExportView):
    permission_required = "contacts.view_organization"
    kind = "organizations"
    filename = "rcf-organizations"

    def export(self, *, keys):
        from .exports import organization_export

        return organization_export(keys=keys)

    def sheet(self):
        return _("Organisations")

"""SCM cycles and the POC dashboard (thin: reads come from selectors)."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View

from contacts.selectors import acting_lead_poc
from projects.models import LeadSide
from rcf.models import PriorityArea
from rcf.selectors import framework_today
from rcf.services import VersionConflict
from rcf.validators import YEAR_MAX, YEAR_MIN
from rcf.views import StaffView, TrackedFormView, apply_service_errors

from . import selectors, services
from .dashboard import DashboardFilters, awaiting_concurrence, filtered_projects, pipeline
from .dashboard import dashboard as dashboard_data
from .forms import PresentationForm, SCMCycleForm
from .models import SCMCycle
from .selectors import scm_windows
from .templatetags.dashboard_panels import dashboard_panels


class CycleListView(StaffView):
    permission_required = "scm_reports.view_scmcycle"

    def get(self, request):
        readiness = {r.year: r for r in selectors.readiness_by_year(today=framework_today())}
        cycles = [{"cycle": c, "readiness": readiness.get(c.year), "deadline": selectors.cycle_deadline(c),
                   "presented": c.presented}
                  for c in SCMCycle.objects.annotate(presented=Count("presentations", filter=Q(
                      presentations__deleted_at__isnull=True, presentations__project__deleted_at__isnull=True)))
                  .order_by("-year")]
        unscheduled = [r for r in readiness.values() if r.state == "unscheduled"]
        return render(request, "scm_reports/cycle_list.html", {"cycles": cycles, "unscheduled": unscheduled})


class CycleFormView(TrackedFormView):
    model = SCMCycle
    form_class = SCMCycleForm
    template_name = "scm_reports/cycle_form.html"
    create_service = services.scm_cycle_create
    update_service = services.scm_cycle_update
    instance_kwarg = "cycle"
    title = _lazy("Record an SCM")
    saved_message = _lazy("SCM cycle saved.")

    def get_permission_required(self):
        return ["scm_reports.change_scmcycle" if self.kwargs.get("pk") else "scm_reports.add_scmcycle"]

    def cancel_url(self, instance):
        return reverse("scm_reports:cycle_list")

    def success_url(self, saved):
        return reverse("scm_reports:cycle_list")


def _dashboard_filters(params, areas) -> tuple[DashboardFilters, dict]:
    """Read the dashboard's filters from query parameters; anything unknown is
    dropped with a message rather than failing the page."""
    errors = {}
    side = params.get("side") or None
    if side and side not in LeadSide.values:
        errors["side"] = side
        side = None
    area_code = params.get("area") or None
    area = next((a for a in areas if a.code == area_code), None)
    if area_code and area is None:
        errors["area"] = area_code
    year = params.get("year") or None
    if year is not None:
        try:
            year = int(year)
        except ValueError:
            year = None
        if year is None or not YEAR_MIN <= year <= YEAR_MAX:  # no SCM year outside the stored bounds
            errors["year"] = params.get("year")
            year = None
    return DashboardFilters(side=side, area=area, year=year), errors


def _filters_query(filters: DashboardFilters) -> str:
    return urlencode([(name, value) for name, value in (("side", filters.side),
                                                       ("area", filters.area.code if filters.area else None),
                                                       ("year", filters.year)) if value])


def _board_context(request, board) -> dict:
    # Read once: re-ranking and the "awaiting your concurrence" panel are a linked lead POC's.
    may_change = request.user.has_perm("projects.change_cooperativeproject")
    lead_poc = acting_lead_poc(request.user) if may_change else None
    return {
        "board": board,
        "sides": LeadSide.choices,
        "can_prioritize": lead_poc is not None,
        "concurrence": awaiting_concurrence(poc=lead_poc),
        # The priority forms send the page's filters back (to return to the same view): the filters as read,
        # not the raw query string, so a cached pipeline (dashboard_panels) has one copy per filter, not one
        # per made-up parameter.
        "query": _filters_query(board.filters),
        "at_risk_days": settings.RCF_AT_RISK_DAYS,
    }


@method_decorator(transaction.non_atomic_requests, name="dispatch")  # read-only: no transaction needed
class DashboardView(StaffView):
    permission_required = "projects.view_cooperativeproject"

    def get(self, request):
        areas = list(PriorityArea.objects.all())
        filters, errors = _dashboard_filters(request.GET, areas)
        for name, value in errors.items():
            messages.warning(request, _("Ignored the unknown %(filter)s filter “%(value)s”.") % {
                "filter": name, "value": value})
        board = dashboard_data(today=framework_today(), filters=filters, areas=areas)
        context = _board_context(request, board)
        # Each panel rendered once per state of its data, then reused (issue 14): templatetags/dashboard_panels.py.
        context["dashboard_panels"] = dashboard_panels(board, request=request, can_prioritize=context["can_prioritize"],
                                                       query=context["query"], at_risk_days=context["at_risk_days"])
        return render(request, "scm_reports/dashboard.html", context)


class PipelinePriorityView(StaffView):
    """A lead POC changes a project's priority in place (htmx); the pipeline
    comes back re-ranked, and a toast says what was saved
    (rcf.middleware.HtmxMessagesMiddleware). A refusal is shown in the row
    where the priority was changed; an htmx request gets it with a 200 (htmx
    swaps nothing on an error status), a plain form post with a 400. Without
    JavaScript (the "Set" button) a saved change returns to the dashboard."""

    permission_required = "projects.prioritize_cooperativeproject"

    def post(self, request, pk):
        from projects.models import CooperativeProject
        from projects.services import project_update

        try:
            project = CooperativeProject.objects.get(pk=pk)
        except CooperativeProject.DoesNotExist:
            raise Http404 from None
        error = None
        query = request.POST.get("query", "")
        try:
            priority = int(request.POST.get("priority", ""))
            if not 1 <= priority <= 5:
                raise ValueError
            project_update(project=project, by=request.user, priority=priority,
                           expected_version=int(request.POST.get("version") or project.version))
        except ValueError:
            error = _("Priority must be a whole number from 1 (highest) to 5.")
        except VersionConflict:
            error = _("“%(title)s” changed meanwhile; the list below shows it as it is now.") % {
                "title": project.localized_title}
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Priority of “%(title)s” set to %(priority)s; the pipeline is re-ranked.") % {
                "title": project.localized_title, "priority": priority})
            if not request.htmx:
                again = QueryDict(query).urlencode()
                return redirect(reverse("scm_reports:dashboard") + (f"?{again}" if again else "") + "#pipeline")
        areas = list(PriorityArea.objects.all())
        # The dashboard's own filters travel with the form (field `query`).
        filters, _errors = _dashboard_filters(QueryDict(query), areas)
        today = framework_today()
        if not request.htmx:  # refused without JavaScript: the whole dashboard, the message in the row
            board = dashboard_data(today=today, filters=filters, areas=areas)
            context = _board_context(request, board) | {"query": query, "pipeline_error": error,
                                                         "error_pk": _row_of(project, board.pipeline, error)}
            return render(request, "scm_reports/dashboard.html", context, status=400)
        board_pipeline = pipeline(filtered_projects(filters, scm_windows()), today)
        return render(request, "scm_reports/_pipeline.html", {
            "pipeline": board_pipeline, "can_prioritize": True, "pipeline_error": error,
            "error_pk": _row_of(project, board_pipeline, error), "query": query})


def _row_of(project, board_pipeline, error) -> int | None:
    """The pipeline row an error about ``project`` goes in (None: no error, or it left the pipeline and the
    message goes above it)."""
    return project.pk if error and any(p.pk == project.pk for p in board_pipeline["projects"]) else None


class ReportView(StaffView):
    """The SCM report: a print-ready page, a PDF and an XLSX of the same data."""

    permission_required = "projects.view_cooperativeproject"

    def get(self, request, year, fmt="html"):
        year = int(year)
        from .exports import NoSuchReport, report_for

        if fmt == "pdf":
            return self.pdf(request, year)
        try:
            report = report_for(year=year, today=framework_today())
        except NoSuchReport as missing:
            raise Http404(str(missing)) from None
        if fmt == "xlsx":
            from .exports import report_xlsx

            return report_xlsx(report)
        return render(request, "scm_reports/report.html", {"report": report})

    def post(self, request, year, fmt="html"):
        """The "Make the file" button of a PDF made in the background (only the PDF is ever posted)."""
        from django.http import HttpResponseNotAllowed

        if fmt != "pdf":
            return HttpResponseNotAllowed(["GET"])
        return self.pdf(request, int(year))

    def pdf(self, request, year):
        """The PDF: made here for a year with few projects, else by the worker (a job with its progress
        page; issue 14: WeasyPrint takes about 10 ms a project, far past the worker timeout at thousands)."""
        import io

        from django.http import HttpResponse

        from rcf.export_jobs import ExportFailed, inline_pdf_projects
        from rcf.export_views import start_export

        from .exports import NoSuchReport, pdf_file_name, report_for, report_pdf, report_projects

        projects = report_projects(year)
        if projects > inline_pdf_projects():
            return start_export(request, kind="scm_report_pdf", fmt="pdf", file_name=pdf_file_name(year),
                                params={"year": year}, count=projects)
        try:
            report = report_for(year=year, today=framework_today())
        except NoSuchReport as missing:
            raise Http404(str(missing)) from None
        buffer = io.BytesIO()
        try:
            report_pdf(report, buffer, base_url=request.build_absolute_uri("/"))
        except ExportFailed as refusal:  # WeasyPrint needs Pango from the operating system
            return HttpResponse(str(refusal), status=503, content_type="text/plain; charset=utf-8")
        response = HttpResponse(buffer.getvalue(), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{pdf_file_name(year)}"'
        return response


class CalendarView(StaffView):
    """Where a user finds (and rotates) their calendar subscription URL."""

    permission_required = "scm_reports.view_scmcycle"

    def get(self, request):
        token = services.calendar_token_for(user=request.user)
        url = request.build_absolute_uri(reverse("scm_reports:calendar_feed", args=[token.token]))
        # Calendar applications send no language: the feed is in the owner's e-mail language (issue 13);
        # a login without a point of contact has none, so the address carries this page's.
        from .calendar import owner_language

        preferred = owner_language(request.user)
        if not preferred:
            url += "?" + urlencode({"lang": get_language() or settings.LANGUAGE_CODE})
        # webcal:// makes a calendar application offer to subscribe (issue 13); same address otherwise.
        webcal_url = "webcal://" + url.split("://", 1)[1]
        language = preferred or get_language() or settings.LANGUAGE_CODE
        return render(request, "scm_reports/calendar.html",
                      {"feed_url": url, "webcal_url": webcal_url, "token": token, "from_profile": bool(preferred),
                       "feed_language": language})

    def post(self, request):
        services.calendar_token_rotate(user=request.user)
        messages.success(request, _("A new calendar address was made; the old one no longer works."))
        return redirect("scm_reports:calendar")


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class CalendarFeedView(View):
    """The .ics feed. No session (calendar applications cannot sign in): the
    secret token in the URL is the credential; an unknown one is a 404. In
    the owner's language, with ETag/Last-Modified: a client's repeat with
    If-None-Match (or If-Modified-Since) gets 304 while nothing changed
    (``calendar.calendar_feed``)."""

    def get(self, request, token):
        from django.http import HttpResponse
        from django.utils.cache import get_conditional_response
        from django.utils.http import http_date

        from .calendar import calendar_feed, feed_language

        user = services.calendar_user(token=token)
        if user is None or not user.is_active or not user.has_perm("scm_reports.view_scmcycle"):
            raise Http404
        requested = request.GET.get("lang") or None
        if requested is not None and requested not in dict(settings.LANGUAGES):
            return HttpResponse(
                _("Unknown language “%(lang)s” in the calendar address: use one of %(choices)s.") % {
                    "lang": requested[:20], "choices": ", ".join(dict(settings.LANGUAGES))},
                status=400, content_type="text/plain; charset=utf-8")
        feed = calendar_feed(user=user, today=framework_today(), language=feed_language(user=user, requested=requested),
                             with_engagements=user.has_perm("projects.view_engagement"))
        response = HttpResponse(feed.body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="rcf-scm.ics"'
        response["Cache-Control"] = "private, max-age=900"
        response["ETag"] = feed.etag
        response["Last-Modified"] = http_date(feed.last_modified.timestamp())
        return get_conditional_response(request, etag=feed.etag, last_modified=int(feed.last_modified.timestamp()),
                                        response=response)


class PresentationCreateView(StaffView):
    """The project page's step "Move to Presented": at which SCM (one that
    has met) and with what outcome (``services.presentation_record``, which
    also takes the lifecycle step)."""

    permission_required = "scm_reports.add_scmpresentation"

    def has_permission(self):
        from .roles import can_record_presentation

        return super().has_permission() and can_record_presentation(self.request.user)

    def _project(self, pk):
        from projects.models import CooperativeProject

        try:
            return CooperativeProject.objects.get(pk=pk)
        except CooperativeProject.DoesNotExist:
            raise Http404(_("No such project.")) from None

    def _render(self, request, project, form, status=200):
        return render(request, "scm_reports/presentation_form.html", {
            "project": project, "form": form, "earlier": selectors.presentations_of(project=project),
        }, status=status)

    def get(self, request, pk):
        project = self._project(pk)
        form = PresentationForm(today=framework_today(), initial={"version": project.version})
        return self._render(request, project, form)

    def post(self, request, pk):
        project = self._project(pk)
        form = PresentationForm(request.POST, today=framework_today())
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                presentation = services.presentation_record(
                    project=project, scm_cycle=data["scm_cycle"], outcome=data["outcome"], note=data["note"],
                    by=request.user, expected_version=data["version"] or None)
            except VersionConflict:
                form.add_error(None, _("The project changed while you were looking at it; nothing was saved. "
                                       "Check its current state and record the presentation again."))
                project = self._project(pk)
                data = request.POST.copy()
                data["version"] = project.version
                form.data = data
                status = 409
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                project.refresh_from_db()
                messages.success(request, _("Recorded: presented at the %(scm)s, %(outcome)s. The project is now "
                                            "“%(status)s”.") % {
                    "scm": presentation.scm_cycle, "outcome": presentation.get_outcome_display(),
                    "status": project.get_status_display()})
                return redirect(reverse("projects:detail", args=[pk]) + "#presentations")
        return self._render(request, project, form, status=status)

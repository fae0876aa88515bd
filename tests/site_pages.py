"""Every page of the site, in one list (issue 12).

``PAGES`` names each HTML page a person opens, the role that sees most of it,
and how to find its URL in the data ``build_site()`` makes. ``NOT_PAGES``
names every other URL with the reason it is not a page (a download, a POST
endpoint, the JSON API). ``tests/test_site_pages.py`` fails when a URL name
is in neither, so a new page cannot be forgotten; the browser test
(``tests/browser/test_every_page.py``) opens each page at 390 and 1366 px in
English and Korean, and the Nu HTML Checker validates each page's HTML.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

PASSWORD = "pw-for-tests-1"


@dataclass(frozen=True)
class Page:
    name: str  # the URL name ("projects:detail")
    slug: str  # a file-name-safe label for the screenshots and the saved HTML
    role: str | None = "lead"  # a key of Site.users; None: signed out
    kwargs: Callable[[Site], dict] | None = None
    query: str = ""

    def url(self, site: Site) -> str:
        from django.urls import reverse

        path = reverse(self.name, kwargs=self.kwargs(site) if self.kwargs else None)
        return f"{path}?{self.query}" if self.query else path


@dataclass
class Site:
    users: dict = field(default_factory=dict)
    objects: dict = field(default_factory=dict)

    def pk(self, key: str) -> int:
        return self.objects[key].pk


def _pk(key):
    return lambda site: {"pk": site.pk(key)}


PAGES: tuple[Page, ...] = (
    # Signing in and the account
    Page("login", "login", role=None),
    Page("password_change", "password-change"),
    Page("password_change_done", "password-change-done"),
    Page("two_factor", "two-factor"),
    Page("two_factor_setup", "two-factor-setup"),
    Page("profile", "profile"),
    # The dashboard, search and the SCM
    Page("scm_reports:dashboard", "dashboard"),
    Page("search", "search", query="q=training"),
    Page("search", "search-nothing", query="q=%22%25zzz%22"),
    Page("scm_reports:cycle_list", "scm-cycles"),
    Page("scm_reports:cycle_create", "scm-cycle-new", role="admin"),
    Page("scm_reports:cycle_edit", "scm-cycle-edit", role="admin", kwargs=_pk("cycle")),
    Page("scm_reports:report", "scm-report", kwargs=lambda site: {"year": site.objects["report_year"]}),
    # The next year's report: earlier SCMs as counts linking to the project list (issue 14).
    Page("scm_reports:report", "scm-report-earlier", kwargs=lambda site: {"year": site.objects["report_year"] + 1}),
    Page("scm_reports:presentation_create", "presentation-new", kwargs=_pk("ready_project")),
    Page("scm_reports:calendar", "calendar"),
    # Projects
    Page("projects:list", "projects"),
    Page("projects:list", "projects-filtered", query="status=ready&status=prioritized&sort=-updated"),
    Page("projects:create", "project-new"),
    Page("projects:detail", "project", kwargs=_pk("project")),
    Page("projects:detail", "project-implementation", kwargs=_pk("implementation_project")),
    Page("projects:edit", "project-edit", kwargs=_pk("project")),
    Page("projects:delete", "project-delete", role="admin", kwargs=_pk("project")),
    Page("projects:resource_line_edit", "resource-line-edit", kwargs=_pk("resource_line")),
    Page("projects:document_edit", "document-edit", kwargs=_pk("document")),
    Page("projects:import", "project-import"),
    # Engagements and actions
    Page("engagements:list", "engagements"),
    Page("engagements:create", "engagement-new"),
    Page("engagements:detail", "engagement", kwargs=_pk("engagement")),
    Page("engagements:edit", "engagement-edit", kwargs=_pk("engagement")),
    Page("engagements:delete", "engagement-delete", kwargs=_pk("engagement")),
    Page("actions:list", "actions"),
    Page("actions:create", "action-new"),
    Page("actions:edit", "action-edit", kwargs=_pk("action")),
    Page("actions:delete", "action-delete", kwargs=_pk("action")),
    # Points of contact and organisations
    Page("contacts:directory", "contacts"),
    Page("contacts:poc_create", "contact-new", role="admin"),
    Page("contacts:poc_detail", "contact", kwargs=_pk("us_lead_poc")),
    Page("contacts:poc_edit", "contact-edit", role="admin", kwargs=_pk("us_lead_poc")),
    Page("contacts:organization_list", "organizations"),
    Page("contacts:organization_create", "organization-new", role="admin"),
    Page("contacts:organization_edit", "organization-edit", role="admin", kwargs=_pk("organization")),
    Page("contacts:import", "contacts-import"),
    # Exports made in the background (issue 14): one being made, one ready to download
    Page("exports:run", "export-running", kwargs=_pk("export_running")),
    Page("exports:run", "export-done", kwargs=_pk("export_done")),
    # The API's documentation (Swagger UI inside the site's layout)
    Page("api:docs", "api-docs"),
)

NOT_PAGES: dict[str, str] = {
    "healthz": "JSON health check for the load balancer",
    "favicon": "redirect to the static icon",
    "set_language": "POST only: the language switch in the header",
    "logout": "POST only: the Log out button",
    "two_factor_verify": "shown only between password and code at sign-in (tests/test_login_security.py)",
    "two_factor_recovery_codes": "shown once, right after two-factor set-up (tests/test_login_security.py)",
    "two_factor_disable": "POST only: the Turn off button on the two-factor page",
    "projects:log_engagement": "POST only: the engagement form on the project page",
    "projects:export": "CSV / XLSX download",
    "contacts:export": "CSV / XLSX download",
    "contacts:organization_export": "CSV / XLSX download",
    "projects:transition": "POST only: the lifecycle stepper on the project page",
    "projects:restore": "POST only: the Restore button on a deleted project",
    "projects:progress_create": "POST only: the progress form on the project page",
    "projects:milestone_create": "POST only: the milestone form on the project page",
    "projects:milestone_done": "POST only: a milestone's Done button",
    "projects:concurrence_answer": "POST only: Concur / Decline / Withdraw on the project page",
    "projects:resource_line_create": "POST only: the resource form on the project page",
    "projects:resource_line_delete": "POST only: the Delete button of a resource line",
    "projects:document_upload": "POST only: the upload form on the project and engagement pages",
    "projects:document_delete": "POST only: the Delete button of a document",
    "projects:document_download": "file download (permission-checked)",
    "actions:done": "POST only: an action's Done button",
    "scm_reports:pipeline_priority": "POST only: re-ranking the pipeline on the dashboard",
    "scm_reports:report_file": "PDF / XLSX download",
    "exports:download": "file download (its owner only; tests/rcf/test_export_jobs.py)",
    "scm_reports:calendar_feed": "iCalendar feed for calendar applications",
    "api:schema": "the OpenAPI schema (YAML/JSON)",
}
# Every other name under these namespaces is the JSON API (tests/api/), or Django's admin,
# which is Django's own UI (branded "RCF Tracker administration", tests/test_admin.py).
NOT_PAGE_NAMESPACES = {"api": "the JSON API for sync clients (tests/api/)", "admin": "Django's admin"}

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
LANGUAGES = ("en", "ko")


def build_site(today: datetime.date | None = None) -> Site:
    """A realistic site: the demo logins and sample data, plus what makes every
    page show its full content (a project in implementation with actions,
    progress, milestones, resources and a document; Korean titles; long names)."""
    from django.contrib.auth.models import Group

    from contacts.models import Organization, PointOfContact
    from projects import services as project_services
    from projects.models import CooperativeProject, Engagement, ResourceLine
    from rcf.selectors import framework_today
    from scm_reports import services as scm_services
    from scm_reports.models import SCMCycle
    from scm_reports.roles import ADMINISTRATOR
    from tests.factories import DocumentFactory

    today = today or framework_today()
    scm_services.demo_logins_ensure(password=PASSWORD)
    scm_services.sample_data_load(today=today)
    from django.contrib.auth import get_user_model

    User = get_user_model()
    users = {"lead": User.objects.get(username="lead-us"), "rok_lead": User.objects.get(username="lead-rok"),
             "admin": User.objects.get(username="demo"), "editor": User.objects.get(username="editor")}
    users["admin"].groups.add(Group.objects.get(name=ADMINISTRATOR))
    users["lead"].first_name, users["lead"].last_name = "Jordan", "Lee"
    users["lead"].save()

    us_lead_poc = PointOfContact.objects.get(user=users["lead"])
    rok_lead_poc = PointOfContact.objects.get(user=users["rok_lead"])
    rok_lead_poc.full_name_ko = "김민준"
    rok_lead_poc.save()

    projects = CooperativeProject.objects.order_by("pk")
    by_status = {p.status: p for p in projects}
    for project in projects:
        project.title_ko = {
            "presented": "필리핀 해안경비대 해양영역인식 교육",
            "ready": "태평양 도서국과의 연합 수색구조 워크숍",
            "prioritized": "베트남 경비함 정비·수리·분해점검(MRO) 협력",
            "under_review": "아세안 파트너를 위한 사이버 안보 사고 대응 도상훈련",
            "concept": "지역 해양정보 공유 시범사업",
        }.get(project.status, "")
        project.save(update_fields=["title_ko"])

    # A project in implementation, with everything the project page can show.
    lead = users["lead"]
    implementation = project_services.project_create(
        by=lead, title="Pacific Islands maritime surveillance capacity building with a deliberately long title",
        title_ko="태평양 도서국 해양감시 역량 강화 사업", summary="Coastal radar training and maintenance support.",
        priority_area=by_status["presented"].priority_area, lead_side="joint",
        us_lead_poc=us_lead_poc, rok_lead_poc=rok_lead_poc,
        partner_countries=list(by_status["ready"].partner_countries.all()),
    )
    from projects.models import Concurrence

    for step in ("under_review", "prioritized", "ready", "presented", "in_implementation"):
        result = project_services.project_transition(
            project=CooperativeProject.objects.get(pk=implementation.pk), to=step, by=lead, today=today,
            priority=1 if step == "prioritized" else None, at_scm=step == "presented",
            ready_on=today - datetime.timedelta(days=300) if step == "ready" else None)
        if isinstance(result, Concurrence):
            project_services.concurrence_concur(concurrence=result, by=users["rok_lead"], today=today)
    implementation = CooperativeProject.objects.get(pk=implementation.pk)
    project_services.progress_update_create(
        by=lead, project=implementation, date=today - datetime.timedelta(days=5), health="at_risk",
        narrative="Radar spares are delayed by customs; the training schedule holds.")
    project_services.milestone_create(by=lead, project=implementation, title="Radar site survey",
                                      due_on=today - datetime.timedelta(days=10))
    project_services.milestone_create(by=lead, project=implementation, title="First training course",
                                      due_on=today + datetime.timedelta(days=40))
    action = project_services.action_create(
        by=lead, project=implementation, title="Send the customs paperwork to the partner navy",
        owner=us_lead_poc, due_on=today - datetime.timedelta(days=2))
    project_services.action_create(by=lead, project=implementation, title="Book the training venue",
                                   owner=rok_lead_poc, due_on=today + datetime.timedelta(days=5))
    document = DocumentFactory(project=implementation, title="Site survey minutes")

    cycle = SCMCycle.objects.filter(meeting_date__gte=today).order_by("meeting_date").first() \
        or SCMCycle.objects.order_by("-meeting_date").first()
    report_year = SCMCycle.objects.filter(meeting_date__lte=today).order_by("-meeting_date").first().year
    objects = {
        "project": by_status["prioritized"],
        "ready_project": by_status["ready"],
        "implementation_project": implementation,
        "resource_line": ResourceLine.objects.filter(project=by_status["prioritized"]).first(),
        "document": document,
        "engagement": Engagement.objects.order_by("pk").first(),
        "action": action,
        "us_lead_poc": us_lead_poc,
        "organization": Organization.objects.order_by("pk").first(),
        "cycle": cycle,
        "report_year": report_year,
        **_export_runs(users["lead"]),
    }
    return Site(users=users, objects=objects)


def _export_runs(user) -> dict:
    """An export being made (its progress) and one made (its download link), the lead's (issue 14)."""
    from rcf import export_jobs
    from rcf.models import ExportRun

    running = ExportRun.objects.create(kind="projects", fmt="xlsx", created_by=user, file_name="rcf-projects.xlsx",
                                       stored_name="site-pages-running", status="running", rows_total=100_000,
                                       rows_done=41_250)
    # A worker that keeps beating for the whole browser run (else the page would show it stopped).
    ExportRun.objects.filter(pk=running.pk).update(heartbeat_at=running.created_at + datetime.timedelta(days=1))
    done = ExportRun.objects.create(kind="projects", fmt="csv", created_by=user, file_name="rcf-projects.csv",
                                    stored_name="site-pages-done", status="done", rows_total=3, rows_done=3)
    export_jobs.file_path(done).write_bytes(b"\xef\xbb\xbf\"ID\"\n1\n2\n3\n")
    return {"export_running": running, "export_done": done}

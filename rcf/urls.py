"""Root URLconf. Each app's pages and API come from its own URL module."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    # The header search box (issue 12): projects, POCs, organisations, engagements, actions, documents.
    path("search/", include("projects.search_urls")),
    # One password-change page for everyone: the site's counts wrong current passwords toward the
    # sign-in lockout (rcf.accounts.GuardedPasswordChangeView); the admin's own would not.
    path("admin/password_change/", RedirectView.as_view(pattern_name="password_change", query_string=True)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("rcf.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("rcf.account_urls")),
    path("contacts/", include("contacts.urls")),
    path("profile/", include("contacts.profile_views")),  # the signed-in user's own page (name "profile")
    path("projects/", include("projects.urls")),
    path("exports/", include("rcf.export_urls")),  # exports made in the background (issue 14)
    path("engagements/", include("projects.engagement_urls")),  # engagements (issue 11)
    path("actions/", include("projects.action_urls")),  # action items (issue 11)
    path("", include("scm_reports.urls")),
]

handler400 = "rcf.views.bad_request"
handler403 = "rcf.views.permission_denied"
handler404 = "rcf.views.page_not_found"
handler500 = "rcf.views.server_error"

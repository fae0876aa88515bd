from django.urls import path, re_path

from . import import_views, views

app_name = "contacts"

urlpatterns = [
    path("", views.DirectoryView.as_view(), name="directory"),
    path("new/", views.PocCreateView.as_view(), name="poc_create"),
    path("<int:pk>/", views.PocDetailView.as_view(), name="poc_detail"),
    path("<int:pk>/edit/", views.PocUpdateView.as_view(), name="poc_edit"),
    path("organizations/", views.OrganizationListView.as_view(), name="organization_list"),
    path("organizations/new/", views.OrganizationCreateView.as_view(), name="organization_create"),
    path("organizations/<int:pk>/edit/", views.OrganizationUpdateView.as_view(), name="organization_edit"),
    # Spreadsheets (issue 13): contacts/import_views.py.
    path("import/", import_views.ContactImportView.as_view(), name="import"),
    re_path(r"^export\.(?P<fmt>csv|xlsx)$", import_views.PocExportView.as_view(), name="export"),
    re_path(r"^organizations/export\.(?P<fmt>csv|xlsx)$", import_views.OrganizationExportView.as_view(),
            name="organization_export"),
]

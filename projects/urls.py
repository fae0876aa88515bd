from django.urls import path, re_path

from . import document_views, import_views, progress_views, resource_views, views

app_name = "projects"

urlpatterns = [
    path("", views.ProjectListView.as_view(), name="list"),
    path("new/", views.ProjectCreateView.as_view(), name="create"),
    re_path(r"^export\.(?P<fmt>csv|xlsx)$", views.ProjectExportView.as_view(), name="export"),
    path("import/", import_views.ProjectImportView.as_view(), name="import"),  # issue 13
    path("<int:pk>/", views.ProjectDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ProjectUpdateView.as_view(), name="edit"),
    path("<int:pk>/transition/", views.ProjectTransitionView.as_view(), name="transition"),
    path("<int:pk>/delete/", views.ProjectDeleteView.as_view(), name="delete"),
    path("<int:pk>/restore/", views.ProjectRestoreView.as_view(), name="restore"),
    path("<int:pk>/engagements/", views.EngagementCreateView.as_view(), name="log_engagement"),
    # Progress updates and milestones (issue 11): projects/progress_views.py.
    path("<int:pk>/progress/", progress_views.ProgressUpdateCreateView.as_view(), name="progress_create"),
    path("<int:pk>/milestones/", progress_views.MilestoneCreateView.as_view(), name="milestone_create"),
    path("milestones/<int:pk>/done/", progress_views.MilestoneDoneView.as_view(), name="milestone_done"),
    re_path(r"^concurrences/(?P<pk>[0-9]+)/(?P<answer>concur|decline|withdraw)/$",
            views.ConcurrenceAnswerView.as_view(), name="concurrence_answer"),
    # Resource lines (issue 11): projects/resource_views.py.
    path("<int:pk>/resources/", resource_views.ResourceLineCreateView.as_view(), name="resource_line_create"),
    path("resources/<int:pk>/", resource_views.ResourceLineEditView.as_view(), name="resource_line_edit"),
    path("resources/<int:pk>/delete/", resource_views.ResourceLineDeleteView.as_view(), name="resource_line_delete"),
    # Documents (issue 11): projects/document_views.py.
    re_path(r"^documents/upload/(?P<target>project|engagement)/(?P<pk>[0-9]+)/$",
            document_views.DocumentUploadView.as_view(), name="document_upload"),
    path("documents/<int:pk>/", document_views.DocumentEditView.as_view(), name="document_edit"),
    path("documents/<int:pk>/delete/", document_views.DocumentDeleteView.as_view(), name="document_delete"),
    path("documents/<int:pk>/download/", document_views.DocumentDownloadView.as_view(), name="document_download"),
]

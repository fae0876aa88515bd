from django.urls import path, re_path

from . import views

app_name = "projects"

urlpatterns = [
    path("", views.ProjectListView.as_view(), name="list"),
    path("new/", views.ProjectCreateView.as_view(), name="create"),
    re_path(r"^export\.(?P<fmt>csv|xlsx)$", views.ProjectExportView.as_view(), name="export"),
    path("<int:pk>/", views.ProjectDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ProjectUpdateView.as_view(), name="edit"),
    path("<int:pk>/transition/", views.ProjectTransitionView.as_view(), name="transition"),
    path("<int:pk>/delete/", views.ProjectDeleteView.as_view(), name="delete"),
    path("<int:pk>/restore/", views.ProjectRestoreView.as_view(), name="restore"),
    path("<int:pk>/engagements/", views.EngagementCreateView.as_view(), name="log_engagement"),
    re_path(r"^concurrences/(?P<pk>[0-9]+)/(?P<answer>concur|decline|withdraw)/$",
            views.ConcurrenceAnswerView.as_view(), name="concurrence_answer"),
]

from django.urls import path, re_path

from . import views

app_name = "scm_reports"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("pipeline/<int:pk>/priority/", views.PipelinePriorityView.as_view(), name="pipeline_priority"),
    path("scm/", views.CycleListView.as_view(), name="cycle_list"),
    path("scm/new/", views.CycleFormView.as_view(), name="cycle_create"),
    path("scm/<int:pk>/edit/", views.CycleFormView.as_view(), name="cycle_edit"),
    path("scm/<int:year>/report/", views.ReportView.as_view(), name="report"),
    re_path(r"^scm/(?P<year>[0-9]{4})/report\.(?P<fmt>pdf|xlsx)$", views.ReportView.as_view(), name="report_file"),
    path("projects/<int:pk>/present/", views.PresentationCreateView.as_view(), name="presentation_create"),
    path("calendar/", views.CalendarView.as_view(), name="calendar"),
    path("calendar/<str:token>.ics", views.CalendarFeedView.as_view(), name="calendar_feed"),
]

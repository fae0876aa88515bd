from django.urls import path

from . import views

app_name = "scm_reports"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("scm/", views.CycleListView.as_view(), name="cycle_list"),
    path("scm/new/", views.CycleFormView.as_view(), name="cycle_create"),
    path("scm/<int:pk>/edit/", views.CycleFormView.as_view(), name="cycle_edit"),
]

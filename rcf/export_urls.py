"""/exports/: the runs of exports made in the background (rcf.export_views)."""

from django.urls import path

from . import export_views

app_name = "exports"

urlpatterns = [
    path("<int:pk>/", export_views.ExportRunView.as_view(), name="run"),
    path("<int:pk>/download", export_views.ExportDownloadView.as_view(), name="download"),
]

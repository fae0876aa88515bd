"""``/engagements/``: the engagements of every project (and of none)."""

from django.urls import path

from . import engagement_views as views

app_name = "engagements"

urlpatterns = [
    path("", views.EngagementListView.as_view(), name="list"),
    path("new/", views.EngagementCreateView.as_view(), name="create"),
    path("<int:pk>/", views.EngagementDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.EngagementUpdateView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.EngagementDeleteView.as_view(), name="delete"),
]

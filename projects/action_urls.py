"""``/actions/``: action items (issue 11)."""

from django.urls import path

from . import action_views

app_name = "actions"

urlpatterns = [
    path("", action_views.ActionListView.as_view(), name="list"),
    path("new/", action_views.ActionCreateView.as_view(), name="create"),
    path("<int:pk>/edit/", action_views.ActionUpdateView.as_view(), name="edit"),
    path("<int:pk>/done/", action_views.ActionDoneView.as_view(), name="done"),
    path("<int:pk>/delete/", action_views.ActionDeleteView.as_view(), name="delete"),
]

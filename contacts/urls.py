from django.urls import path

from . import views

app_name = "contacts"

urlpatterns = [
    path("", views.DirectoryView.as_view(), name="directory"),
    path("new/", views.PocCreateView.as_view(), name="poc_create"),
    path("<int:pk>/", views.PocDetailView.as_view(), name="poc_detail"),
    path("<int:pk>/edit/", views.PocUpdateView.as_view(), name="poc_edit"),
    path("organizations/", views.OrganizationListView.as_view(), name="organization_list"),
    path("organizations/new/", views.OrganizationCreateView.as_view(), name="organization_create"),
    path("organizations/<int:pk>/edit/", views.OrganizationUpdateView.as_view(), name="organization_edit"),
]

"""The public community dashboard, mounted at /public/dashboard/: no sign-in."""

from django.urls import path

from harbour.reports import public_views as views

app_name = "community"

urlpatterns = [
    path("", views.community_dashboard, name="dashboard"),
    path("dashboard.csv", views.community_dashboard_csv, name="dashboard_csv"),
]

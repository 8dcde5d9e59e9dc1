"""The reports pages, mounted at /reports/."""

from django.urls import path

from harbour.reports import views

app_name = "reports"
urlpatterns = [
    path("targets/", views.targets, name="targets"),
    path("capture-recapture/", views.capture, name="capture"),
]

"""The DHIS2 reporting pages, mounted at /dhis2/."""

from django.urls import path

from harbour.dhis2 import views

app_name = "dhis2"

urlpatterns = [
    path("", views.home, name="home"),
    path("export.json", views.export_json, name="export_json"),
    path("export.adx.xml", views.export_adx, name="export_adx"),
    path("push/", views.push, name="push"),
    path("mapping/", views.mapping, name="mapping"),
    path("server/", views.server, name="server"),
]

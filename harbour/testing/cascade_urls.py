"""The cascades page, mounted at /testing/cascades/."""

from django.urls import path

from harbour.testing import cascade_views

app_name = "cascades"
urlpatterns = [
    path("", cascade_views.cascades, name="overview"),
]

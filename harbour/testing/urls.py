from django.urls import path  # noqa: F401

app_name = "testing"
urlpatterns: list = []  # type: ignore[type-arg]

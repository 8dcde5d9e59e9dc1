from django.urls import path

from harbour.testing import views

app_name = "testing"
urlpatterns = [
    path("", views.lists, name="lists"),
    path("client/<uuid:pk>/", views.client_page, name="client"),
    path("client/<uuid:pk>/test/", views.record_test, name="record_test"),
    path("client/<uuid:pk>/treatment/", views.start_treatment, name="start_treatment"),
    path("client/<uuid:pk>/viral-load/", views.viral_load, name="viral_load"),
    path("tests/<uuid:pk>/result/", views.enter_result, name="enter_result"),
    path("treatments/<uuid:pk>/end/", views.end_treatment, name="end_treatment"),
    path("treatments/<uuid:pk>/support/", views.support, name="support"),
]

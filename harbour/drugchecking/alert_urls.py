from django.urls import path

from harbour.drugchecking import alert_views as views

app_name = "alerts"

urlpatterns = [
    path("", views.alert_list, name="list"),
    path("<uuid:pk>/review/", views.review, name="review"),
    path("rules/", views.rules, name="rules"),
    path("substances/", views.substances, name="substances"),
    path("substances/new/", views.substance_edit, name="substance_create"),
    path("substances/<int:pk>/", views.substance_edit, name="substance_edit"),
]

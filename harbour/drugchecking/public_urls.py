from django.urls import path

from harbour.drugchecking import feeds
from harbour.drugchecking import public_views as views

app_name = "public"

urlpatterns = [
    path("drug-checking/", views.board, name="board"),
    path("alerts.atom", feeds.alerts_atom, name="alerts_atom"),
    path("alerts.json", feeds.alerts_json, name="alerts_json"),
    path("alerts/<uuid:pk>/", views.alert_card, name="alert"),
    path("alerts/<uuid:pk>/qr.svg", views.alert_qr, name="alert_qr"),
    path("alerts/<uuid:pk>/photo.jpg", views.alert_photo, name="alert_photo"),
]

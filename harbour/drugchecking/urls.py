from django.urls import path

from harbour.drugchecking import views

app_name = "drugchecking"
urlpatterns = [
    path("", views.samples, name="samples"),
    path("new/", views.intake, name="intake"),
    path("samples/<uuid:pk>/", views.sample_page, name="sample"),
    path("samples/<uuid:pk>/strip/", views.strip, name="strip"),
    path("samples/<uuid:pk>/analysis/", views.analysis, name="analysis"),
    path("samples/<uuid:pk>/result/", views.result, name="result"),
    path("samples/<uuid:pk>/given-back/", views.given_back, name="given_back"),
    path("samples/<uuid:pk>/photo/", views.photo, name="photo"),
    path("samples/<uuid:pk>/photo.jpg", views.photo_image, name="photo_image"),
]

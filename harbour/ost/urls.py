from django.urls import path

from harbour.ost import views

app_name = "ost"
urlpatterns = [
    path("", views.dispensing, name="dispensing"),
    path("dose-review/", views.dose_review, name="dose_review"),
    path("enrol/<uuid:client_pk>/", views.enrol, name="enrol"),
    path("episodes/<uuid:pk>/", views.episode_detail, name="episode"),
    path("episodes/<uuid:pk>/dispense/", views.dispense, name="dispense"),
    path("episodes/<uuid:pk>/prescribe/", views.prescribe, name="prescribe"),
    path("episodes/<uuid:pk>/review/", views.review, name="review"),
    path("episodes/<uuid:pk>/end/", views.end, name="end"),
    path("episodes/<uuid:pk>/take-homes/", views.take_homes, name="take_homes"),
    path("episodes/<uuid:pk>/travel-letter.pdf", views.letter, name="letter"),
]

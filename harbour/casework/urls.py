from django.urls import path

from harbour.casework import views

app_name = "casework"
urlpatterns = [
    path("", views.morning, name="morning"),
    path("client/<uuid:pk>/", views.client_case, name="client"),
    path("client/<uuid:pk>/refer/", views.refer, name="refer"),
    path("client/<uuid:pk>/book/", views.book, name="book"),
    path("client/<uuid:pk>/assign/", views.assign, name="assign"),
    path("client/<uuid:pk>/reminders/", views.reminders, name="reminders"),
    path("referrals/<uuid:pk>/status/", views.referral_status, name="referral_status"),
    path("appointments/<uuid:pk>/attendance/", views.attendance, name="attendance"),
    path("partners/", views.partners, name="partners"),
    path("partners/new/", views.partner_edit, name="partner_create"),
    path("partners/<int:pk>/", views.partner_edit, name="partner_edit"),
]

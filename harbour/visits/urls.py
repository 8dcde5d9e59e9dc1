from django.urls import path

from harbour.visits import admin_views, views

app_name = "visits"
urlpatterns = [
    path("contact/", views.contact, name="contact_anonymous"),
    path("contact/<uuid:client_pk>/", views.contact, name="contact"),
    path("overdose/", views.overdose, name="overdose"),
    path("site/", views.site_overview, name="site"),
    path("site/<int:pk>/", views.site_overview, name="site_detail"),
    path("catalogue/", admin_views.catalogue, name="catalogue"),
    path("catalogue/new/", admin_views.catalogue_item, name="catalogue_create"),
    path("catalogue/<int:pk>/", admin_views.catalogue_item, name="catalogue_edit"),
    path("sessions/", admin_views.sessions, name="sessions"),
    path("sessions/<int:pk>/", admin_views.session_edit, name="session_edit"),
]

from django.urls import path

from harbour.clients import views

app_name = "clients"
urlpatterns = [
    path("", views.find, name="find"),
    path("code/", views.find_by_code, name="find_by_code"),
    path("anonymous/", views.anonymous_contact, name="anonymous"),
    path("<uuid:pk>/", views.profile, name="profile"),
    path("<uuid:pk>/edit/", views.edit, name="edit"),
    path("<uuid:pk>/card/", views.card, name="card"),
    path("<uuid:pk>/contact/", views.record_contact, name="contact"),
    path("<uuid:pk>/merge/", views.merge, name="merge"),
    path("merges/<int:merge_pk>/undo/", views.undo_merge, name="undo_merge"),
]

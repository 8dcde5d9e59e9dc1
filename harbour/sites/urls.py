from django.urls import path

from harbour.sites import views

app_name = "sites"
urlpatterns = [
    path("", views.site_list, name="list"),
    path("new/", views.site_edit, name="create"),
    path("<int:pk>/", views.site_edit, name="edit"),
    path("summary/", views.summary, name="summary"),
]

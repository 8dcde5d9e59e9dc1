from django.urls import path

from harbour.stock import views

app_name = "stock"
urlpatterns = [
    path("", views.stock, name="levels"),
]

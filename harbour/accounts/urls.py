from django.urls import path

from harbour.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("two-factor/", views.two_factor, name="two_factor"),
    path("site/", views.choose_site, name="choose_site"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_edit, name="user_create"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/reset-two-factor/", views.user_reset_two_factor, name="user_reset_2fa"),
    path("users/<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
]

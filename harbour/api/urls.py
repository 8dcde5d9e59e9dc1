from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from harbour.accounts.access import Cap
from harbour.api import views


class Schema(SpectacularAPIView):
    capability = Cap.SELF


app_name = "api"
urlpatterns = [
    path("schema/", Schema.as_view(), name="schema"),
    path("sites/", views.SiteList.as_view(), name="sites"),
    path("clients/", views.ClientCreate.as_view(), name="client_create"),
    path("clients/lookup/", views.ClientLookup.as_view(), name="client_lookup"),
    path("clients/<uuid:pk>/", views.ClientDetail.as_view(), name="client_detail"),
    path("contacts/", views.ContactCreate.as_view(), name="contact_create"),
    path("overdoses/", views.OverdoseCreate.as_view(), name="overdose_create"),
]

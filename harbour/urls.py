from django.urls import include, path

from harbour.accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("account/", include("harbour.accounts.urls")),
    path("clients/", include("harbour.clients.urls")),
    path("sites/", include("harbour.sites.urls")),
    path("audit/", include("harbour.audit.urls")),
    path("visits/", include("harbour.visits.urls")),
    path("stock/", include("harbour.stock.urls")),
    path("ost/", include("harbour.ost.urls")),
    path("testing/cascades/", include("harbour.testing.cascade_urls")),
    path("testing/", include("harbour.testing.urls")),
    path("casework/", include("harbour.casework.urls")),
    path("drug-checking/alerts/", include("harbour.drugchecking.alert_urls")),
    path("drug-checking/", include("harbour.drugchecking.urls")),
    path("public/dashboard/", include("harbour.reports.public_urls")),
    path("public/", include("harbour.drugchecking.public_urls")),
    path("reports/", include("harbour.reports.urls")),
    path("dashboards/", include("harbour.reports.dashboard_urls")),
    path("dhis2/", include("harbour.dhis2.urls")),
    path("api/v1/", include("harbour.api.urls")),
]

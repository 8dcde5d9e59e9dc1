"""The dashboards and the report files, mounted at /dashboards/."""

from django.urls import path

from harbour.reports import dashboard_views

app_name = "dashboards"
urlpatterns = [
    path("", dashboard_views.programme, name="programme"),
    path("site/<str:code>/", dashboard_views.site, name="site"),
    path("chart/<slug:slug>.svg", dashboard_views.chart, name="chart"),
    path("report.pdf", dashboard_views.report_pdf, name="report_pdf"),
    path("report.xlsx", dashboard_views.report_xlsx, name="report_xlsx"),
    path("indicators.csv", dashboard_views.indicators_csv, name="indicators_csv"),
]

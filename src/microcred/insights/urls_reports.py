"""Program reports, in the "insights" namespace under /insights/reports/."""

from django.urls import URLPattern, path

from . import views_reports

urlpatterns: list[URLPattern] = [
    path("", views_reports.program_report, name="reports"),
    path("program-report.csv", views_reports.program_report_csv, name="reports_csv"),
]

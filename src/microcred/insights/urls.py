from django.urls import URLPattern, URLResolver, include, path

from . import views_staff

app_name = "insights"
urlpatterns: list[URLPattern | URLResolver] = [
    # Each part of insights keeps its own routes; the names live in the "insights" namespace.
    path("reports/", include("microcred.insights.urls_reports")),
    path("", include("microcred.insights.urls_evaluation")),
    path("staff/", views_staff.staff_progress, name="staff"),
    path("staff/staff-progress.csv", views_staff.staff_progress_csv, name="staff_csv"),
]

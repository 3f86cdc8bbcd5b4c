from django.urls import URLPattern, path

from . import views_staff

app_name = "insights"
urlpatterns: list[URLPattern] = [
    path("staff/", views_staff.staff_progress, name="staff"),
    path("staff/staff-progress.csv", views_staff.staff_progress_csv, name="staff_csv"),
]

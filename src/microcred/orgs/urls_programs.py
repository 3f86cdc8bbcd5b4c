"""The roll-out pages under /manage/programs/ (names in the `orgs` namespace)."""

from django.urls import path

from . import views_programs

urlpatterns = [
    path("", views_programs.program_list, name="programs"),
    path("<slug:slug>/", views_programs.program_edit, name="program_edit"),
]

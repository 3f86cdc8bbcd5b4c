"""Evaluation routes of insights: Guskey surveys for earners, research exports for
researchers (included from insights/urls.py at the app's root)."""

from django.urls import URLPattern, path

from . import views_research, views_surveys

urlpatterns: list[URLPattern] = [
    path("surveys/", views_surveys.my_surveys, name="surveys"),
    path("surveys/<uuid:token>/", views_surveys.survey, name="survey"),
    path("surveys/<uuid:token>/thanks/", views_surveys.survey_thanks, name="survey_thanks"),
    path("research/", views_research.research_index, name="research"),
    path("research/export.csv", views_research.research_export, name="research_export"),
    path("research/dictionary/", views_research.research_dictionary, name="research_dictionary"),
]

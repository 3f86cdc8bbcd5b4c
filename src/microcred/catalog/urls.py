from django.urls import path

from . import views_public

app_name = "catalog"
urlpatterns = [
    path("", views_public.catalog_search, name="search"),
    path("mc/<slug:slug>/", views_public.micro_credential, name="detail"),
    path("mc/<slug:slug>/v/<int:number>/", views_public.micro_credential, name="version"),
    path("stacks/", views_public.stack_list, name="stacks"),
    path("stacks/<slug:slug>/", views_public.stack_detail, name="stack"),
]

"""Routes of this area of recognition (see urls.py)."""

from django.urls import URLPattern, path

from . import views_external

urlpatterns: list[URLPattern] = [
    path("from-elsewhere/", views_external.mine, name="external_mine"),
    path("from-elsewhere/new/", views_external.new, name="external_new"),
    path("from-elsewhere/queue/", views_external.queue, name="external_queue"),
    path("from-elsewhere/<int:pk>/decide/", views_external.decide, name="external_decide"),
]

"""Routes of pay pages (included by assessment/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_pay

urlpatterns: list[URLPattern] = [
    path("pay/", views_pay.pay_report, name="pay"),
    path("me/pay/", views_pay.my_pay, name="my_pay"),
]

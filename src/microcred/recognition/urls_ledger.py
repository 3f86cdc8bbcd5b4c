"""Routes of this area of recognition (see urls.py): the ledger of HR, PD and licensure
offices, its exports, and who holds the skills for a role."""

from django.urls import URLPattern, path

from . import views_ledger

urlpatterns: list[URLPattern] = [
    path("ledger/", views_ledger.ledger_page, name="ledger"),
    path("ledger/approve/", views_ledger.ledger_approve, name="ledger_approve"),
    path("ledger/exports/", views_ledger.exports, name="exports"),
    path("ledger/exports/new/", views_ledger.export_new, name="export_new"),
    path("ledger/exports/<int:pk>.csv", views_ledger.export_csv, name="export_csv"),
    path("ledger/exports/<int:pk>/paid/", views_ledger.export_paid, name="export_paid"),
    path("ledger/roles/", views_ledger.role_holders, name="role_holders"),
]

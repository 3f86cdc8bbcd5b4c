"""Routes of the educator's record and of license renewal (see urls.py)."""

from django.urls import URLPattern, path

from . import views_record

urlpatterns: list[URLPattern] = [
    path("my-record/", views_record.my_record, name="my_record"),
    path("my-record/transcript.pdf", views_record.transcript_pdf, name="transcript"),
    path("licenses/", views_record.licenses, name="licenses"),
    path("licenses/import/", views_record.licenses_import, name="licenses_import"),
    path(
        "licenses/import/example.csv",
        views_record.licenses_import_template,
        name="licenses_import_template",
    ),
    path(
        "licenses/import/<str:token>/",
        views_record.licenses_import_review,
        name="licenses_import_review",
    ),
]

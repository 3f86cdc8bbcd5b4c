from django.urls import path

from . import views_evidence as views

app_name = "evidence"
urlpatterns = [
    path("files/", views.evidence_file, name="file"),
    path("<uuid:upload_id>/<str:variant>/", views.open_file, name="open"),
    path("attempts/<uuid:attempt_uuid>/shares/", views.shares, name="shares"),
    # Named in every credential's evidence entry: it must keep this shape.
    path("public/<uuid:submission_uuid>/", views.public_page, name="public"),
    path("public/<uuid:submission_uuid>/publish/", views.publish, name="publish"),
]

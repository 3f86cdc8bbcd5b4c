from django.urls import path

from . import views_uploads as views

app_name = "uploads"
urlpatterns = [
    path("", views.new, name="new"),
    path("list/", views.upload_list, name="list"),
    path("<uuid:upload_id>/discard/", views.discard, name="discard"),
    # The multipart protocol Uppy's AWS S3 plugin speaks (see static/earning/uploader.js).
    path("api/", views.create, name="create"),
    path("api/<uuid:upload_id>/", views.detail, name="detail"),
    path("api/<uuid:upload_id>/parts/", views.parts, name="parts"),
    path("api/<uuid:upload_id>/parts/sign/", views.sign_parts, name="sign_parts"),
    path("api/<uuid:upload_id>/parts/<int:number>/sign/", views.sign_part, name="sign_part"),
    path("api/<uuid:upload_id>/complete/", views.complete, name="complete"),
    # Signed URLs of the local-disk backend: part uploads and file downloads.
    path("<uuid:upload_id>/parts/<int:number>", views.put_part, name="put_part"),
    path("files/", views.signed_file, name="file"),
]

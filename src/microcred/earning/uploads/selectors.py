"""Reads for uploads: one upload for its owner, a person's uploads, unfinished ones to resume,
and short-lived URLs to see the files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rules
from django.db.models import QuerySet

from ..models import Upload
from .backends import backend_for
from .errors import UploadError

# Checking an S3 upload's progress is a request to the bucket: offer only the latest few.
MAX_RESUMABLE = 10


def upload_for(user: Any, upload_id: Any, *, perm: str = "earning.change_upload") -> Upload:
    """The upload, if this user may act on it; otherwise the same 404 as for a missing one,
    so ids of other people's uploads reveal nothing."""
    upload = Upload.objects.filter(pk=upload_id).first()
    # Asked of the rule set itself, not user.has_perm, which passes every superuser: an
    # upload in progress is its owner's alone (signing parts, completing, discarding).
    if upload is None or not rules.has_perm(perm, user, upload):
        raise UploadError("There is no such upload.", status=404, code="not_found")
    return upload


def uploads_of(user: Any, *, purpose: str | None = None) -> QuerySet[Upload]:
    uploads = Upload.objects.filter(owner=user).exclude(status=Upload.Status.ABORTED)
    if purpose is not None:
        uploads = uploads.filter(purpose=purpose)
    return uploads.order_by("-created_at")


@dataclass(frozen=True)
class Unfinished:
    upload: Upload
    stored_bytes: int

    @property
    def percent(self) -> int:
        return int(100 * self.stored_bytes / self.upload.size)

    def as_resume_data(self) -> dict[str, Any]:
        """What the uploader needs to continue this upload when the same file is chosen."""
        u = self.upload
        return {
            "uploadId": str(u.pk),
            "key": u.key,
            "name": u.filename,
            "size": u.size,
            "partSize": u.part_size,
            "percent": self.percent,
        }


def unfinished_uploads(user: Any, *, purpose: str | None = None) -> list[Unfinished]:
    uploads = uploads_of(user, purpose=purpose).filter(status=Upload.Status.UPLOADING)
    found = []
    for upload in uploads[:MAX_RESUMABLE]:
        try:
            parts = backend_for(upload).list_parts(upload)
        except UploadError:
            continue  # the storage no longer knows it; the cleanup job will discard it
        found.append(Unfinished(upload, sum(p.size for p in parts)))
    return found


def file_url(upload: Upload, which: str = "view") -> str:
    """A short-lived URL for the upload's "poster", a "view" of it in the browser (the
    playable copy when there is one) or a "download" of the original; "" if there is none."""
    if upload.status != Upload.Status.COMPLETE:
        return ""
    backend = backend_for(upload)
    if which == "poster":
        if not upload.poster_key:
            return ""
        return backend.file_url(upload.poster_key, content_type="image/jpeg")
    if which == "view" and upload.playable_key:
        return backend.file_url(upload.playable_key, content_type=upload.playable_type)
    name = upload.key.rsplit("/", 1)[-1] if which == "download" else ""
    return backend.file_url(upload.key, content_type=upload.content_type, download_name=name)

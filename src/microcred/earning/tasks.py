"""Background work of the earning app.

Imports of the work itself happen inside each task: the web process imports this module to
enqueue, and must not load PyAV and FFmpeg (about 16 MB) to do so.
"""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task


@task()
def process_upload(upload_id: str) -> str:
    """Checksum and media checks for a completed upload (see uploads.processing)."""
    from .uploads.processing import process_upload as process

    upload = process(upload_id)
    return upload.probe_status if upload else "skipped"


def queue_missing_blind_copies() -> int:
    """Queue the processing again for every finished recording, picture or document with no
    assessors' copy (uploaded before those copies existed, or its processing was lost):
    until it has one, assessors cannot see it. Returns how many were queued."""
    from .models import Upload

    missing = Upload.objects.filter(
        Upload.blind_copy_kinds(), status=Upload.Status.COMPLETE, blind_key=""
    )
    count = 0
    for upload_id in missing.values_list("pk", flat=True).iterator():
        process_upload.enqueue(str(upload_id))
        count += 1
    return count


@task()
def clean_abandoned_uploads(days: int = 7) -> int:
    """Discard uploads that made no progress for `days` days; returns how many."""
    from .uploads.services import clean_abandoned_uploads as clean

    return clean(timedelta(days=days))

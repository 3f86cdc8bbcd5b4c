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


@task()
def clean_abandoned_uploads(days: int = 7) -> int:
    """Discard uploads that made no progress for `days` days; returns how many."""
    from .uploads.services import clean_abandoned_uploads as clean

    return clean(timedelta(days=days))

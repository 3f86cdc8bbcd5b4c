"""After an upload completes: its SHA-256 and, for audio and video, what PyAV finds (length,
codecs, picture size), a poster frame and a browser-playable copy when needed.

Runs in the task worker (tasks.process_upload), the only process that loads PyAV/FFmpeg.
"""

from __future__ import annotations

import hashlib
import logging
import posixpath
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.files import File
from django.utils import timezone

from .. import media
from ..models import Upload
from .backends import backend_for

logger = logging.getLogger(__name__)

HASH_CHUNK = 1024 * 1024
RESULT_FIELDS = [
    "sha256",
    "probe_status",
    "probe_message",
    "probed_at",
    "container",
    "duration_seconds",
    "video_codec",
    "audio_codec",
    "width",
    "height",
    "poster_key",
    "playable_key",
    "playable_type",
]


def process_upload(upload_id: Any) -> Upload | None:
    """After completion: the file's SHA-256, and for audio and video its length, codecs,
    picture size, a poster frame and, when browsers cannot play it, a playable copy.
    Running twice redoes the work and replaces the earlier results."""
    upload = Upload.objects.filter(pk=upload_id, status=Upload.Status.COMPLETE).first()
    if upload is None:
        return None
    backend = backend_for(upload)
    with backend.local_copy(upload.key) as path:
        upload.sha256 = _sha256(path)
        family, _, subtype = upload.content_type.partition("/")
        if family not in ("video", "audio"):
            upload.probe_status = Upload.ProbeStatus.NOT_MEDIA
        else:
            _probe_media(upload, backend, path, container=subtype)
    upload.probed_at = timezone.now()
    upload.save(update_fields=[*RESULT_FIELDS, "updated_at"])
    return upload


def _probe_media(upload: Upload, backend: Any, path: Path, *, container: str) -> None:
    try:
        info = media.probe(path, container)
    except media.MediaError as exc:
        upload.probe_status = Upload.ProbeStatus.FAILED
        upload.probe_message = (
            "We could not read this recording. It may be damaged or use a format we do not "
            "support; try exporting it again as MP4."
        )
        logger.warning("Probe failed for upload %s: %s", upload.pk, exc)
        return
    upload.container = info.container
    upload.duration_seconds = info.duration_seconds
    upload.video_codec, upload.audio_codec = info.video_codec, info.audio_codec
    upload.width, upload.height = info.width, info.height
    folder = posixpath.dirname(upload.key)
    messages = []
    try:
        if info.has_video:
            upload.poster_key = _store_derived(
                backend,
                upload.poster_key,
                f"{folder}/poster.jpg",
                lambda out: media.make_poster(path, out, media.poster_time(info.duration_seconds)),
            )
        if not info.is_browser_playable:
            suffix, upload.playable_type = media.playable_format(info)
            upload.playable_key = _store_derived(
                backend,
                upload.playable_key,
                f"{folder}/playable{suffix}",
                lambda out: media.make_playable(path, out, info),
            )
            messages.append("We made a copy that plays in every browser.")
    except media.MediaError as exc:
        logger.warning("Conversion failed for upload %s: %s", upload.pk, exc)
        messages.append("We could not make a preview of this recording.")
    upload.probe_status = Upload.ProbeStatus.READY
    upload.probe_message = " ".join(messages)


def _store_derived(backend: Any, previous: str, key: str, make: Callable[[Path], None]) -> str:
    """Have `make` write a derived file to a temporary path, then store it under `key`
    (replacing the one an earlier run stored)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / posixpath.basename(key)
        make(out)
        if previous:
            backend.delete(previous)
        with out.open("rb") as handle:
            return backend.storage.save(key, File(handle, name=out.name))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()

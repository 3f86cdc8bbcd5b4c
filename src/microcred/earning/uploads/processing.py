"""After an upload completes: its SHA-256 and, for audio and video, what PyAV finds (length,
codecs, picture size), a poster frame and a browser-playable copy when needed; for audio,
video, pictures, PDFs and Word documents, the assessors' copy without metadata (DESIGN.md
invariant 2).

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

from .. import documents, media, metadata
from ..evidence_access import BLIND_FAILED
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
    "blind_key",
    "blind_type",
]


def process_upload(upload_id: Any) -> Upload | None:
    """After completion: the file's SHA-256, and for audio and video its length, codecs,
    picture size, a poster frame and, when browsers cannot play it, a playable copy; for
    audio, video, pictures and documents, the assessors' copy without metadata. Running
    twice redoes the work and replaces the earlier results."""
    upload = Upload.objects.filter(pk=upload_id, status=Upload.Status.COMPLETE).first()
    if upload is None:
        return None
    backend = backend_for(upload)
    # A blind copy of its own that an earlier run stored (not the playable copy, which
    # _probe_media replaces): replaced below, or deleted if this run makes none.
    stale = upload.blind_key if upload.blind_key != upload.playable_key else ""
    upload.blind_key = upload.blind_type = ""
    with backend.local_copy(upload.key) as path:
        upload.sha256 = _sha256(path)
        family, _, subtype = upload.content_type.partition("/")
        if family in ("video", "audio"):
            _probe_media(upload, backend, path, container=subtype, stale=stale)
        else:
            upload.probe_status = Upload.ProbeStatus.NOT_MEDIA
            upload.probe_message = ""
            if family == "image":
                _strip_image(upload, backend, path, stale=stale)
            elif upload.content_type in Upload.BLIND_COPY_TYPES:
                _strip_document(upload, backend, path, stale=stale)
    if stale and stale != upload.blind_key:
        backend.delete(stale)
    upload.probed_at = timezone.now()
    upload.save(update_fields=[*RESULT_FIELDS, "updated_at"])
    return upload


def _probe_media(
    upload: Upload, backend: Any, path: Path, *, container: str, stale: str = ""
) -> None:
    try:
        info = media.probe(path, container)
    except media.MediaError as exc:
        upload.probe_status = Upload.ProbeStatus.FAILED
        upload.probe_message = (
            "We could not read this recording. It may be damaged or use a format we do not "
            "support; try exporting it again as MP4. Assessors cannot see it until then."
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
    if not _blind_media(upload, backend, path, info, stale=stale):
        messages.append(BLIND_FAILED + "Try exporting it again as MP4.")
    upload.probe_status = Upload.ProbeStatus.READY
    upload.probe_message = " ".join(messages)


def _blind_media(
    upload: Upload, backend: Any, path: Path, info: media.MediaInfo, *, stale: str
) -> bool:
    """The assessors' copy of a recording: the playable copy when there is one (our own
    encode or remux, which carries no tags), else the original remuxed without metadata.
    False if none could be made."""
    if upload.playable_key:
        upload.blind_key, upload.blind_type = upload.playable_key, upload.playable_type
        return True
    if not info.is_browser_playable:
        return False  # the playable copy failed: a remux of the original would not play
    extension = posixpath.splitext(upload.key)[1] or f".{info.container}"
    try:
        upload.blind_key = _store_derived(
            backend,
            stale,
            f"{posixpath.dirname(upload.key)}/blind{extension}",
            lambda out: media.strip_metadata(path, out, info.container),
        )
    except media.MediaError as exc:
        logger.warning("Stripping metadata failed for upload %s: %s", upload.pk, exc)
        return False
    upload.blind_type = upload.content_type
    return True


def _strip_image(upload: Upload, backend: Any, path: Path, *, stale: str) -> None:
    """The assessors' copy of a picture, re-encoded from its pixels alone."""
    written: list[str] = []

    def make(out: Path) -> Path:
        suffix, mime = metadata.strip_image(path, out)
        written.append(mime)
        return out.with_suffix(suffix)

    try:
        upload.blind_key = _store_derived(
            backend, stale, f"{posixpath.dirname(upload.key)}/blind", make, renames=True
        )
    except metadata.MetadataError as exc:
        logger.warning("Stripping metadata failed for upload %s: %s", upload.pk, exc)
        upload.probe_message = BLIND_FAILED + "Try saving it again as JPEG or PNG."
        return
    upload.blind_type = written[0]


def _strip_document(upload: Upload, backend: Any, path: Path, *, stale: str) -> None:
    """The assessors' copy of a PDF (its pages only) or a Word document (its parts, without
    the properties and the names of who commented or changed what)."""
    extension = ".pdf" if upload.content_type == documents.PDF else ".docx"
    try:
        upload.blind_key = _store_derived(
            backend,
            stale,
            f"{posixpath.dirname(upload.key)}/blind{extension}",
            lambda out: documents.strip_document(upload.content_type, path, out),
        )
    except documents.DocumentError as exc:
        logger.warning("Stripping metadata failed for upload %s: %s", upload.pk, exc)
        upload.probe_message = BLIND_FAILED + (
            f"Documents larger than {documents.MAX_BYTES // (1024 * 1024)} MB are not "
            "prepared: try splitting it, or saving it again with smaller pictures."
            if isinstance(exc, documents.DocumentTooLarge)
            else "Try saving it again (Save As) without a password, as PDF or Word (.docx)."
        )
        return
    upload.blind_type = upload.content_type


def _store_derived(
    backend: Any, previous: str, key: str, make: Callable[[Path], Any], *, renames: bool = False
) -> str:
    """Have `make` write a derived file to a temporary path, then store it under `key`
    (replacing the one an earlier run stored). With `renames`, `make` returns the path it
    actually wrote (a picture's copy gets the suffix of the format it was written as), and
    that suffix is added to `key`."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / posixpath.basename(key)
        made = make(out)
        if renames:
            out, key = made, key + made.suffix
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

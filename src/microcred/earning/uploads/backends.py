"""The storage side of the multipart protocol: one interface, a local-disk and an S3 version.

The backend follows the default storage, so the same code runs in the embedded setup and in
production. An upload remembers which backend received it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, Storage, storages

from ..models import Upload

# How long a signed part or file URL stays valid. A part upload only has to *start* in time.
SIGNED_URL_SECONDS = 10 * 60


@dataclass(frozen=True)
class StoredPart:
    number: int
    size: int
    etag: str  # hex digest, without the quotes HTTP puts around it


@dataclass(frozen=True)
class SignedRequest:
    url: str
    headers: dict[str, str] = field(default_factory=dict)


class UploadBackend(Protocol):
    name: str
    storage: Storage

    def start(self, upload: Upload) -> str:
        """Open a multipart upload for `upload.key`; returns the backend's upload id."""

    def sign_parts(self, upload: Upload, numbers: Sequence[int]) -> list[SignedRequest]:
        """Short-lived URLs the browser PUTs these parts to, in the order of `numbers`."""

    def write_part(self, upload: Upload, number: int, body: BinaryIO, length: int) -> StoredPart:
        """Store one part sent from this server (browsers PUT theirs to signed URLs)."""

    def list_parts(self, upload: Upload) -> list[StoredPart]:
        """Parts stored so far, in order."""

    def assemble(self, upload: Upload, parts: list[StoredPart]) -> None:
        """Join the (already verified) parts into the object at `upload.key`."""

    def abort(self, upload: Upload) -> None:
        """Drop the parts; safe to call twice."""

    def read_head(self, key: str, size: int) -> bytes:
        """The first `size` bytes of a stored object, without fetching the rest."""

    def local_copy(self, key: str) -> AbstractContextManager[Path]:
        """A path on this machine holding the object, for tools that need a real file."""

    def file_url(self, key: str, *, content_type: str, download_name: str = "") -> str:
        """A short-lived URL that serves the object."""

    def delete(self, key: str) -> None: ...


def default_backend() -> UploadBackend:
    """The backend for new uploads, following STORAGES["default"]."""
    storage = storages["default"]
    if isinstance(storage, FileSystemStorage):
        from .local import LocalBackend

        return LocalBackend(storage)
    from storages.backends.s3 import S3Storage

    if isinstance(storage, S3Storage):
        from .s3 import S3Backend

        return S3Backend(storage)
    raise ImproperlyConfigured(
        f"Evidence uploads need FileSystemStorage or S3Storage, not {type(storage).__name__}."
    )


def backend_for(upload: Upload) -> UploadBackend:
    backend = default_backend()
    if backend.name != upload.backend:
        raise ImproperlyConfigured(
            f"Upload {upload.pk} is stored on {upload.backend}, but the default storage is now "
            f"{backend.name}; move the files before switching storages."
        )
    return backend

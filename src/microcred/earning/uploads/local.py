"""The S3 multipart protocol served from local disk, for the embedded setup.

"Signing" a part returns a short-lived URL to our own part endpoint. Each part is streamed from
the request straight into its place in one preallocated file (`incoming/<id>.partial`), so the
data is written to disk once; completing the upload only renames that file to its key. The
part list (size, ETag) lives in the database, as S3 keeps its own.

Part writers hold a shared lock on the partial file and completion takes it exclusively, so a
late part can never land in a file that has already been checked and moved.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlencode

from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from ..models import Upload, UploadPart
from .backends import SIGNED_URL_SECONDS, SignedRequest, StoredPart
from .errors import UploadError

# The WSGI server copies each read a few times on its way to us; reads of the size it
# receives at once (1 MiB) copy least: about twice the speed of 256 KiB reads, for 4 MB more.
CHUNK_SIZE = 1024 * 1024
_PART_SALT = "microcred.earning.uploads.part"
_FILE_SALT = "microcred.earning.uploads.file"


def _signature(salt: str, *values: object) -> str:
    message = ":".join(str(v) for v in values)
    return salted_hmac(salt, message, algorithm="sha256").hexdigest()


def _check_signature(salt: str, expires: str, signature: str, *values: object) -> None:
    """Refuse a URL whose signature does not match these values or whose time has passed."""
    if not expires.isdigit() or not constant_time_compare(
        signature, _signature(salt, *values, expires)
    ):
        raise UploadError(
            "This upload link is not valid for this file or part.", status=403, code="bad_signature"
        )
    if int(expires) < time.time():
        raise UploadError(
            "This upload link has expired; a new one is needed.", status=403, code="expired"
        )


def signed_query(salt: str, *values: object) -> str:
    expires = int(time.time()) + SIGNED_URL_SECONDS
    return urlencode({"expires": expires, "signature": _signature(salt, *values, expires)})


def check_part_signature(upload_id: object, number: int, expires: str, signature: str) -> None:
    _check_signature(_PART_SALT, expires, signature, upload_id, number)


def check_file_signature(key: str, content_type: str, name: str, expires: str, sig: str) -> None:
    _check_signature(_FILE_SALT, expires, sig, key, content_type, name)


class LocalBackend:
    name = Upload.Backend.LOCAL

    def __init__(self, storage: FileSystemStorage) -> None:
        self.storage = storage

    def _partial_path(self, upload: Upload) -> Path:
        return Path(self.storage.path(f"incoming/{upload.pk}.partial"))

    def start(self, upload: Upload) -> str:
        path = self._partial_path(upload)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as handle:
            # A sparse file of the final size: each part is written at its own offset.
            handle.truncate(upload.size)
        return path.name

    def sign_part(self, upload: Upload, number: int) -> SignedRequest:
        path = reverse("uploads:put_part", args=[upload.pk, number])
        return SignedRequest(url=f"{path}?{signed_query(_PART_SALT, upload.pk, number)}")

    def write_part(
        self, upload: Upload, number: int, body: BinaryIO, length: int, content_md5: str = ""
    ) -> StoredPart:
        """Stream one part from `body` to disk in chunks, then record it. `content_md5` is the
        Content-MD5 header, checked as S3 does when a client sends one.

        The ETag is the part's MD5 only then. Otherwise it is a fresh random tag: all it must
        do is tell this write of the part from any other (S3's ETags are opaque too), and
        hashing every byte halved the upload speed. The whole file's SHA-256 is taken after
        completion either way."""
        expected = upload.expected_part_size(number)
        if length != expected:
            last = "the last part" if number == upload.part_count else "every part but the last"
            raise UploadError(
                f"Part {number} is {filesizeformat(length)}, but {last} of this file must be "
                f"{filesizeformat(expected)} ({expected:,} bytes).",
                code="part_size",
            )
        with self._open_for_parts(upload) as handle:
            handle.seek((number - 1) * upload.part_size)
            digest = hashlib.md5(usedforsecurity=False) if content_md5 else None
            received = 0
            while received < length:
                try:
                    chunk = body.read(min(CHUNK_SIZE, length - received))
                except OSError:
                    break  # the client went away mid-part
                if not chunk:
                    break
                if digest is not None:
                    digest.update(chunk)
                handle.write(chunk)
                received += len(chunk)
            if received != length:
                raise UploadError(
                    f"The connection dropped before part {number} arrived in full; "
                    "it will be sent again.",
                    code="incomplete_part",
                )
            if digest is not None and content_md5 != base64.b64encode(digest.digest()).decode():
                raise UploadError(
                    f"Part {number} was damaged on the way (its Content-MD5 does not match); "
                    "it will be sent again.",
                    code="bad_digest",
                )
            handle.flush()
            # The part is acknowledged with its ETag only once it is on disk, as S3 does.
            os.fdatasync(handle.fileno())
        etag = digest.hexdigest() if digest is not None else secrets.token_hex(16)
        part = StoredPart(number=number, size=length, etag=etag)
        self._record(upload, part)
        return part

    @contextmanager
    def _open_for_parts(self, upload: Upload) -> Iterator[BinaryIO]:
        path = self._partial_path(upload)
        try:
            handle = path.open("r+b")
        except FileNotFoundError as exc:
            raise _not_open() from exc
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise _not_open() from exc
            # Completion may have moved the file between our open and our lock.
            if not _same_file(handle, path):
                raise _not_open()
            yield handle

    def _record(self, upload: Upload, part: StoredPart) -> None:
        with transaction.atomic():
            current = Upload.objects.select_for_update().get(pk=upload.pk)
            if current.status != Upload.Status.UPLOADING:
                raise _not_open()
            UploadPart.objects.update_or_create(
                upload=current, number=part.number, defaults={"size": part.size, "etag": part.etag}
            )
            # Activity keeps an upload from being cleaned up as abandoned.
            current.save(update_fields=["updated_at"])

    def list_parts(self, upload: Upload) -> list[StoredPart]:
        return [
            StoredPart(number=p.number, size=p.size, etag=p.etag)
            for p in UploadPart.objects.filter(upload=upload).order_by("number")
        ]

    def assemble(self, upload: Upload, parts: list[StoredPart]) -> None:
        path = self._partial_path(upload)
        try:
            handle = path.open("r+b")
        except FileNotFoundError as exc:
            raise _not_open() from exc
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise UploadError(
                    "Some parts are still arriving. Try again when they have finished.",
                    status=409,
                    code="parts_in_flight",
                ) from exc
            if os.fstat(handle.fileno()).st_size != upload.size:
                raise UploadError("The stored file has the wrong size.", status=409)
            os.fsync(handle.fileno())
            final = Path(self.storage.path(upload.key))
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, final)
        UploadPart.objects.filter(upload=upload).delete()

    def abort(self, upload: Upload) -> None:
        self._partial_path(upload).unlink(missing_ok=True)
        UploadPart.objects.filter(upload=upload).delete()

    def read_head(self, key: str, size: int) -> bytes:
        with self.storage.open(key, "rb") as handle:
            return handle.read(size)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        yield Path(self.storage.path(key))

    def file_url(self, key: str, *, content_type: str, download_name: str = "") -> str:
        query = signed_query(_FILE_SALT, key, content_type, download_name)
        params = urlencode({"key": key, "type": content_type, "name": download_name})
        return f"{reverse('uploads:file')}?{params}&{query}"

    def delete(self, key: str) -> None:
        self.storage.delete(key)


def _same_file(handle: BinaryIO, path: Path) -> bool:
    try:
        return os.fstat(handle.fileno()).st_ino == path.stat().st_ino
    except FileNotFoundError:
        return False


def _not_open() -> UploadError:
    return UploadError(
        "This upload is no longer accepting parts (it was completed or discarded).",
        status=409,
        code="not_open",
    )

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
import ctypes
import errno
import fcntl
import hashlib
import mmap
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlencode

from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from .. import user_files
from ..models import Upload, UploadPart
from .backends import SIGNED_URL_SECONDS, SignedRequest, StoredPart
from .errors import UploadError

# Each part is received into one reused buffer of this size (per thread) and written from it:
# 1 MiB reads are about twice as fast as 256 KiB ones, and no new memory is taken per read.
CHUNK_SIZE = 1024 * 1024
_buffers = threading.local()
# Direct I/O needs the file offset, the length and the buffer's address aligned to the
# device's logical block size: 4096 covers the usual 512 and 4096 byte ones. Never less than a
# memory page: parts are written concurrently, and a page the page cache holds for one part's
# unaligned edge must not also take another part's direct write, or writing back the cached
# page would put the stale bytes it read over the direct ones (on 16 or 64 KiB page systems).
DIRECT_ALIGN = max(4096, mmap.PAGESIZE)
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
            # A sparse file of the final size: each part is written at its own offset, and its
            # blocks are allocated when it arrives, so declaring uploads reserves no disk.
            handle.truncate(upload.size)
        return path.name

    def sign_parts(self, upload: Upload, numbers: Sequence[int]) -> list[SignedRequest]:
        return [
            SignedRequest(
                url=f"{reverse('uploads:put_part', args=[upload.pk, number])}?"
                f"{signed_query(_PART_SALT, upload.pk, number)}"
            )
            for number in numbers
        ]

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
            fd = handle.fileno()
            offset = (number - 1) * upload.part_size
            digest = hashlib.md5(usedforsecurity=False) if content_md5 else None
            _reserve(fd, offset, length)
            with _direct_writer(fd) as direct:
                received = _copy(body, fd, direct, offset, length, digest)
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
        # Two statements, not five: these ran for every part and cost more CPU than receiving
        # a 16 MiB part's bytes (issue 8).
        with transaction.atomic():
            # Checks the upload still takes parts and locks its row, as completion does first,
            # and marks activity, which keeps an upload from being cleaned up as abandoned.
            still_open = Upload.objects.filter(pk=upload.pk, status=Upload.Status.UPLOADING).update(
                updated_at=timezone.now()
            )
            if not still_open:
                raise _not_open()
            row = UploadPart(
                upload_id=upload.pk, number=part.number, size=part.size, etag=part.etag
            )
            UploadPart.objects.bulk_create(
                [row],
                update_conflicts=True,
                unique_fields=["upload", "number"],
                update_fields=["size", "etag", "uploaded_at"],
            )

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
        # On the user content origin when one is set (invariant 9).
        return user_files.link(f"{reverse('uploads:file')}?{params}&{query}")

    def delete(self, key: str) -> None:
        self.storage.delete(key)


def _copy(
    body: BinaryIO, fd: int, direct: int | None, offset: int, length: int, digest: Any
) -> int:
    """Read up to `length` bytes of `body` into the thread's buffer and write them to the file
    at `offset`, feeding `digest` (if any) on the way; the number of bytes written, fewer when
    the client went away.

    Each chunk is filled whole before it is written, so that, with `direct` (the same file
    opened with O_DIRECT), aligned chunks go to the disk without the page cache; a chunk that
    is not aligned (a part's unaligned start, or its end) goes through `fd`."""
    buffer = _buffer()
    readinto = getattr(body, "readinto", None)
    received = 0
    while received < length:
        position = offset + received
        want = min(len(buffer), length - received)
        if position % DIRECT_ALIGN:  # up to the next boundary, then aligned chunks
            want = min(want, DIRECT_ALIGN - position % DIRECT_ALIGN)
        filled = _fill(body, readinto, buffer, want)
        chunk = buffer[:filled]
        if digest is not None:
            digest.update(chunk)
        if direct is not None and filled % DIRECT_ALIGN == 0 and position % DIRECT_ALIGN == 0:
            try:
                _write_at(direct, chunk, position)
            except OSError as exc:
                # A file system that opens with O_DIRECT but wants another alignment (or none
                # at all): write this part, and the rest of it, through the page cache.
                if exc.errno != errno.EINVAL:
                    raise
                direct = None
                _write_at(fd, chunk, position)
        else:
            _write_at(fd, chunk, position)
        received += filled
        if filled < want:  # the client went away
            break
    return received


def _fill(body: BinaryIO, readinto: Any, buffer: memoryview, want: int) -> int:
    """Fill `buffer[:want]` from `body`; fewer bytes only when the client went away."""
    filled = 0
    try:
        while filled < want:
            if readinto is not None:
                n = readinto(buffer[filled:want]) or 0
            else:
                piece = body.read(want - filled)
                n = len(piece)
                buffer[filled : filled + n] = piece
            if not n:
                break
            filled += n
    except OSError:
        pass  # the client went away mid-part: what arrived is all there is
    return filled


@contextmanager
def _direct_writer(fd: int) -> Iterator[int | None]:
    """The file open as `fd`, opened again for direct I/O (O_DIRECT: writes go from our buffer
    to the disk, not through the page cache); None where the system or file system has none.

    Writing a part through the page cache cost 2 s of kernel CPU per GiB here when the cache
    had to take fresh memory (and as much again for dd): most of an upload's time (issue 8).
    Opened through /proc/self/fd, so it is the very file `fd` holds locked, whatever its path
    now says."""
    flag = getattr(os, "O_DIRECT", 0)
    direct = None
    if flag:
        try:
            direct = os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | flag)
        except OSError:
            direct = None  # no /proc, or a file system without direct I/O (tmpfs)
    try:
        yield direct
    finally:
        if direct is not None:
            os.close(direct)


def _reserve(fd: int, offset: int, length: int) -> None:
    """Allocate a part's blocks in one extent (fallocate(2)) before its bytes arrive, where the
    file system can; else they are allocated as written. Direct writes into allocated blocks
    took a third less time than into holes, which each write had to allocate (issue 8). Done
    per part, not for the whole file at creation: declared uploads (24 GiB per account) must
    not take disk no byte was sent for. A part the disk has no room for is refused at once."""
    fallocate = _fallocate()
    if fallocate is None or fallocate(fd, 0, offset, length) == 0:
        return
    if ctypes.get_errno() in (errno.ENOSPC, errno.EDQUOT):
        raise UploadError(
            "The server has no room for this file right now. Try again later, or tell the "
            "people who run this site.",
            status=507,
            code="no_space",
        )
    # Any other failure (a file system without fallocate): the file stays sparse, as before.


@cache
def _fallocate() -> Any:
    """libc's fallocate with 64-bit offsets; None where there is none (not Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    # Not posix_fallocate: where the file system cannot allocate, glibc emulates it by
    # writing every block, which would cost as much as the upload.
    function = getattr(libc, "fallocate64", None)
    if function is None and ctypes.sizeof(ctypes.c_long) == 8:
        function = getattr(libc, "fallocate", None)
    if function is None:
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    function.restype = ctypes.c_int
    return function


def _buffer() -> memoryview:
    view = getattr(_buffers, "view", None)
    if view is None:
        # Anonymous memory, page-aligned as direct I/O needs (a bytearray need not be).
        view = _buffers.view = memoryview(mmap.mmap(-1, CHUNK_SIZE))
    return view


def _write_at(fd: int, data: memoryview, offset: int) -> None:
    while data:
        written = os.pwrite(fd, data, offset)
        data, offset = data[written:], offset + written


class SocketBody:
    """The rest of a request body read straight from the client's socket into the caller's
    buffer, for a request that gunicorn parsed.

    gunicorn hands a body over through `wsgi.input` after copying every piece several times
    (its read-ahead buffer, its body buffer, the slices of both): receiving 1 GiB that way took
    0.34 to 1.4 s of CPU, and 0.13 s this way (issue 8). This reads the same bytes in order, with
    `recv_into` into a buffer reused for every read, and keeps gunicorn's own count of what is
    left of the body, so that gunicorn reads on from the right place for the next request on
    the connection. `close()` gives back read-ahead bytes that were not used.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._reader = stream.reader
        self._unreader = self._reader.unreader
        self._socket: socket.socket = self._unreader.sock
        # What gunicorn already received past the headers: the body's first bytes, and, if the
        # client sent its next request already, bytes that stay with gunicorn.
        held = self._unreader.take_buffered()
        if len(held) > self._reader.length:
            self._unreader.unread(held[self._reader.length :])
        self._held = memoryview(held)[: self._reader.length]

    def readinto(self, buffer: memoryview) -> int:
        want = min(len(buffer), self._reader.length)
        if want <= 0:
            return 0
        if self._held:
            n = min(want, len(self._held))
            buffer[:n] = self._held[:n]
            self._held = self._held[n:]
        else:
            try:
                # MSG_WAITALL: one call fills the chunk (fewer calls and wake-ups than one per
                # arriving packet); fewer bytes come back only when the client stops sending.
                n = self._socket.recv_into(buffer, want, socket.MSG_WAITALL)
            except OSError:
                self._stream.failed = True  # where the next request starts is unknown now
                raise
        self._reader.length -= n
        return n

    def close(self) -> None:
        if self._held:
            self._unreader.unread(bytes(self._held))
            self._held = memoryview(b"")


def socket_body(request: HttpRequest) -> SocketBody | None:
    """The request body as a `SocketBody` when gunicorn serves the request and no byte of the
    body has been read yet; None otherwise (other servers, or the test client), and the caller
    reads the request itself."""
    try:
        from gunicorn.http.body import Body, LengthReader
        from gunicorn.http.unreader import SocketUnreader
    except ImportError:  # gunicorn is not installed
        return None
    stream = request.META.get("wsgi.input")
    if not (
        isinstance(stream, Body)
        and isinstance(stream.reader, LengthReader)
        and isinstance(stream.reader.unreader, SocketUnreader)
        and stream.buf.tell() == 0  # nothing read ahead into gunicorn's body buffer
        and not getattr(request, "_read_started", False)
    ):
        return None
    return SocketBody(stream)


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

"""Parts read straight from gunicorn's socket (uploads.local.SocketBody): the bytes that land on
disk are the ones sent, gunicorn's read-ahead and the next request on the connection stay
intact, and a dropped client or a damaged part is refused as on the ordinary path.

Parts are written with direct I/O (O_DIRECT, past the page cache) where the file system has
it, in whole aligned chunks; unaligned starts and ends go through the page cache. The cases
below run on such a file system (pytest's tmp_path), and the last ones pin the alignment.

Requests go through gunicorn's own HTTP parser and WSGI environ over a socket pair, then
Django's WSGI handler, exactly as a gunicorn worker runs them."""

from __future__ import annotations

import base64
import errno
import fcntl
import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from gunicorn.config import Config
from gunicorn.http import wsgi as gunicorn_wsgi
from gunicorn.http.parser import RequestParser

from microcred.earning.models import Upload, UploadPart
from microcred.earning.uploads.backends import backend_for
from microcred.earning.uploads.errors import UploadError
from microcred.earning.uploads.local import DIRECT_ALIGN, SocketBody, _direct_writer, socket_body

from .uploading import VIDEO_POLICY, MiB, Protocol, padded_mp4, split

PART = 5 * MiB


@pytest.fixture
def api(make_user) -> Protocol:
    owner = make_user(email="sam@example.org")
    client = Client()
    client.force_login(owner)
    protocol = Protocol(client)
    protocol.token = VIDEO_POLICY.token(owner)  # type: ignore[attr-defined]
    return protocol


class Connection:
    """One client connection to a gunicorn-parsed server side, over a socket pair."""

    def __init__(self) -> None:
        self.client, self.server = socket.socketpair()
        self.parser = iter(RequestParser(Config(), self.server, ("127.0.0.1", 50000)))
        self.sender: threading.Thread | None = None

    def send(self, *pieces: bytes, close: bool = False) -> None:
        # A thread, since a part is larger than what a socket pair buffers.
        def run() -> None:
            for piece in pieces:
                self.client.sendall(piece)
            if close:
                self.client.shutdown(socket.SHUT_WR)

        self.sender = threading.Thread(target=run)
        self.sender.start()

    def next_environ(self) -> dict:
        request = next(self.parser)
        _, environ = gunicorn_wsgi.create(
            request, self.server, ("127.0.0.1", 50000), ("127.0.0.1", 8000), Config()
        )
        return environ

    def close(self) -> None:
        if self.sender is not None:
            self.sender.join(timeout=10)
        self.client.close()
        self.server.close()


@pytest.fixture
def connection() -> Iterator[Connection]:
    opened = Connection()
    yield opened
    opened.close()


def put_head(url: str, length: int, extra: str = "") -> bytes:
    return (
        f"PUT {url} HTTP/1.1\r\nHost: testserver\r\nContent-Length: {length}\r\n"
        f"Content-Type: application/octet-stream\r\n{extra}\r\n"
    ).encode()


def serve(environ: dict) -> tuple[str, bytes]:
    # As Django's test client does: the test's database connection (and its transaction) must
    # outlive the request, which would otherwise close it when it finishes.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        status: list[str] = []
        body = b"".join(WSGIHandler()(environ, lambda s, headers, exc=None: status.append(s)))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return status[0], body


def start(api: Protocol, data: bytes, part_size: int = PART) -> str:
    response = api.create(api.token, name="lesson.mp4", size=len(data), part_size=part_size)
    assert response.status_code == 201, response.json()
    return response.json()["uploadId"]


def partial(upload_id: str) -> Path:
    return Path(default_storage.path(f"incoming/{upload_id}.partial"))


def one_part(api: Protocol) -> tuple[bytes, str, str]:
    """A one-part upload: its bytes, its id and the signed URL of its part."""
    data = padded_mp4(PART)
    upload_id = start(api, data)
    return data, upload_id, api.sign(upload_id, 1).json()["url"]


def test_parts_read_from_gunicorns_socket_land_byte_for_byte_and_complete(api):
    data = padded_mp4(2 * PART + 12345)
    upload_id = start(api, data)
    etags = []
    for number, piece in enumerate(split(data, PART), start=1):
        url = api.sign(upload_id, number).json()["url"]
        pair = Connection()
        try:
            pair.send(put_head(url, len(piece)) + piece, close=True)
            environ = pair.next_environ()
            # gunicorn read the headers and, with them, the first bytes of the body.
            assert environ["wsgi.input"].reader.unreader.buf.tell() > 0
            probe = socket_body(WSGIRequest(dict(environ)))
            assert isinstance(probe, SocketBody)
            probe.close()  # hands the read-ahead back, untouched
            status, body = serve(environ)
        finally:
            pair.close()
        assert status.startswith("200"), body
        etags.append({"PartNumber": number, "ETag": UploadPart.objects.get(number=number).etag})
    assert partial(upload_id).read_bytes() == data
    assert api.complete(upload_id, etags).status_code == 200
    assert Upload.objects.get(pk=upload_id).status == Upload.Status.COMPLETE


def test_the_next_request_on_the_connection_is_left_to_gunicorn(api, connection):
    data, upload_id, url = one_part(api)
    following = b"GET /catalog/ HTTP/1.1\r\nHost: testserver\r\n\r\n"
    # Sent in one go, as a pipelining client would: gunicorn may hold the next request's
    # bytes behind the body's.
    connection.send(put_head(url, len(data)) + data + following)
    status, _ = serve(connection.next_environ())
    assert status.startswith("200"), status
    assert partial(upload_id).read_bytes() == data
    after = connection.next_environ()
    assert (after["REQUEST_METHOD"], after["PATH_INFO"]) == ("GET", "/catalog/")


def test_a_client_that_drops_mid_part_gets_a_refusal_and_no_part_is_recorded(api, connection):
    data, upload_id, url = one_part(api)
    connection.send(put_head(url, len(data)), data[: PART // 2], close=True)
    status, body = serve(connection.next_environ())
    assert status.startswith("400"), status
    assert b"connection dropped" in body
    assert not UploadPart.objects.filter(upload_id=upload_id).exists()


def test_a_damaged_part_is_refused_on_this_path_too(api, connection):
    data, upload_id, url = one_part(api)
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    connection.send(put_head(url, len(data), f"Content-MD5: {wrong}\r\n") + data)
    status, body = serve(connection.next_environ())
    assert status.startswith("400"), status
    assert b"damaged" in body
    assert not UploadPart.objects.filter(upload_id=upload_id).exists()


def test_unused_read_ahead_goes_back_to_gunicorn_when_a_part_is_refused(api, connection):
    data, _, url = one_part(api)
    url = url.replace("signature=", "signature=0")
    connection.send(put_head(url, len(data)) + data)
    environ = connection.next_environ()
    status, _ = serve(environ)
    assert status.startswith("403"), status
    # Nothing of the body was taken: gunicorn still reads all of it, from its first byte.
    assert environ["wsgi.input"].read(len(data)) == data


def test_parts_are_written_with_direct_io_where_the_file_system_has_it(tmp_path):
    target = tmp_path / "file.partial"
    target.write_bytes(b"")
    with target.open("r+b") as handle, _direct_writer(handle.fileno()) as direct:
        assert direct is not None, "tmp_path's file system has O_DIRECT (ext4, xfs, btrfs)"
        assert fcntl.fcntl(direct, fcntl.F_GETFL) & os.O_DIRECT
        # The very file the part writer holds (and has locked), not whatever its path names.
        assert os.fstat(direct).st_ino == os.fstat(handle.fileno()).st_ino


@pytest.mark.parametrize("with_md5", [False, True], ids=["no-md5", "content-md5"])
def test_parts_at_unaligned_offsets_land_byte_for_byte(api, with_md5):
    # A part size that is no multiple of the alignment: every part but the first starts
    # mid-block, and the file ends mid-block; each part still lands exactly.
    part_size = PART + 1000
    assert part_size % DIRECT_ALIGN
    data = padded_mp4(2 * part_size + 12345)
    upload_id = start(api, data, part_size)
    etags = []
    for number, piece in enumerate(split(data, part_size), start=1):
        url = api.sign(upload_id, number).json()["url"]
        md5 = base64.b64encode(hashlib.md5(piece).digest()).decode()
        pair = Connection()
        try:
            extra = f"Content-MD5: {md5}\r\n" if with_md5 else ""
            pair.send(put_head(url, len(piece), extra) + piece, close=True)
            status, body = serve(pair.next_environ())
        finally:
            pair.close()
        assert status.startswith("200"), body
        etag = UploadPart.objects.get(number=number).etag
        if with_md5:
            assert etag == hashlib.md5(piece).hexdigest()
        etags.append({"PartNumber": number, "ETag": etag})
    assert partial(upload_id).read_bytes() == data
    assert api.complete(upload_id, etags).status_code == 200


class Trickle:
    """A request body that hands over at most `step` bytes per read, as a slow network does."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.at = data, step, 0

    def readinto(self, buffer: memoryview) -> int:
        n = min(len(buffer), self.step, len(self.data) - self.at)
        buffer[:n] = self.data[self.at : self.at + n]
        self.at += n
        return n


def test_chunks_are_filled_whole_from_short_reads(api):
    # Short reads (1000 bytes, no divisor of the alignment) are gathered into whole chunks
    # before writing: each lands at its place, none is written twice or skipped.
    data = padded_mp4(PART + 777)
    upload_id = start(api, data)
    upload = Upload.objects.get(pk=upload_id)
    backend = backend_for(upload)
    for number, piece in enumerate(split(data, PART), start=1):
        part = backend.write_part(upload, number, Trickle(piece, 1000), len(piece))
        assert part.size == len(piece)
    assert partial(upload_id).read_bytes() == data


def test_a_short_body_on_the_direct_path_is_refused_and_not_recorded(api):
    data = padded_mp4(PART)
    upload_id = start(api, data)
    upload = Upload.objects.get(pk=upload_id)
    # Ends mid-chunk and mid-block: the bytes that came are not taken for a part.
    short = Trickle(data[: 3 * DIRECT_ALIGN + 5], 4096)
    with pytest.raises(UploadError, match="connection dropped") as refused:
        backend_for(upload).write_part(upload, 1, short, len(data))
    assert refused.value.code == "incomplete_part"
    assert not UploadPart.objects.filter(upload_id=upload_id).exists()


def test_a_file_system_refusing_the_alignment_gets_the_part_through_the_page_cache(
    api, monkeypatch
):
    # Some file systems open with O_DIRECT and then refuse its writes (EINVAL): the part still
    # lands, written the ordinary way.
    data = padded_mp4(PART)
    upload_id = start(api, data)
    upload = Upload.objects.get(pk=upload_id)
    pwrite = os.pwrite
    refused: list[int] = []

    def picky(fd: int, data: bytes, offset: int) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            refused.append(fd)
            raise OSError(errno.EINVAL, "Invalid argument")
        return pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", picky)
    part = backend_for(upload).write_part(upload, 1, Trickle(data, 1 << 20), len(data))
    assert part.size == len(data)
    assert len(refused) == 1, "direct I/O is given up after the first refusal"
    assert partial(upload_id).read_bytes() == data

"""Streaming a stored file to the browser, with byte ranges so video players can seek."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from django.core.files.storage import Storage
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse

CHUNK_SIZE = 1024 * 1024
_TEXT = "text/plain; charset=utf-8"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _byte_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """(first, last) for a single satisfiable range, None without a usable Range header,
    False for a range outside the file."""
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the final N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start > end or start >= size:
        return False
    return start, end


def _read(handle: BinaryIO, length: int) -> Iterator[bytes]:
    with handle:
        while length > 0 and (chunk := handle.read(min(CHUNK_SIZE, length))):
            length -= len(chunk)
            yield chunk


def ranged_file_response(
    request: HttpRequest, storage: Storage, key: str, content_type: str, download_name: str
) -> HttpResponse:
    try:
        size = storage.size(key)
        handle = storage.open(key, "rb")
    except (FileNotFoundError, OSError):
        return HttpResponse("This file is no longer available.", status=404, content_type=_TEXT)
    wanted = _byte_range(request.headers.get("Range", ""), size)
    if wanted is False:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    elif wanted is None:
        response = FileResponse(
            handle,
            content_type=content_type,
            as_attachment=bool(download_name),
            filename=download_name or None,
        )
    else:
        start, end = wanted
        handle.seek(start)
        response = StreamingHttpResponse(
            _read(handle, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response

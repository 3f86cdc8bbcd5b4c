"""Helpers for the upload tests: real media (microcred.earning.sample_media), and the JSON
protocol as Uppy speaks it, over Django's test client."""

from __future__ import annotations

import io
import os
import struct
from functools import cache
from typing import Any

from microcred.earning.sample_media import write_video
from microcred.earning.uploads.policy import UploadPolicy

__all__ = ["write_video"]  # re-exported for the tests that make media

MiB = 1024 * 1024
VIDEO_POLICY = UploadPolicy(allowed_types=("video/*",), max_bytes=64 * MiB, purpose="test")


@cache
def small_mp4() -> bytes:
    buffer = io.BytesIO()
    write_video(buffer)
    return buffer.getvalue()


def padded_mp4(size: int) -> bytes:
    """A valid MP4 of exactly `size` bytes: a real video, then a 'free' box of random bytes
    (players skip it), so large multipart uploads still hold real media."""
    head = small_mp4()
    filler = size - len(head) - 8
    return head + struct.pack(">I", filler + 8) + b"free" + os.urandom(filler)


def split(data: bytes, part_size: int) -> list[bytes]:
    return [data[i : i + part_size] for i in range(0, len(data), part_size)]


class Protocol:
    """The JSON endpoints, called the way static/earning/uploader.js calls them."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def create(self, token: str, *, name: str, size: int, part_size: int, type: str = "video/mp4"):
        body = {"filename": name, "type": type, "size": size, "partSize": part_size}
        return self.client.post(
            "/uploads/api/", {**body, "policy": token}, content_type="application/json"
        )

    def sign(self, upload_id: str, number: int):
        return self.client.get(f"/uploads/api/{upload_id}/parts/{number}/sign/")

    def parts(self, upload_id: str):
        return self.client.get(f"/uploads/api/{upload_id}/parts/")

    def complete(self, upload_id: str, parts: list[dict[str, Any]]):
        return self.client.post(
            f"/uploads/api/{upload_id}/complete/", {"parts": parts}, content_type="application/json"
        )

    def abort(self, upload_id: str):
        return self.client.delete(f"/uploads/api/{upload_id}/")

    def detail(self, upload_id: str):
        return self.client.get(f"/uploads/api/{upload_id}/")

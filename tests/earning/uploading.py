"""Helpers for the upload tests: real media made with PyAV, and the JSON protocol as Uppy
speaks it, over Django's test client."""

from __future__ import annotations

import io
import os
import struct
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import av

from microcred.earning.uploads.policy import UploadPolicy

MiB = 1024 * 1024
VIDEO_POLICY = UploadPolicy(allowed_types=("video/*",), max_bytes=64 * MiB, purpose="test")


def write_video(
    target: Path | io.BytesIO,
    *,
    container: str = "mp4",
    codec: str = "libx264",
    audio: str | None = "aac",
    seconds: float = 1,
    size: tuple[int, int] = (160, 120),
) -> None:
    """A short real video: moving grey levels and, optionally, a 440 Hz tone."""
    out = av.open(target, "w", format=container)
    video = out.add_stream(codec, rate=25)
    video.width, video.height = size
    video.pix_fmt = "yuv420p"
    if codec == "libx265":
        video.options = {"x265-params": "log-level=none"}
    tone = out.add_stream(audio, rate=44100) if audio else None
    for i in range(int(25 * seconds)):
        frame = av.VideoFrame(size[0], size[1], "yuv420p")
        for n, plane in enumerate(frame.planes):
            plane.update(bytes([(i * 7 + n * 50) % 256]) * plane.buffer_size)
        frame.pts, frame.time_base = i, Fraction(1, 25)
        out.mux(video.encode(frame))
    out.mux(video.encode(None))
    if tone is not None:
        samples = 1024
        for k in range(int(44100 * seconds / samples)):
            frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
            wave = (int(8000 * ((k * samples + t) % 100 < 50)) for t in range(samples))
            frame.planes[0].update(b"".join(struct.pack("<h", v) for v in wave))
            frame.sample_rate, frame.pts = 44100, k * samples
            frame.time_base = Fraction(1, 44100)
            out.mux(tone.encode(frame))
        out.mux(tone.encode(None))
    out.close()


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

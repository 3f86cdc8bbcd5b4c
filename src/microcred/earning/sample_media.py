"""Real sample media made with PyAV: the demo's classroom videos and the tests' clips.

The frames are plain moving grey levels (no people, nothing to keep private), encoded as a
phone or a camera would, so every check that real evidence gets (content sniffing, probing,
posters, playable copies) runs on them too.
"""

from __future__ import annotations

import io
import struct
from fractions import Fraction
from pathlib import Path

import av


def write_video(
    target: Path | io.BytesIO,
    *,
    container: str = "mp4",
    codec: str = "libx264",
    audio: str | None = "aac",
    seconds: float = 1,
    size: tuple[int, int] = (160, 120),
    fps: int = 25,
    tags: dict[str, str] | None = None,
    stream_tags: dict[str, str] | None = None,
    chapter: str = "",
) -> None:
    """A real video: moving grey levels and, optionally, a 440 Hz tone. `tags` (container),
    `stream_tags` (every stream) and a `chapter` title are written as a phone or an editing
    app writes them, for the tests that check assessors' copies lose them."""
    out = av.open(target, "w", format=container)
    out.metadata.update(tags or {})
    video = out.add_stream(codec, rate=fps)
    video.width, video.height = size
    video.pix_fmt = "yuv420p"
    if codec == "libx265":
        video.options = {"x265-params": "log-level=none"}
    tone = out.add_stream(audio, rate=44100) if audio else None
    for stream in out.streams:
        stream.metadata.update(stream_tags or {})
    if chapter:
        whole = {"id": 1, "start": 0, "end": int(seconds * 1000), "time_base": Fraction(1, 1000)}
        out.set_chapters([{**whole, "metadata": {"title": chapter}}])
    for i in range(int(fps * seconds)):
        frame = av.VideoFrame(size[0], size[1], "yuv420p")
        for n, plane in enumerate(frame.planes):
            plane.update(bytes([(i * 7 + n * 50) % 256]) * plane.buffer_size)
        frame.pts, frame.time_base = i, Fraction(1, fps)
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

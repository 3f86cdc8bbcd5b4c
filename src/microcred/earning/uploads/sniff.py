"""What a file is, from its first bytes: its name and the browser's claim are never trusted."""

from __future__ import annotations

from dataclasses import dataclass

import puremagic

HEAD_BYTES = 64 * 1024

# puremagic knows several names for some types; evidence rules use one.
_CANONICAL = {
    "video/avi": "video/x-msvideo",
    "video/msvideo": "video/x-msvideo",
    "application/x-matroska": "video/x-matroska",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/x-m4a": "audio/mp4",
    "audio/mp3": "audio/mpeg",
    "audio/x-mpeg": "audio/mpeg",
    "image/jpg": "image/jpeg",
}


@dataclass(frozen=True)
class Detected:
    mime: str
    label: str  # how to name it to a person: "plain text", "a PDF document", ...


def detect(head: bytes) -> Detected | None:
    """The best guess from magic numbers, or "plain text" for readable text; None when the
    content matches nothing we know."""
    if not head:
        return None
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        matches = []
    for match in matches:  # best confidence first
        if match.mime_type:
            mime = _CANONICAL.get(match.mime_type, match.mime_type)
            return Detected(mime=mime, label=match.name or mime)
    if _looks_like_text(head):
        return Detected(mime="text/plain", label="plain text")
    return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        # The sample may end inside a multi-byte character.
        head[:-4].decode("utf-8") if len(head) > 4 else head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True

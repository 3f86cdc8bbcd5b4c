"""What a page lets people upload, and the S3 rules every multipart upload follows.

A page that offers an upload builds an `UploadPolicy` on the server (allowed types, largest
size, what the file is for) and hands the browser a signed token of it. The create endpoint
accepts nothing else, so limits come from the caller, never from the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing

from .errors import UploadError

MiB = 1024 * 1024
GiB = 1024 * MiB
# S3's multipart rules, enforced on local disk too so both storages behave the same.
MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5 * GiB
MAX_PARTS = 10_000

# The part sizes static/earning/uploader.js sends (partSizeFor there): a sixteenth of the
# file, from 16 MiB up to 64 MiB, larger only where a file needs more than MAX_PARTS parts.
BROWSER_PART_SIZE = 16 * MiB
BROWSER_LARGE_PART_SIZE = 64 * MiB
BROWSER_PARTS_PER_FILE = 16

DEFAULT_MAX_BYTES = 8 * GiB
POLICY_MAX_AGE_SECONDS = 12 * 60 * 60
_SALT = "microcred.earning.uploads.policy"

# Plain-language names for the types a policy may list, for messages and hints.
TYPE_LABELS = {
    "video/*": "videos",
    "audio/*": "audio recordings",
    "image/*": "images",
    "image/jpeg": "JPEG images",
    "image/png": "PNG images",
    "application/pdf": "PDF documents",
    "video/mp4": "MP4 videos",
    "video/quicktime": "MOV videos",
    "video/webm": "WebM videos",
    "audio/mpeg": "MP3 recordings",
    "audio/mp4": "M4A recordings",
    "audio/wav": "WAV recordings",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word documents",
}


@dataclass(frozen=True)
class UploadPolicy:
    allowed_types: tuple[str, ...]
    max_bytes: int = DEFAULT_MAX_BYTES
    purpose: str = ""

    def allows(self, mime: str) -> bool:
        family = mime.split("/", 1)[0]
        return any(t == mime or t == f"{family}/*" for t in self.allowed_types)

    def describe(self) -> str:
        labels = [TYPE_LABELS.get(t, t) for t in self.allowed_types]
        if len(labels) <= 1:
            return "".join(labels)
        return ", ".join(labels[:-1]) + " or " + labels[-1]

    @property
    def accept(self) -> str:
        """The value for `<input type=file accept=...>`: a hint to the file picker only."""
        return ",".join(self.allowed_types)

    def token(self, user: Any) -> str:
        payload = {"t": list(self.allowed_types), "m": self.max_bytes, "p": self.purpose}
        return signing.dumps({**payload, "u": user.pk}, salt=_SALT, compress=True)

    @classmethod
    def from_token(cls, token: str, user: Any) -> UploadPolicy:
        try:
            data = signing.loads(token, salt=_SALT, max_age=POLICY_MAX_AGE_SECONDS)
        except signing.SignatureExpired as exc:
            raise UploadError(
                "This page has been open too long. Reload it and choose the file again.",
                status=403,
                code="policy_expired",
            ) from exc
        except signing.BadSignature as exc:
            raise UploadError(
                "This upload form is not valid. Reload the page and try again.",
                status=403,
                code="policy_invalid",
            ) from exc
        if data.get("u") != user.pk:
            raise UploadError(
                "This upload form belongs to another account. Reload the page.",
                status=403,
                code="policy_invalid",
            )
        return cls(allowed_types=tuple(data["t"]), max_bytes=int(data["m"]), purpose=data["p"])


def check_part_plan(size: int, part_size: int) -> None:
    """Refuse a file/part-size combination S3 would refuse, before anything is stored."""
    if part_size >= size:
        return  # a single part may be any size up to the file's
    if part_size < MIN_PART_SIZE:
        raise UploadError(f"Parts must be at least {MIN_PART_SIZE // MiB} MiB, except the last.")
    if part_size > MAX_PART_SIZE:
        raise UploadError(f"Parts may be at most {MAX_PART_SIZE // GiB} GiB.")
    if -(-size // part_size) > MAX_PARTS:
        raise UploadError(f"A file may be sent in at most {MAX_PARTS:,} parts; use larger parts.")


def browser_part_size(size: int) -> int:
    """The part size (whole MiB) a browser picks for a file of `size` bytes."""
    share = -(-size // BROWSER_PARTS_PER_FILE // MiB) * MiB
    needed = -(-size // MAX_PARTS // MiB) * MiB
    return max(needed, min(BROWSER_LARGE_PART_SIZE, max(BROWSER_PART_SIZE, share)))

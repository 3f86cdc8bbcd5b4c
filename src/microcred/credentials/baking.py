"""Open Badges 3.0 baking: the signed credential carried inside its badge image.

PNG: an uncompressed iTXt chunk with the keyword "openbadgecredential" whose text is the
credential's JSON, before IEND. SVG: an <openbadges:credential> element (namespace
https://purl.imsglobal.org/ob/v3p0) holding the JSON in CDATA, first inside the root.

Un-baking reads files from strangers (the verifier's upload box), so it parses by hand and
refuses what is too large: PNG chunks are walked without decoding any pixels, and SVG is never
given to an XML parser (no entities, no external references): the one element we look for is
found by a strict pattern.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from typing import Any

from .badge import badge_png, badge_svg

KEYWORD = "openbadgecredential"
MAX_BAKED_BYTES = 5 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SVG_CREDENTIAL = re.compile(
    rb"<openbadges:credential(?:\s[^>]*)?>\s*<!\[CDATA\[(.*?)\]\]>\s*</openbadges:credential>",
    re.DOTALL,
)


class BakingError(ValueError):
    """The file holds no credential we can read; the message says why, for a person."""


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def bake_png(document: dict[str, Any]) -> bytes:
    # Pillow only when a PNG is baked: un-baking walks chunks by hand, and the forms that import
    # this module load with every page (issue 8: a lighter web process).
    from PIL.PngImagePlugin import PngInfo

    title = str(document.get("name") or "Micro-credential")
    info = PngInfo()
    info.add_itxt(KEYWORD, _json(document), zip=False)
    out = io.BytesIO()
    badge_png(title).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def bake_svg(document: dict[str, Any]) -> str:
    title = str(document.get("name") or "Micro-credential")
    # "]]>" cannot occur inside CDATA; JSON may escape it as "]]\u003e" and mean the same.
    text = _json(document).replace("]]>", "]]\\u003e")
    return badge_svg(title, f"<openbadges:credential><![CDATA[{text}]]></openbadges:credential>")


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Every chunk up to IEND, each checked against its CRC."""
    chunks, offset = [], len(PNG_SIGNATURE)
    while offset + 12 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        crc = data[offset + 8 + length : offset + 12 + length]
        if len(body) != length or len(crc) != 4:
            raise BakingError("This PNG file is cut short: download the badge image again.")
        if struct.unpack(">I", crc)[0] != zlib.crc32(kind + body):
            raise BakingError("This PNG file is damaged (a checksum does not match).")
        chunks.append((kind, body))
        if kind == b"IEND":
            return chunks
        offset += 12 + length
    raise BakingError("This PNG file is cut short: download the badge image again.")


def _itxt_text(body: bytes) -> str | None:
    """The text of an iTXt chunk when its keyword is ours (None for any other keyword)."""
    keyword, _, rest = body.partition(b"\0")
    if keyword != KEYWORD.encode("latin-1") or len(rest) < 2:
        return None
    compressed, rest = rest[0], rest[2:]
    _language, _, rest = rest.partition(b"\0")
    _translated, _, text = rest.partition(b"\0")
    if compressed:
        decompressor = zlib.decompressobj()
        text = decompressor.decompress(text, MAX_BAKED_BYTES)
        if decompressor.unconsumed_tail:
            raise BakingError("The credential in this image is too large to read.")
    return text.decode("utf-8", errors="strict")


def _from_png(data: bytes) -> str:
    for kind, body in _png_chunks(data):
        if kind == b"iTXt":
            text = _itxt_text(body)
            if text is not None:
                return text
    raise BakingError(
        "This PNG image holds no Open Badges credential (no “openbadgecredential” data)."
    )


def _from_svg(data: bytes) -> str:
    match = _SVG_CREDENTIAL.search(data)
    if match is None:
        raise BakingError(
            "This SVG image holds no Open Badges credential (no <openbadges:credential>)."
        )
    return match.group(1).decode("utf-8")


def _is_svg(data: bytes) -> bool:
    head = data[:4096].lstrip().lower()
    return head.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in head


def is_badge_image(data: bytes) -> bool:
    """Whether the bytes are a PNG or an SVG (baked or not), as opposed to a JSON file."""
    return data.startswith(PNG_SIGNATURE) or _is_svg(data)


def unbake(data: bytes) -> str:
    """The credential text baked into a PNG or SVG badge image; BakingError otherwise."""
    if len(data) > MAX_BAKED_BYTES:
        raise BakingError(
            f"The file is larger than {MAX_BAKED_BYTES // (1024 * 1024)} MB: a badge image is "
            "much smaller. Choose the badge image or the credential's .json file."
        )
    try:
        if data.startswith(PNG_SIGNATURE):
            return _from_png(data)
        if _is_svg(data):
            return _from_svg(data)
    except UnicodeDecodeError as error:
        raise BakingError("The credential in this image is not valid UTF-8 text.") from error
    raise BakingError(
        "This file is not a PNG or SVG badge image. Choose a baked badge image, or the "
        "credential's .json file."
    )

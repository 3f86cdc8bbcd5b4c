"""Assessors' copies of pictures, without what a camera or an editor wrote into them.

A phone photo carries EXIF (GPS position, device make and model, owner and artist names, a
description), XMP and IPTC packets, comments, and an ICC profile whose text fields an editor
may fill in. Any of them can name the teacher or the school, and scoring is blind (DESIGN.md
invariant 2), so assessors get a copy re-encoded from the pixels alone. Recordings are
handled by `media.strip_metadata` (PyAV). Runs in the task worker, like `media`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image, ImageCms, ImageOps, JpegImagePlugin, UnidentifiedImageError

# What the copy is written as: JPEG stays JPEG (keeping the original's quantization tables,
# so quality is as before), everything else becomes a lossless PNG.
JPEG = (".jpg", "image/jpeg")
PNG = (".png", "image/png")
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class MetadataError(Exception):
    """The picture cannot be read, so no clean copy can be made."""


def strip_image(path: Path, out_path: Path) -> tuple[str, str]:
    """Write a copy of the picture at `path` made from its pixels only, turned upright as its
    EXIF orientation says (the copy has no EXIF left to say it), with colours converted to
    sRGB where it had its own colour profile. Returns the (suffix, MIME type) it was written
    as; `out_path`'s own suffix is replaced by it. Animated pictures keep their first frame.
    Raises MetadataError if Pillow cannot read the picture."""
    try:
        with Image.open(path) as source:
            source.seek(0)
            # Phones' "MPO" photos (a JPEG with a second picture, such as a depth map, after
            # it) are JPEGs too: their first picture stays a JPEG, not a PNG many times larger.
            is_jpeg = isinstance(source, JpegImagePlugin.JpegImageFile)
            tables = _jpeg_tables(source) if is_jpeg else {}
            picture = _clean_pixels(source)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise MetadataError(f"Pillow could not read the picture: {exc}") from exc
    suffix, mime = JPEG if is_jpeg and picture.mode in ("RGB", "L", "CMYK") else PNG
    target = out_path.with_suffix(suffix)
    if suffix == JPEG[0]:
        picture.save(target, "JPEG", optimize=True, **tables)
    else:
        picture.save(target, "PNG", optimize=True)
    return suffix, mime


def _jpeg_tables(source: Any) -> dict[str, Any]:
    """Re-encode with the original's own quantization tables and chroma subsampling, so the
    copy looks as the original does and is about as large."""
    subsampling = JpegImagePlugin.get_sampling(source)
    tables: dict[str, Any] = {"qtables": source.quantization}
    if subsampling != -1:
        tables["subsampling"] = subsampling
    return tables


def _clean_pixels(source: Image.Image) -> Image.Image:
    """A new image holding only the pixels: upright, in sRGB, with an empty `info`, so no
    writer finds anything to copy (Pillow's PNG writer, for one, re-writes `info`'s ICC
    profile unless told otherwise)."""
    upright = ImageOps.exif_transpose(source) or source
    icc = source.info.get("icc_profile")
    if icc and upright.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            own = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            mode = "RGBA" if upright.mode == "RGBA" else "RGB"
            upright = ImageCms.profileToProfile(upright, own, _SRGB, outputMode=mode)
        except (ImageCms.PyCMSError, OSError):
            pass  # an unreadable profile: keep the pixels as they are, drop the profile
    if upright.mode == "P" and "transparency" in upright.info:
        upright = upright.convert("RGBA")  # keep see-through parts without the palette's info
    elif upright.mode not in ("RGB", "RGBA", "L", "LA", "CMYK", "I;16", "I", "1", "P"):
        upright = upright.convert("RGB")
    clean = Image.new(upright.mode, upright.size)
    clean.paste(upright)
    if upright.mode == "P":
        palette = upright.getpalette()
        if palette:
            clean.putpalette(palette)
    clean.info = {}
    return clean

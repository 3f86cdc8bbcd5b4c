"""Baked badge images: the signed credential travels inside its PNG or SVG badge, comes out
exactly as it went in, and the verifier reads it from an uploaded image; hostile or broken
images get a plain answer."""

from __future__ import annotations

import copy
import io
import json
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from microcred.credentials import baking
from tests.credentials.awards import *  # noqa: F403

pytestmark = pytest.mark.django_db
VERIFY = reverse("credentials:verify")


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    out, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        out.append((png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return out


def _upload(name: str, data: bytes | str, content_type: str) -> SimpleUploadedFile:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return SimpleUploadedFile(name, raw, content_type)


def test_a_baked_png_is_a_real_png_that_gives_back_the_credential(credential):
    png = baking.bake_png(credential.document)
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG" and picture.size == (256, 256)
    kinds = [kind for kind, _ in _chunks(png)]
    assert kinds[-1] == b"IEND" and b"iTXt" in kinds
    (itxt,) = [body for kind, body in _chunks(png) if kind == b"iTXt"]
    assert itxt.startswith(b"openbadgecredential\0\0\0")  # keyword, uncompressed
    assert json.loads(baking.unbake(png)) == credential.document


def test_a_baked_svg_parses_and_gives_back_the_credential(credential):
    svg = baking.bake_svg(credential.document)
    from xml.dom import minidom

    root = minidom.parseString(svg).documentElement
    assert root.getAttribute("xmlns:openbadges") == "https://purl.imsglobal.org/ob/v3p0"
    assert root.firstChild.tagName == "openbadges:credential"
    assert json.loads(baking.unbake(svg.encode("utf-8"))) == credential.document


def test_cdata_cannot_be_closed_early_by_the_credential(credential):
    document = copy.deepcopy(credential.document)
    document["name"] = "Tricky ]]> name"
    svg = baking.bake_svg(document)
    assert svg.count("]]>") == 1
    assert json.loads(baking.unbake(svg.encode("utf-8")))["name"] == "Tricky ]]> name"


def test_the_badge_downloads_follow_the_credential_page_visibility(client, credential):
    png = client.get(reverse("credentials:credential_png", args=[credential.uuid]))
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert f"{credential.uuid}.png" in png["Content-Disposition"]
    svg = client.get(reverse("credentials:credential_svg", args=[credential.uuid]))
    assert svg["Content-Type"] == "image/svg+xml"
    credential.public = False
    credential.save()
    assert (
        client.get(reverse("credentials:credential_png", args=[credential.uuid])).status_code == 404
    )
    client.force_login(credential.earner)
    assert (
        client.get(reverse("credentials:credential_png", args=[credential.uuid])).status_code == 200
    )


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_the_verifier_reads_an_uploaded_badge_image(client, credential, kind):
    image = (
        baking.bake_png(credential.document)
        if kind == "png"
        else baking.bake_svg(credential.document)
    )
    response = client.post(VERIFY, {"file": _upload(f"badge.{kind}", image, f"image/{kind}")})
    text = response.content.decode()
    assert response.status_code == 200
    assert "Verified" in text and "Not verified" not in text


def test_a_tampered_baked_credential_fails_verification(client, credential):
    tampered = copy.deepcopy(credential.document)
    tampered["credentialSubject"]["result"][0]["value"] = "20"
    image = baking.bake_png(tampered)
    response = client.post(VERIFY, {"file": _upload("badge.png", image, "image/png")})
    assert "Not verified" in response.content.decode()


def _png_without_credential() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_png_without_credential(), "holds no Open Badges credential"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "holds no Open Badges credential"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0", "cut short"),
    ],
)
def test_images_without_a_readable_credential_get_a_plain_message(client, db, data, message):
    response = client.post(VERIFY, {"file": _upload("badge.png", data, "image/png")})
    assert response.status_code == 200
    assert message in response.content.decode()


def test_a_damaged_chunk_is_named(credential):
    png = bytearray(baking.bake_png(credential.document))
    png[40] ^= 0xFF  # inside the IHDR chunk: its checksum no longer matches
    with pytest.raises(baking.BakingError, match="damaged"):
        baking.unbake(bytes(png))


def test_entities_in_an_svg_are_never_expanded(db):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
        b"<openbadges:credential>&b;</openbadges:credential></svg>"
    )
    with pytest.raises(baking.BakingError, match="holds no Open Badges credential"):
        baking.unbake(bomb)


def test_a_compressed_chunk_too_large_when_inflated_is_refused():
    text = zlib.compress(b"{" + b" " * (baking.MAX_BAKED_BYTES + 10) + b"}")
    body = b"openbadgecredential\0\x01\x00\0\0" + text
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + body))
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    png = baking.PNG_SIGNATURE + chunk + end
    with pytest.raises(baking.BakingError, match="too large"):
        baking.unbake(png)


def test_a_file_that_is_not_an_image_or_json_is_named(db):
    with pytest.raises(baking.BakingError, match="not a PNG or SVG"):
        baking.unbake(b"GIF89a....")

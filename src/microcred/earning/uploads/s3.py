"""The multipart protocol on S3-compatible storage: our endpoints call S3 with boto3, and the
browser PUTs each part straight to the bucket through a presigned URL.

The bucket needs a CORS rule allowing PUT from the site's origin and exposing the `ETag`
header, or browsers cannot read the part's ETag.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage

from .. import user_files
from ..models import Upload
from .backends import SIGNED_URL_SECONDS, SignedRequest, StoredPart
from .errors import UploadError

# S3's error codes for a bad completion, in words a person can act on.
_COMPLETE_ERRORS = {
    "EntityTooSmall": "A part other than the last is smaller than 5 MiB.",
    "InvalidPart": "A part does not match what was stored; it will be uploaded again.",
    "InvalidPartOrder": "The parts were not listed in order.",
    "NoSuchUpload": "This upload is no longer open (it was completed or discarded).",
}


def _etag(value: str) -> str:
    return value.strip('"')


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Backend:
    name = Upload.Backend.S3

    def __init__(self, storage: S3Storage) -> None:
        self.storage = storage
        self.client: Any = storage.connection.meta.client
        self.bucket: str = storage.bucket_name

    def _object_key(self, key: str) -> str:
        return posixpath.join(self.storage.location, key) if self.storage.location else key

    def _ids(self, upload: Upload) -> dict[str, str]:
        return {
            "Bucket": self.bucket,
            "Key": self._object_key(upload.key),
            "UploadId": upload.backend_upload_id,
        }

    def start(self, upload: Upload) -> str:
        # The browser's claimed type is not trusted; the served type comes from sniffing.
        response = self.client.create_multipart_upload(
            Bucket=self.bucket,
            Key=self._object_key(upload.key),
            ContentType="application/octet-stream",
        )
        return response["UploadId"]

    def sign_parts(self, upload: Upload, numbers: Sequence[int]) -> list[SignedRequest]:
        # Presigning is local computation (no request to the bucket), one URL per part.
        ids = self._ids(upload)
        return [
            SignedRequest(
                url=self.client.generate_presigned_url(
                    "upload_part",
                    Params={**ids, "PartNumber": number},
                    ExpiresIn=SIGNED_URL_SECONDS,
                    HttpMethod="PUT",
                )
            )
            for number in numbers
        ]

    def write_part(self, upload: Upload, number: int, body: BinaryIO, length: int) -> StoredPart:
        """A part sent from this server (the demo's evidence), streamed from `body`."""
        try:
            response = self.client.upload_part(
                **self._ids(upload), PartNumber=number, Body=body, ContentLength=length
            )
        except ClientError as exc:
            raise self._error(exc) from exc
        return StoredPart(number=number, size=length, etag=_etag(response["ETag"]))

    def list_parts(self, upload: Upload) -> list[StoredPart]:
        parts: list[StoredPart] = []
        marker = 0
        while True:
            try:
                page = self.client.list_parts(**self._ids(upload), PartNumberMarker=marker)
            except ClientError as exc:
                raise self._error(exc) from exc
            parts += [
                StoredPart(number=p["PartNumber"], size=p["Size"], etag=_etag(p["ETag"]))
                for p in page.get("Parts", [])
            ]
            if not page.get("IsTruncated"):
                return parts
            marker = page["NextPartNumberMarker"]

    def assemble(self, upload: Upload, parts: list[StoredPart]) -> None:
        try:
            self.client.complete_multipart_upload(
                **self._ids(upload),
                MultipartUpload={
                    "Parts": [{"PartNumber": p.number, "ETag": f'"{p.etag}"'} for p in parts]
                },
            )
        except ClientError as exc:
            raise self._error(exc) from exc

    def abort(self, upload: Upload) -> None:
        if not upload.backend_upload_id:
            return
        try:
            self.client.abort_multipart_upload(**self._ids(upload))
        except ClientError as exc:
            if _code(exc) != "NoSuchUpload":
                raise

    def read_head(self, key: str, size: int) -> bytes:
        response = self.client.get_object(
            Bucket=self.bucket, Key=self._object_key(key), Range=f"bytes=0-{size - 1}"
        )
        return response["Body"].read()

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        # boto3 downloads in ranged chunks to disk; S3Storage.open() would buffer in memory.
        with tempfile.NamedTemporaryFile(suffix=Path(key).suffix) as handle:
            self.client.download_fileobj(self.bucket, self._object_key(key), handle)
            handle.flush()
            yield Path(handle.name)

    def file_url(self, key: str, *, content_type: str, download_name: str = "") -> str:
        # Presented as files from local disk are (earning.user_files): an SVG or HTML file
        # downloads, even from the bucket's origin.
        params = user_files.presigned_parameters(
            content_type, download_name or posixpath.basename(key), download=bool(download_name)
        )
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._object_key(key), **params},
            ExpiresIn=SIGNED_URL_SECONDS,
        )

    def delete(self, key: str) -> None:
        self.storage.delete(key)

    def _error(self, exc: ClientError) -> UploadError:
        code = _code(exc)
        message = _COMPLETE_ERRORS.get(code, f"The storage service refused the request ({code}).")
        return UploadError(message, status=409 if code == "NoSuchUpload" else 400, code=code)

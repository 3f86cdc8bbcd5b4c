"""The one error type the upload protocol raises: a message a person can act on, and the HTTP
status the JSON endpoints answer with."""

from __future__ import annotations


class UploadError(Exception):
    def __init__(self, message: str, *, status: int = 400, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class UploadRejected(UploadError):
    """The finished file failed a content check; it has been deleted and the upload failed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=422, code="rejected")

"""How any file a person uploaded is served (DESIGN.md invariant 9).

Everything a user uploaded reaches a browser through `serve` (local disk) or with
`presigned_parameters` (S3), so one decision covers the evidence links of `evidence_access`
and the uploader's own links of `uploads`:

- only media and raster pictures open in the browser; everything else, above all HTML, SVG,
  XML and script, downloads as an attachment;
- every response carries `Content-Security-Policy: default-src 'none'; sandbox`, so even a
  file a browser did render runs no script, in an opaque origin that reads no cookie;
- `X-Content-Type-Options: nosniff`, so the declared type is the one the browser uses;
- with `MICROCRED_USER_CONTENT_ORIGIN` set, file links are built on that separate origin and
  a request for one on the app's origin is sent there.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import storages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header

from .uploads.serving import ranged_file_response

# `sandbox` without tokens forbids scripts, forms, plugins and same-origin access at once.
# Media players and <img> of our pages are unaffected: this policy governs the file's own
# document, not the page that embeds it.
FILE_CSP = "default-src 'none'; sandbox"
# Links are short-lived and personal: never kept by a shared cache or the browser's.
FILE_CACHE = "private, no-store"
_TEXT = "text/plain; charset=utf-8"

# Pictures a browser only ever decodes as pixels. SVG is not here: it is a document that can
# carry script. Nor is PDF: viewers run its scripts, and Chromium's viewer does not load under
# a sandbox policy at all, so a PDF downloads and opens in the person's own reader.
_INLINE_IMAGES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp"}
)
_INLINE_PREFIXES = ("video/", "audio/")


def opens_inline(content_type: str) -> bool:
    """Whether a file of this type may open in the browser rather than download."""
    base = content_type.split(";", 1)[0].strip().lower()
    return base.startswith(_INLINE_PREFIXES) or base in _INLINE_IMAGES


def disposition(content_type: str, filename: str, *, download: bool = False) -> str:
    """The Content-Disposition for a user's file of this type; `download` asks for an
    attachment even where the browser could show it."""
    attach = download or not opens_inline(content_type)
    return content_disposition_header(attach, filename) or ("attachment" if attach else "inline")


def presigned_parameters(
    content_type: str, filename: str, *, download: bool = False
) -> dict[str, str]:
    """Response overrides for an S3 presigned GET. S3 cannot add a CSP header, but its files
    come from the bucket's origin, never ours, and still download unless safe inline."""
    return {
        "ResponseContentType": content_type,
        "ResponseContentDisposition": disposition(content_type, filename, download=download),
        "ResponseCacheControl": FILE_CACHE,
    }


def _protect(response: HttpResponse) -> HttpResponse:
    # Set on the response itself: Django's CSP middleware leaves a header a view already set,
    # so the site-wide page policy never replaces this stricter one.
    response["Content-Security-Policy"] = FILE_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = FILE_CACHE
    # The link is a capability: it must not travel on in a Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response


def serve(
    request: HttpRequest, *, key: str, content_type: str, filename: str, download: bool = False
) -> HttpResponse:
    """Stream a stored user file (byte ranges included) the one way user files are served."""
    response = ranged_file_response(request, storages["default"], key, content_type, "")
    if response.status_code in (200, 206):
        response["Content-Disposition"] = disposition(content_type, filename, download=download)
    return _protect(response)


def refusal(message: str, status: int) -> HttpResponse:
    """A plain-text answer from a file address (expired or tampered link, no such file)."""
    return _protect(HttpResponse(message, status=status, content_type=_TEXT))


# ------------------------------------------------------------------ the separate origin
def content_origin() -> str:
    """The separate origin user files are served from, or "" to serve them from ours."""
    return str(getattr(settings, "MICROCRED_USER_CONTENT_ORIGIN", "") or "").rstrip("/")


def link(path: str) -> str:
    """A file address (path and query) as handed to a browser or API client: on the user
    content origin when there is one."""
    origin = content_origin()
    return f"{origin}{path}" if origin else path


def _on_content_origin(request: HttpRequest) -> bool:
    return request.get_host().lower() == urlsplit(content_origin()).netloc.lower()


def file_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For the views that stream user files: with a user content origin set, a request on
    the app's origin is sent there (the link carries its own authority, so it works as is);
    whatever the view answers carries the file headers."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if content_origin() and not _on_content_origin(request):
            return _protect(HttpResponseRedirect(link(request.get_full_path())))
        return _protect(view(request, *args, **kwargs))

    return wrapper

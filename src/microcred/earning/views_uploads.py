"""HTTP side of evidence uploads: the JSON endpoints Uppy's AWS S3 plugin calls, the signed
part endpoint of the local-disk backend, signed file downloads, and the upload page.

Views only translate HTTP to the services in uploads/ and back. JSON errors always look like
{"error": "<what to do, in plain words>", "code": "<machine-readable>"} (plus "detail" and
"errors", the API's error shape). The JSON endpoints take the browser's session (with its
CSRF token) or a personal API token (`Authorization: Bearer ...`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from microcred.orgs.tokens import bearer_secret, user_for_secret

from . import user_files
from .durations import format_duration
from .models import Upload
from .uploads import selectors, services
from .uploads.backends import SIGNED_URL_SECONDS, SignedRequest
from .uploads.errors import UploadError
from .uploads.local import check_file_signature, socket_body
from .uploads.policy import GiB, UploadPolicy
from .uploads.widget import uploader_context

# The "try it" page takes any evidence kind the catalog knows.
LIBRARY_POLICY = UploadPolicy(
    allowed_types=("video/*", "audio/*", "image/*", "application/pdf"),
    max_bytes=8 * GiB,
    purpose="library",
)

# As many as the files page lists.
LISTED = 50

_csrf = CsrfViewMiddleware(lambda request: HttpResponse())


def _error(message: str, status: int, code: str) -> JsonResponse:
    # "error" for the uploader script; "detail" and "errors" make the same body the API's one
    # error shape (microcred.api.errors.ApiError), for clients that use a token.
    body = {"error": message, "detail": message, "code": code, "errors": []}
    return JsonResponse(body, status=status)


def json_api(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in users (a session, or a personal API token as for /api/v1/) only, every
    failure answered in JSON. A session's requests are CSRF-checked like any form; a token's
    are not, since a browser never sends that header on its own."""

    @csrf_exempt  # checked below, so a failure is JSON instead of Django's HTML page
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        secret = bearer_secret(request)
        if secret is not None:
            user = user_for_secret(secret)
            if user is None:
                # Presented and wrong or revoked: never fall back to the session's cookie.
                return _error(
                    "This API token is not valid or was revoked. Make a new one on your "
                    "API tokens page.",
                    401,
                    "bad_token",
                )
            request.user = user
        elif not request.user.is_authenticated:
            return _error(
                "You are signed out. Sign in again, then choose the file again to "
                "continue where it stopped.",
                401,
                "signed_out",
            )
        if secret is None and _csrf.process_view(request, None, (), {}) is not None:
            return _error(
                "This page's security token is out of date. Reload the page and "
                "choose the file again.",
                403,
                "csrf",
            )
        try:
            return view(request, *args, **kwargs)
        except UploadError as exc:
            return _error(exc.message, exc.status, exc.code)

    return wrapper


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise UploadError("The request was not valid JSON.", code="bad_json") from exc
    if not isinstance(data, dict):
        raise UploadError("The request was not a JSON object.", code="bad_json")
    return data


def _integer(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise UploadError(f"“{name}” must be a whole number.", code="bad_field")
    return value


def _upload_json(upload: Upload) -> dict[str, Any]:
    return {
        "id": str(upload.pk),
        "key": upload.key,
        "name": upload.filename,
        "size": upload.size,
        "status": upload.status,
        "message": upload.status_message,
        "contentType": upload.content_type,
        "sha256": upload.sha256,
        "probeStatus": upload.probe_status,
        "durationSeconds": upload.duration_seconds,
    }


@require_http_methods(["GET", "POST"])
@json_api
def create(request: HttpRequest) -> HttpResponse:
    """POST starts an upload. GET lists the person's latest uploads, unfinished ones included:
    what the files page shows, for a token client that must find the unfinished uploads
    holding its quota (then DELETE /uploads/api/<id>/ discards one)."""
    if request.method == "GET":
        latest = selectors.uploads_of(request.user)[:LISTED]
        return JsonResponse({"uploads": [_upload_json(u) for u in latest]})
    data = _body(request)
    policy = UploadPolicy.from_token(str(data.get("policy", "")), request.user)
    upload = services.create_upload(
        request.user,
        policy,
        filename=str(data.get("filename", "")),
        declared_type=str(data.get("type", "")),
        size=_integer(data, "size"),
        part_size=_integer(data, "partSize"),
    )
    return JsonResponse({"uploadId": str(upload.pk), "key": upload.key}, status=201)


@require_http_methods(["GET", "DELETE"])
@json_api
def detail(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    upload = selectors.upload_for(request.user, upload_id)
    if request.method == "DELETE":
        upload = services.abort_upload(upload, reason="Discarded by you.")
    return JsonResponse(_upload_json(upload))


@require_GET
@json_api
def parts(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    upload = selectors.upload_for(request.user, upload_id)
    stored = services.list_parts(upload)
    listing = [{"PartNumber": p.number, "Size": p.size, "ETag": f'"{p.etag}"'} for p in stored]
    return JsonResponse(listing, safe=False)


def _signed_json(request: HttpRequest, signed: SignedRequest) -> dict[str, Any]:
    # Absolute, so an API client can PUT to it as it stands (S3's URLs already are).
    return {"url": request.build_absolute_uri(signed.url), "headers": signed.headers}


@require_GET
@json_api
def sign_part(request: HttpRequest, upload_id: UUID, number: int) -> HttpResponse:
    upload = selectors.upload_for(request.user, upload_id)
    return JsonResponse(_signed_json(request, services.sign_part(upload, number)))


@require_GET
@json_api
def sign_parts(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    """?parts=3-6 (or ?parts=3): the URLs of those parts, for a client that signs ahead of
    sending. URLs must be used within "expiresIn" seconds; a part only has to start by then."""
    upload = selectors.upload_for(request.user, upload_id)
    numbers = _part_range(request.GET.get("parts", ""))
    signed = services.sign_parts(upload, numbers)
    listing = [
        {"number": number, **_signed_json(request, one)}
        for number, one in zip(numbers, signed, strict=True)
    ]
    return JsonResponse({"parts": listing, "expiresIn": SIGNED_URL_SECONDS})


def _part_range(text: str) -> range:
    match = re.fullmatch(r"(\d{1,5})(?:-(\d{1,5}))?", text.strip())
    if match is None:
        raise UploadError(
            "“parts” must be a part number or a range of them, such as 3-6.", code="bad_range"
        )
    first = int(match.group(1))
    last = int(match.group(2) or first)
    return range(first, last + 1)


@require_POST
@json_api
def complete(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    upload = selectors.upload_for(request.user, upload_id)
    listed = _body(request).get("parts")
    if not isinstance(listed, list) or not all(isinstance(p, dict) for p in listed):
        raise UploadError("“parts” must be a list of {PartNumber, ETag}.", code="bad_field")
    claimed = [
        services.ClaimedPart(number=_integer(p, "PartNumber"), etag=str(p.get("ETag", "")))
        for p in listed
    ]
    upload = services.complete_upload(upload, claimed)
    return JsonResponse({"location": selectors.file_url(upload), "upload": _upload_json(upload)})


@csrf_exempt  # authorised by the signed URL, like a presigned S3 URL
@require_http_methods(["PUT"])
def put_part(request: HttpRequest, upload_id: UUID, number: int) -> HttpResponse:
    """Receive one part for the local-disk backend, streamed from the request body."""
    length = request.META.get("CONTENT_LENGTH", "")
    if not length.isdigit():
        return _error("The part must be sent with a Content-Length.", 411, "length_required")
    # Under gunicorn the part is read from the socket itself, without gunicorn's copies; else
    # in chunks from the request (Django does not buffer a body it is not asked for).
    fast = socket_body(request)
    try:
        part = services.receive_part(
            upload_id,
            number,
            expires=request.GET.get("expires", ""),
            signature=request.GET.get("signature", ""),
            body=fast or request,
            length=int(length),
            content_md5=request.headers.get("Content-MD5", ""),
        )
    except UploadError as exc:
        return _error(exc.message, exc.status, exc.code)
    finally:
        if fast is not None:
            fast.close()
    response = HttpResponse(status=200)
    response["ETag"] = f'"{part.etag}"'
    return response


@require_GET
@user_files.file_view
def signed_file(request: HttpRequest) -> HttpResponse:
    """Serve a stored file through a short-lived signed URL (local disk only), the way every
    user file is served: an uploaded SVG or HTML page downloads and never runs here."""
    key, content_type, name, expires, signature = (
        request.GET.get(k, "") for k in ("key", "type", "name", "expires", "signature")
    )
    try:
        check_file_signature(key, content_type, name, expires, signature)
    except UploadError as exc:
        return user_files.refusal(exc.message, exc.status)
    # A download link names the file; a "view" link does not, and should its type download
    # after all, the key's own name will do.
    return user_files.serve(
        request,
        key=key,
        content_type=content_type,
        filename=name or key.rsplit("/", 1)[-1],
        download=bool(name),
    )


@login_required
@require_GET
def new(request: HttpRequest) -> HttpResponse:
    context = {
        "uploader": uploader_context(
            request,
            LIBRARY_POLICY,
            field_id="library-file",
            label="Choose a file to upload",
        ),
        **_list_context(request),
    }
    return render(request, "earning/uploads/new.html", context)


@login_required
@require_GET
def upload_list(request: HttpRequest) -> HttpResponse:
    return render(request, "earning/uploads/_list.html", _list_context(request))


def _list_context(request: HttpRequest) -> dict[str, Any]:
    # Unfinished uploads are listed too, with a way to discard them: they count towards the
    # person's quota, which sends people here when it is full.
    # Only the rows shown are loaded, and only they can make the list poll for a probe.
    uploads = list(selectors.uploads_of(request.user)[:LISTED])
    rows = [
        {
            "upload": u,
            "poster_url": selectors.file_url(u, "poster"),
            "view_url": selectors.file_url(u, "view"),
            "duration": format_duration(u.duration_seconds) if u.duration_seconds else "",
        }
        for u in uploads
    ]
    waiting = any(
        u.status == Upload.Status.COMPLETE and u.probe_status == Upload.ProbeStatus.PENDING
        for u in uploads
    )
    return {"rows": rows, "waiting": waiting}


@login_required
@require_POST
def discard(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    try:
        upload = selectors.upload_for(request.user, upload_id)
    except UploadError as exc:
        raise Http404(exc.message) from exc
    try:
        upload = services.abort_upload(upload, reason="Discarded by you.")
    except UploadError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Discarded the unfinished upload of “{upload.filename}”.")
    return redirect("uploads:new")

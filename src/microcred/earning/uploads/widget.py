"""The upload component as a template context: a page builds it from a policy and includes
"earning/uploads/_uploader.html" with it; static/earning/uploader.js brings it to life.

Setting UPLOAD_PARALLEL_PARTS (default 4) is how many parts a browser sends at once;
bench/upload.py sends as many by default.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from .policy import UploadPolicy
from .selectors import unfinished_uploads


def uploader_context(
    request: HttpRequest, policy: UploadPolicy, *, field_id: str, label: str, help_text: str = ""
) -> dict[str, Any]:
    unfinished = unfinished_uploads(request.user, purpose=policy.purpose)
    return {
        "id": field_id,
        "resume_id": f"{field_id}-resume",
        "label": label,
        "help_text": help_text,
        "allowed": policy.describe(),
        "accept": policy.accept,
        "max_bytes": policy.max_bytes,
        "policy_token": policy.token(request.user),
        "api_url": reverse("uploads:create"),
        "parallel": parallel_parts(),
        "unfinished": unfinished,
        "resume_data": [u.as_resume_data() for u in unfinished],
    }


def parallel_parts() -> int:
    return getattr(settings, "UPLOAD_PARALLEL_PARTS", 4)

"""Assignment and Grade Services: the score for an earned micro-credential, posted to the
line item of each course link the earner launched it from.

A GradePassback row exists once per (course link, credential); posting locks it and posts
only while it is not sent, so a retried task or two workers never post twice.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from . import claims
from .models import GradePassback
from .platform_http import TIMEOUT, PlatformError, access_token

MAX_TRIES = 5


def scores_url(lineitem_url: str) -> str:
    """The line item's /scores endpoint (AGS 3.4: path + "/scores", query string kept)."""
    path, _, query = lineitem_url.partition("?")
    return path.rstrip("/") + "/scores" + (f"?{query}" if query else "")


def score_of(passback: GradePassback) -> dict[str, object]:
    sub = passback.launch.user.lti_links.get(platform=passback.launch.platform).sub
    mc = passback.launch.micro_credential
    title = mc.versions.order_by("-number").values_list("title", flat=True).first() if mc else ""
    return {
        "userId": sub,
        "scoreGiven": 1,
        "scoreMaximum": 1,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": passback.credential.issued_at.isoformat(),
        "comment": f"Earned {title or 'the micro-credential'}",
    }


def post_score(passback_id: int) -> str:
    """Send one passback; returns its status afterwards."""
    import requests

    with transaction.atomic():
        passback = (
            GradePassback.objects.select_for_update(of=("self",))
            .select_related("launch__platform", "launch__user", "launch__micro_credential")
            .select_related("credential")
            .get(pk=passback_id)
        )
        if passback.status == GradePassback.Status.SENT:
            return passback.status
        platform = passback.launch.platform
        passback.tries += 1
        try:
            token = access_token(platform, [claims.SCOPE_SCORE])
            response = requests.post(
                scores_url(passback.launch.lineitem_url),
                json=score_of(passback),
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/vnd.ims.lis.v1.score+json",
                },
                timeout=TIMEOUT,
            )
        except PlatformError as exc:
            passback.status, passback.response_code = GradePassback.Status.FAILED, exc.status
            passback.detail = str(exc)[:500]
        except requests.RequestException:
            passback.status, passback.response_code = GradePassback.Status.FAILED, None
            passback.detail = f"{platform.name} did not answer."
        else:
            passback.response_code = response.status_code
            if 200 <= response.status_code < 300:
                passback.status, passback.detail = GradePassback.Status.SENT, ""
                passback.sent_at = timezone.now()
            else:
                passback.status = GradePassback.Status.FAILED
                passback.detail = f"{platform.name} refused the score: {response.text[:300]}"
        passback.save()
        return passback.status


def retry_ids() -> list[int]:
    """Failed passbacks worth another try."""
    return list(
        GradePassback.objects.filter(
            status__in=[GradePassback.Status.FAILED, GradePassback.Status.PENDING],
            tries__lt=MAX_TRIES,
        ).values_list("pk", flat=True)
    )

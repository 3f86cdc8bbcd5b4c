"""The LTI app listens to credentials: an issued credential's score goes back to the course
links the earner launched its micro-credential from (the signal is sent on commit)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from microcred.credentials.signals import credential_issued


@receiver(credential_issued, dispatch_uid="lti.grade_passback")
def _pass_grades_back(sender: Any, credential: Any, **kwargs: Any) -> None:
    from .services import queue_passbacks
    from .tasks import post_score

    for passback in queue_passbacks(credential):
        post_score.enqueue(passback.pk)

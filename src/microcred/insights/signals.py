"""Insights listens to credentials: each newly issued one brings its earner the after-award
survey, sent by a task once the credential is committed (the signal is sent on commit)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from microcred.credentials.signals import credential_issued


@receiver(credential_issued, dispatch_uid="insights.after_award_survey")
def _survey_after_award(sender: Any, credential: Any, **kwargs: Any) -> None:
    from .tasks import send_after_award_survey

    send_after_award_survey.enqueue(credential.pk)

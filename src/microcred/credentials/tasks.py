"""Background work of credentials: issuing an award's credential after the award commits."""

from __future__ import annotations

from django.tasks import task


@task()
def issue_credential(award_id: int) -> str:
    """Issue (or find, on a retry) the award's credential; returns its uuid."""
    from microcred.assessment.models import Award

    from .services import issue_for_award

    return str(issue_for_award(Award.objects.get(pk=award_id)).uuid)

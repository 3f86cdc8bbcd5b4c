"""Background work of credentials: issuing an award's credential after the award commits, then
the credentials of any stacks it completes."""

from __future__ import annotations

from django.tasks import task


@task()
def issue_credential(award_id: int) -> str:
    """Issue (or find, on a retry) the award's credential; returns its uuid."""
    from microcred.assessment.models import Award

    from .services import issue_for_award

    return str(issue_for_award(Award.objects.get(pk=award_id)).uuid)


@task()
def issue_stack_credentials(earner_id: int) -> list[str]:
    """Issue the credentials of the stacks the earner completed (none twice); their uuids."""
    from django.contrib.auth import get_user_model

    from .services import issue_completed_stacks

    earner = get_user_model().objects.get(pk=earner_id)
    return [str(credential.uuid) for credential in issue_completed_stacks(earner)]

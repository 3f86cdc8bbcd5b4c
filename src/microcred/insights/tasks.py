"""Background work of insights: the Guskey survey invitations and recounting program reports."""

from __future__ import annotations

from typing import Any

from django.tasks import task


@task()
def send_after_award_survey(credential_id: int) -> bool:
    """Invite the earner of a newly issued credential; False on a retry (already sent)."""
    from .surveys import invite_after_award

    return invite_after_award(credential_id)


@task()
def send_followup_surveys() -> int:
    """Daily: invite earners whose credential is the follow-up months old; how many now."""
    from .surveys import send_followups

    return send_followups()


@task()
def recount_report(spec: dict[str, Any]) -> bool:
    """Recount a program report a visitor was served an older copy of; False if the district
    or micro-credential it names is gone."""
    from .reports import filters_from_spec, recount

    filters = filters_from_spec(spec)
    if filters is None:
        return False
    recount(filters)
    return True

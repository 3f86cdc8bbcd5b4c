"""Who must never score whom (DESIGN.md invariant 1).

`conflicts_between(profile, submission)` answers for one assessor and one submission with the
plain reasons a scoring lead reads. Assignment asks the same question for every candidate, so
the facts about a submission (its earners, their schools and districts, the provider) are
gathered once in `SubmissionFacts` and each assessor is then checked against them.
"""

from __future__ import annotations

from dataclasses import dataclass

from microcred.earning.models import Submission
from microcred.earning.selectors import attempt_members
from microcred.orgs.models import Membership, Organization
from microcred.orgs.selectors import organization_subtree_ids

from .models import AssessorProfile, CoachingRelationship, DeclaredConflict

LOCAL_KINDS = (Organization.Kind.SCHOOL, Organization.Kind.LEA)


@dataclass(frozen=True)
class SubmissionFacts:
    earner_ids: frozenset[int]
    # The schools and districts of every earner, each school's district included.
    local_org_ids: frozenset[int]
    district_ids: frozenset[int]
    provider_id: int


def _district_id(org: Organization) -> int | None:
    lea = org.lea
    return lea.pk if lea is not None else None


def submission_facts(submission: Submission) -> SubmissionFacts:
    attempt = submission.attempt
    earner_ids = {user.pk for user in attempt_members(attempt)} | {attempt.earner_id}
    orgs = list(
        Organization.objects.filter(
            memberships__user_id__in=earner_ids,
            memberships__active=True,
            kind__in=LOCAL_KINDS,
        ).select_related("parent")
    )
    for school_id in (attempt.school_id, attempt.team.school_id if attempt.team_id else None):
        if school_id is not None:
            orgs.append(Organization.objects.select_related("parent").get(pk=school_id))
    districts = {d for d in (_district_id(org) for org in orgs) if d is not None}
    return SubmissionFacts(
        earner_ids=frozenset(earner_ids),
        local_org_ids=frozenset({org.pk for org in orgs} | districts),
        district_ids=frozenset(districts),
        provider_id=attempt.version.micro_credential.provider_id,
    )


def conflicts_with(profile: AssessorProfile, facts: SubmissionFacts) -> list[str]:
    """The reasons this assessor may not score a submission with these facts (empty: none)."""
    reasons: list[str] = []
    user_id = profile.user_id
    assessor_orgs = list(
        Organization.objects.filter(
            memberships__user_id=user_id, memberships__active=True
        ).select_related("parent")
    )
    home = Organization.objects.select_related("parent").get(pk=profile.home_organization_id)
    workplaces = [*assessor_orgs, home]

    if user_id in facts.earner_ids:
        reasons.append("They are the earner or on the earner's team.")
    if any(_district_id(org) in facts.district_ids for org in workplaces):
        reasons.append("They work in the earner's school or district.")
    if (
        home.pk == facts.provider_id
        or Membership.objects.filter(
            user_id=user_id, organization_id=facts.provider_id, active=True
        ).exists()
    ):
        reasons.append("They work for the provider of this micro-credential.")
    if CoachingRelationship.objects.filter(
        coach_id=user_id, earner_id__in=facts.earner_ids, ended__isnull=True
    ).exists():
        reasons.append("They coach the earner.")
    reasons.extend(_declared(profile, facts))
    return reasons


def _declared(profile: AssessorProfile, facts: SubmissionFacts) -> list[str]:
    declared = list(DeclaredConflict.objects.filter(assessor=profile))
    reasons = [
        f"They declared a conflict with a person: {d.reason}"
        for d in declared
        if d.user_id in facts.earner_ids
    ]
    org_conflicts = [d for d in declared if d.organization_id is not None]
    if org_conflicts:
        touched = facts.local_org_ids | {facts.provider_id}
        for d in org_conflicts:
            if organization_subtree_ids({d.organization_id}) & touched:
                reasons.append(f"They declared a conflict with {d.organization}: {d.reason}")
    return reasons


def conflicts_between(profile: AssessorProfile, submission: Submission) -> list[str]:
    """Why this assessor may not score this submission; an empty list means they may."""
    return conflicts_with(profile, submission_facts(submission))

"""Who may do what in assessment, as `rules` predicates.

Scoring leads (anywhere) and state program admins run the assessor pool and see the unassigned
list; an assessor works only on their own assignments and their own profile.
"""

from __future__ import annotations

from typing import Any

import rules

from microcred.orgs.models import Role
from microcred.orgs.selectors import is_active_superuser, is_state_admin, role_organization_ids

from .models import AssessorProfile, Assignment


@rules.predicate
def is_superuser(user: Any) -> bool:
    return is_active_superuser(user)


@rules.predicate
def is_scoring_lead(user: Any) -> bool:
    return bool(role_organization_ids(user).get(Role.SCORING_LEAD))


@rules.predicate
def is_state_program_admin(user: Any) -> bool:
    return getattr(user, "is_authenticated", False) and is_state_admin(user)


@rules.predicate
def has_assessor_profile(user: Any) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and AssessorProfile.objects.filter(user=user).exists()
    )


@rules.predicate
def holds_assessor_role(user: Any) -> bool:
    return bool(role_organization_ids(user).get(Role.ASSESSOR))


@rules.predicate
def owns_profile(user: Any, profile: AssessorProfile | None) -> bool:
    return isinstance(profile, AssessorProfile) and profile.user_id == user.pk


@rules.predicate
def is_own_assignment(user: Any, assignment: Assignment | None) -> bool:
    return isinstance(assignment, Assignment) and assignment.assessor.user_id == user.pk


@rules.predicate
def is_open(user: Any, assignment: Assignment | None) -> bool:
    return isinstance(assignment, Assignment) and assignment.status == Assignment.Status.ASSIGNED


runs_pool = is_superuser | is_scoring_lead | is_state_program_admin

rules.add_perm("assessment.manage_assessors", runs_pool)
rules.add_perm("assessment.view_unassigned", runs_pool)
# Someone given the assessor role before a lead set up their profile sees an empty queue that
# tells them so, rather than a refusal.
rules.add_perm("assessment.view_queue", has_assessor_profile | holds_assessor_role)
rules.add_perm("assessment.view_own_profile", has_assessor_profile)
rules.add_perm("assessment.change_own_profile", owns_profile)
rules.add_perm("assessment.view_assignment", is_own_assignment)
rules.add_perm("assessment.score_assignment", is_own_assignment & is_open)
# Calibration sets and master scores, reliability and drift, and pay reports are the scoring
# program's: scoring leads and the state program office (issue 9).
rules.add_perm("assessment.manage_calibration", runs_pool)
rules.add_perm("assessment.view_reliability", runs_pool)
rules.add_perm("assessment.view_pay", runs_pool)
# An assessor sees their own calibration rounds, agreement and pay.
rules.add_perm("assessment.view_own_record", has_assessor_profile)

"""Who may do what around coaching, as `rules` predicates (issue 11, coaches).

A coach is someone holding the coach role, or anyone an active coaching relationship names
as coach (a relationship made in the admin site counts). What a coach sees of an earner comes
from the relationship; what they see of an attempt's evidence comes from the earner's share
alone (evidence_access), so ending one never widens the other.
"""

from __future__ import annotations

from typing import Any

import rules

from microcred.assessment.models import CoachingRelationship
from microcred.orgs.models import Role
from microcred.orgs.selectors import has_role

from .models import Attempt, DraftComment


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


@rules.predicate
def is_coach(user: Any) -> bool:
    if not _signed_in(user):
        return False
    if has_role(user, Role.COACH):
        return True
    return CoachingRelationship.objects.filter(coach=user, ended__isnull=True).exists()


@rules.predicate
def coaches_earner(user: Any, earner: Any) -> bool:
    """The user is the earner's coach now (an ended relationship gives nothing)."""
    return (
        _signed_in(user)
        and earner is not None
        and CoachingRelationship.objects.filter(
            coach=user, earner_id=getattr(earner, "pk", None), ended__isnull=True
        ).exists()
    )


@rules.predicate
def sees_shared_draft(user: Any, attempt: Any) -> bool:
    """The earner shares this attempt's evidence with the user, and has not revoked it."""
    from .evidence_access import is_shared_coach

    return isinstance(attempt, Attempt) and _signed_in(user) and is_shared_coach(user, attempt)


@rules.predicate
def in_relationship(user: Any, relationship: Any) -> bool:
    """Either side of a coaching relationship may end it."""
    return (
        isinstance(relationship, CoachingRelationship)
        and _signed_in(user)
        and user.pk in (relationship.coach_id, relationship.earner_id)
    )


@rules.predicate
def on_commented_attempt(user: Any, comment: Any) -> bool:
    """The earner, or an active teammate, of the attempt a comment is about."""
    from .selectors import is_attempt_member

    return isinstance(comment, DraftComment) and is_attempt_member(user, comment.attempt)


rules.add_perm("earning.view_caseload", is_coach)
rules.add_perm("earning.view_coachee", coaches_earner)
rules.add_perm("earning.comment_on_draft", sees_shared_draft)
rules.add_perm("earning.end_coaching", in_relationship)
rules.add_perm("earning.resolve_draft_comment", on_commented_attempt)

"""Coaches (issue 11): the caseload, coaching relationships, and comments on shared drafts.

Reads and writes side by side, like supports.py. A coaching relationship is
`assessment.CoachingRelationship` (it also feeds assessor conflicts): an earner asks a coach
of their school or district, or a principal of the school (or a program admin above it)
assigns one; either side ends it. Its (coach, earner) pair is unique, so starting again after
an end reactivates the same row. A coach sees an attempt's draft evidence only while the earner
shares it (evidence_access) and comments on it only before submission; comments stay on record
after the share is revoked or the draft submitted. Every write runs in one transaction with
its AuditEvent; notifications go out after commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import rules
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from microcred.assessment.models import CoachingRelationship
from microcred.catalog.models import EvidenceRequirement, MicroCredentialVersion
from microcred.notifications.models import Kind
from microcred.orgs import selectors as org_selectors
from microcred.orgs.models import Organization, Role, User
from microcred.orgs.services import record_audit

from . import evidence_access, rules_coaching  # noqa: F401  (registers the coaching rules)
from .models import (
    Attempt,
    DraftComment,
    EvidenceShare,
    LearningGoal,
    LearningPlan,
    TeamMember,
)
from .selectors import attempt_members, is_attempt_member

# The program's guide: about one coach for every 20 earners.
CASELOAD_GUIDE = 20
BODY_MAX = DraftComment.BODY_MAX


def _notify(users: Iterable[Any], *, title: str, url: str, key: str, body: str = "") -> None:
    """Tell people after commit, so nobody hears of a change that was rolled back; the key
    makes a retried or doubled call notify once."""
    from microcred.notifications.services import notify

    recipients = list(users)

    def send() -> None:
        for user in recipients:
            notify(
                user,
                Kind.COACHING,
                title=title,
                body=body,
                url=url,
                dedupe_key=f"{key}:{user.pk}",
            )

    transaction.on_commit(send)


def _name(user: Any) -> str:
    return user.name


# ---------------------------------------------------------------------------- who coaches whom
def earner_schools(earner: Any) -> QuerySet[Organization]:
    return org_selectors.organizations_where(earner, Role.EARNER).filter(
        kind=Organization.Kind.SCHOOL
    )


def coaches_for(earner: Any) -> QuerySet[User]:
    """The coaches an earner may have: coach role at one of their schools or its district."""
    schools = list(earner_schools(earner).values_list("pk", "parent_id"))
    org_ids = {org_id for pair in schools for org_id in pair if org_id}
    return (
        User.objects.filter(
            is_active=True,
            memberships__role=Role.COACH,
            memberships__active=True,
            memberships__organization_id__in=org_ids,
        )
        .exclude(pk=getattr(earner, "pk", None))
        .distinct()
        .order_by("last_name", "first_name", "email")
    )


def current_coaches(earner: Any) -> QuerySet[CoachingRelationship]:
    return (
        CoachingRelationship.objects.filter(earner=earner, ended__isnull=True)
        .select_related("coach")
        .order_by("created", "pk")
    )


def is_coach(user: Any) -> bool:
    return rules.has_perm("earning.view_caseload", user)


def may_assign_for(actor: Any, earner: Any) -> bool:
    """A principal of one of the earner's schools (that school only), or a program admin
    whose reach includes it."""
    for school in earner_schools(earner):
        if org_selectors.user_has_role_in(
            actor, Role.PRINCIPAL, school, include_ancestors=False
        ) or org_selectors.can_manage_organization(actor, school):
            return True
    return False


def assigning_organizations(actor: Any) -> list[int]:
    """Ids of the schools where the actor may assign coaches (principal or program admin)."""
    by_role = org_selectors.role_organization_ids(actor)
    ids = set(by_role.get(Role.PRINCIPAL, frozenset()))
    if org_selectors.is_program_admin(actor):
        ids |= set(org_selectors.admin_scope(actor).managed_ids)
    if not ids:
        return []
    return list(
        Organization.objects.filter(pk__in=ids, kind=Organization.Kind.SCHOOL).values_list(
            "pk", flat=True
        )
    )


def may_assign(actor: Any) -> bool:
    return bool(assigning_organizations(actor))


def assignable_coaches(actor: Any) -> QuerySet[User]:
    """Coaches of the schools where the actor assigns, and of those schools' districts."""
    schools = assigning_organizations(actor)
    parents = Organization.objects.filter(pk__in=schools).values_list("parent_id", flat=True)
    org_ids = set(schools) | {pk for pk in parents if pk}
    return (
        User.objects.filter(
            is_active=True,
            memberships__role=Role.COACH,
            memberships__active=True,
            memberships__organization_id__in=org_ids,
        )
        .distinct()
        .order_by("last_name", "first_name", "email")
    )


# ---------------------------------------------------------------------------- relationships
def _earner_school(earner: Any) -> Organization | None:
    return earner_schools(earner).first()


def start_coaching(earner: Any, coach: Any, *, user: Any) -> tuple[CoachingRelationship, bool]:
    """The earner asks `coach` for coaching (user is the earner), or a principal or program
    admin assigns one. Returns the relationship and whether anything changed: asking a coach
    one already has changes nothing; asking again after an end reactivates the same row."""
    asking = getattr(user, "pk", None) == earner.pk
    if not asking and not may_assign_for(user, earner):
        raise PermissionDenied("Only the teacher, or a principal or program admin, can do this.")
    if not org_selectors.has_role(earner, Role.EARNER) or not earner_schools(earner).exists():
        raise ValidationError(
            {"earner": f"{_name(earner)} is not an earner at a school, so cannot have a coach."}
        )
    if not coaches_for(earner).filter(pk=coach.pk).exists():
        raise ValidationError(
            {
                "coach": "Choose a coach of the teacher's school or district: "
                f"{_name(coach)} is not one."
            }
        )
    school = _earner_school(earner)
    with transaction.atomic():
        relationship = (
            CoachingRelationship.objects.select_for_update()
            .filter(coach=coach, earner=earner)
            .first()
        )
        if relationship is not None and relationship.ended is None:
            return relationship, False
        if relationship is None:
            try:
                with transaction.atomic():
                    relationship = CoachingRelationship.objects.create(coach=coach, earner=earner)
            except IntegrityError:  # the same request twice at once: the other one made it
                return CoachingRelationship.objects.get(coach=coach, earner=earner), False
            action = "coaching.started"
        else:
            relationship.ended = None
            relationship.save(update_fields=["ended"])
            action = "coaching.restarted"
        record_audit(
            user,
            action,
            relationship,
            reason="Asked for coaching." if asking else "Assigned a coach.",
            data={"coach": coach.pk, "earner": earner.pk},
            organization=school,
        )
        title = (
            f"{_name(earner)} asked you for coaching"
            if asking
            else f"You now coach {_name(earner)} (assigned by {_name(user)})"
        )
        _notify(
            [coach],
            title=title,
            url=reverse("earning:coachee", args=[earner.pk]),
            key=f"coaching-start:{relationship.pk}:{timezone.now().isoformat()}",
        )
        if not asking:
            _notify(
                [earner],
                title=f"{_name(coach)} is now your coach",
                url=reverse("earning:my_coach"),
                key=f"coaching-assigned:{relationship.pk}:{timezone.now().isoformat()}",
            )
    return relationship, True


def assign_by_email(actor: Any, email: str, coach: Any) -> tuple[CoachingRelationship, bool]:
    """A principal or program admin assigns `coach` to the teacher with this address. The same
    words whether the address is unknown or a teacher elsewhere: nothing leaks."""
    earner = User.objects.filter(email__iexact=email.strip()).first()
    if earner is None or not may_assign_for(actor, earner):
        raise ValidationError(
            {"email": "There is no teacher with this address at a school of yours."}
        )
    return start_coaching(earner, coach, user=actor)


def end_coaching(relationship: CoachingRelationship, *, user: Any) -> bool:
    """Either side ends it; False if it had already ended (a second click). Shares stay as
    the earner left them: which coach sees which evidence is the earner's decision alone."""
    if not rules.has_perm("earning.end_coaching", user, relationship):
        raise PermissionDenied("Only the coach or the teacher can end this coaching.")
    with transaction.atomic():
        ended = CoachingRelationship.objects.filter(pk=relationship.pk, ended__isnull=True).update(
            ended=timezone.now()
        )
        if ended:
            relationship.refresh_from_db()
            record_audit(
                user,
                "coaching.ended",
                relationship,
                data={"coach": relationship.coach_id, "earner": relationship.earner_id},
                organization=_earner_school(relationship.earner),
            )
            other = relationship.earner if user.pk == relationship.coach_id else relationship.coach
            _notify(
                [other],
                title=f"{_name(user)} ended the coaching",
                url=reverse("earning:my_coach")
                if other.pk == relationship.earner_id
                else reverse("earning:caseload"),
                key=f"coaching-end:{relationship.pk}:{relationship.ended.isoformat()}",
            )
    return bool(ended)


def relationship_for(user: Any, pk: int) -> CoachingRelationship:
    """A relationship the user is part of, else 404."""
    relationship = (
        CoachingRelationship.objects.select_related("coach", "earner").filter(pk=pk).first()
    )
    if relationship is None or not rules.has_perm("earning.end_coaching", user, relationship):
        raise Http404("There is no such coaching.")
    return relationship


# ---------------------------------------------------------------------------- sharing
def share_with_coach(attempt: Attempt, coach: Any, *, user: Any) -> EvidenceShare:
    """Share the attempt's evidence (evidence_access decides and audits) and tell the coach.
    Sharing twice returns the same share, and the notice's key is the share: one notice."""
    with transaction.atomic():
        share = evidence_access.share_with_coach(attempt, coach, user=user)
        _notify(
            [coach],
            title=f"{_name(user)} shared draft evidence with you: {attempt.version.title}",
            url=reverse("earning:shared_draft", args=[attempt.uuid]),
            key=f"coaching-share:{share.pk}",
        )
    return share


# ---------------------------------------------------------------------------- the caseload
@dataclass(frozen=True)
class GoalLine:
    title: str
    status_label: str
    target_date: Any


@dataclass(frozen=True)
class AttemptLine:
    attempt: Attempt
    shared: bool
    open_comments: int

    @property
    def draft(self) -> bool:
        return self.attempt.status in Attempt.EDITABLE


@dataclass
class CoacheeRow:
    relationship: CoachingRelationship
    plan: LearningPlan | None
    goals: list[GoalLine] = field(default_factory=list)
    attempts: list[AttemptLine] = field(default_factory=list)

    @property
    def earner(self) -> User:
        return self.relationship.earner

    @property
    def open_comments(self) -> int:
        return sum(line.open_comments for line in self.attempts)

    @property
    def shared_count(self) -> int:
        return sum(1 for line in self.attempts if line.shared)


@dataclass(frozen=True)
class Caseload:
    rows: list[CoacheeRow]
    guide: int = CASELOAD_GUIDE

    @property
    def size(self) -> int:
        return len(self.rows)

    @property
    def over_guide(self) -> int:
        return max(0, self.size - self.guide)


def _goal_lines(plans: list[LearningPlan]) -> dict[int, list[GoalLine]]:
    """Goal titles for many plans in one more query (the MCs' published titles)."""
    mc_ids = {g.micro_credential_id for p in plans for g in p.goals.all() if g.micro_credential_id}
    titles: dict[int, str] = {}
    for mc_id, title in (
        MicroCredentialVersion.objects.filter(
            micro_credential_id__in=mc_ids, status=MicroCredentialVersion.Status.PUBLISHED
        )
        .order_by("number")
        .values_list("micro_credential_id", "title")
    ):
        titles[mc_id] = title  # the latest published version wins
    lines: dict[int, list[GoalLine]] = {}
    for plan in plans:
        lines[plan.earner_id] = [
            GoalLine(
                title=(
                    titles.get(goal.micro_credential_id, goal.micro_credential.slug)
                    if goal.micro_credential
                    else goal.stack.title
                    if goal.stack
                    else goal.text
                ),
                status_label=goal.get_status_display(),
                target_date=goal.target_date,
            )
            for goal in plan.goals.all()
        ]
    return lines


def _attempt_lines(coach: Any, earner_ids: list[int]) -> dict[int, list[AttemptLine]]:
    """Each earner's attempts (their own and their teams'), with whether this coach sees the
    evidence and how many comments wait for the earner: two queries for any caseload."""
    teams: dict[int, set[int]] = defaultdict(set)
    for team_id, user_id in TeamMember.objects.filter(
        user_id__in=earner_ids, status=TeamMember.Status.ACTIVE
    ).values_list("team_id", "user_id"):
        teams[team_id].add(user_id)
    attempts = (
        Attempt.objects.filter(Q(earner_id__in=earner_ids) | Q(team_id__in=list(teams)))
        .filter(purpose=Attempt.Purpose.EARNING)
        .select_related("version")
        .annotate(
            open_comments=Count(
                "draft_comments", filter=Q(draft_comments__resolved_at__isnull=True)
            ),
            shared=Exists(
                EvidenceShare.objects.filter(
                    attempt=OuterRef("pk"), coach=coach, revoked_at__isnull=True
                )
            ),
        )
        .order_by("-updated")
    )
    by_earner: dict[int, list[AttemptLine]] = defaultdict(list)
    wanted = set(earner_ids)
    for attempt in attempts:
        line = AttemptLine(attempt, attempt.shared, attempt.open_comments)
        owners = ({attempt.earner_id} | teams.get(attempt.team_id, set())) & wanted
        for earner_id in owners:
            by_earner[earner_id].append(line)
    return by_earner


def caseload(coach: Any) -> Caseload:
    relationships = list(
        CoachingRelationship.objects.filter(coach=coach, ended__isnull=True)
        .select_related("earner")
        .order_by("earner__last_name", "earner__first_name", "earner__email")
    )
    if not relationships:
        return Caseload(rows=[])
    ids = [r.earner_id for r in relationships]
    plans = list(
        LearningPlan.objects.filter(earner_id__in=ids).prefetch_related(
            Prefetch(
                "goals",
                queryset=LearningGoal.objects.select_related("micro_credential", "stack"),
            )
        )
    )
    goals = _goal_lines(plans)
    plan_of = {plan.earner_id: plan for plan in plans}
    attempts = _attempt_lines(coach, ids)
    return Caseload(
        rows=[
            CoacheeRow(
                relationship=r,
                plan=plan_of.get(r.earner_id),
                goals=goals.get(r.earner_id, []),
                attempts=attempts.get(r.earner_id, []),
            )
            for r in relationships
        ]
    )


def coachee_for(coach: Any, earner_id: int) -> CoachingRelationship:
    """The active relationship of this coach with this earner, else 404 (for anyone else)."""
    relationship = (
        CoachingRelationship.objects.select_related("earner", "coach")
        .filter(coach=coach, earner_id=earner_id, ended__isnull=True)
        .first()
    )
    if relationship is None or not rules.has_perm(
        "earning.view_coachee", coach, relationship.earner
    ):
        raise Http404("There is no such coachee.")
    return relationship


def coachee_attempts(coach: Any, earner: Any) -> list[AttemptLine]:
    return _attempt_lines(coach, [earner.pk]).get(earner.pk, [])


# ---------------------------------------------------------------------------- shared drafts
def shared_attempt(coach: Any, attempt_uuid: Any) -> Attempt:
    """An attempt the earner shares with this coach now, else 404 (revoking hides it)."""
    attempt = (
        Attempt.objects.select_related("version", "earner", "school", "team")
        .filter(uuid=attempt_uuid)
        .first()
    )
    if attempt is None or not rules.has_perm("earning.comment_on_draft", coach, attempt):
        raise Http404("There is no such shared evidence.")
    return attempt


def comment_refusal(attempt: Attempt) -> str | None:
    """Why a coach cannot comment on the attempt now (None: they can). Comments are about a
    draft: before submission, or on the revision after “not yet”."""
    if attempt.purpose != Attempt.Purpose.EARNING:
        return "This is calibration material, not an earner's draft: it takes no comments."
    if attempt.status in Attempt.EDITABLE:
        return None
    if attempt.status in (Attempt.Status.SUBMITTED, Attempt.Status.IN_SCORING):
        return (
            "This evidence was submitted and is waiting for its assessor, so it takes no "
            "comments now. If it comes back as “not yet”, you can comment on the revision."
        )
    if attempt.status == Attempt.Status.AWAITING_PREAPPROVAL:
        return "This attempt is waiting for pre-approval: comment once the teacher can work on it."
    return (
        f"This attempt is {attempt.get_status_display().lower()}, so its evidence takes no "
        "more comments."
    )


def comments_on(attempt: Attempt) -> list[DraftComment]:
    return list(
        DraftComment.objects.filter(attempt=attempt)
        .select_related("author", "requirement", "resolved_by")
        .order_by("created", "pk")
    )


def comments_by_requirement(attempt: Attempt) -> dict[int | None, list[DraftComment]]:
    grouped: dict[int | None, list[DraftComment]] = defaultdict(list)
    for comment in comments_on(attempt):
        grouped[comment.requirement_id].append(comment)
    return dict(grouped)


def add_comment(
    attempt: Attempt, *, user: Any, body: str, requirement: EvidenceRequirement | None = None
) -> tuple[DraftComment, bool]:
    """A shared coach comments on the draft (on one requirement, or on the whole). Returns the
    comment and whether it is new: the same comment sent twice (a double click, a reload)
    gives the one already saved."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write your comment before sending it."})
    if len(body) > BODY_MAX:
        raise ValidationError(
            {
                "body": f"Shorten your comment to {BODY_MAX:,} characters "
                f"(it has {len(body):,}); nothing was saved."
            }
        )
    if requirement is not None and requirement.version_id != attempt.version_id:
        raise ValidationError({"requirement": "Choose a part of this micro-credential's evidence."})
    with transaction.atomic():
        # Lock the attempt: a submission racing the comment waits, and the check below reads
        # the state the comment lands in.
        locked = (
            Attempt.objects.select_for_update(of=("self",))
            .select_related("version", "school")
            .get(pk=attempt.pk)
        )
        if not rules.has_perm("earning.comment_on_draft", user, locked):
            raise PermissionDenied("The teacher no longer shares this evidence with you.")
        refusal = comment_refusal(locked)
        if refusal:
            raise ValidationError(refusal)
        same = DraftComment.objects.filter(
            attempt=locked,
            author=user,
            requirement=requirement,
            body=body,
            resolved_at__isnull=True,
        ).first()
        if same is not None:
            return same, False
        comment = DraftComment.objects.create(
            attempt=locked, requirement=requirement, author=user, body=body
        )
        record_audit(
            user,
            "coaching.commented",
            comment,
            data={
                "attempt": str(locked.uuid),
                "requirement": requirement.pk if requirement else None,
            },
            organization=locked.school,
        )
        where = f"“{requirement.title}”" if requirement else "your draft"
        _notify(
            attempt_members(locked),
            title=f"{_name(user)} commented on {where}: {locked.version.title}",
            body=body[:300],
            url=reverse("earning:attempt", args=[locked.uuid]) + "#coach-comments",
            key=f"coaching-comment:{comment.pk}",
        )
    return comment, True


def comment_for_member(user: Any, pk: int) -> DraftComment:
    """A comment on one of the user's attempts, else 404."""
    comment = (
        DraftComment.objects.select_related("attempt__school", "attempt__team", "author")
        .filter(pk=pk)
        .first()
    )
    if comment is None or not rules.has_perm("earning.resolve_draft_comment", user, comment):
        raise Http404("There is no such comment.")
    return comment


def resolve_comment(comment: DraftComment, *, user: Any) -> bool:
    """The earner (or a teammate) marks a comment dealt with; False if it already was."""
    if not rules.has_perm("earning.resolve_draft_comment", user, comment):
        raise PermissionDenied("Only the teacher or their team can resolve this comment.")
    with transaction.atomic():
        resolved = DraftComment.objects.filter(pk=comment.pk, resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolved_by=user
        )
        if resolved:
            record_audit(
                user,
                "coaching.comment_resolved",
                comment,
                data={"attempt": str(comment.attempt.uuid)},
                organization=comment.attempt.school,
            )
    return bool(resolved)


@dataclass(frozen=True)
class EarnerComments:
    """What the attempt page shows the earner: the coaches' comments, and sharing."""

    comments: list[DraftComment]
    can_resolve: bool
    share_url: str
    shared_with: list[Any]

    @property
    def open_count(self) -> int:
        return sum(1 for c in self.comments if c.resolved_at is None)


def earner_comments(user: Any, attempt: Attempt) -> EarnerComments | None:
    """None for anyone who is not the earner or a teammate (an admin reading, an anchor)."""
    if attempt.purpose != Attempt.Purpose.EARNING or not is_attempt_member(user, attempt):
        return None
    return EarnerComments(
        comments=comments_on(attempt),
        can_resolve=True,
        share_url=reverse("evidence:shares", args=[attempt.uuid]),
        shared_with=[share.coach for share in evidence_access.active_shares(attempt)],
    )

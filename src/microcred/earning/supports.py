"""Earner supports (issue 11): the self-assessment before starting an MC, and the learning
plan that a principal may sign off.

Reads and writes live here side by side (`*_view`, `plans_*` read; the verbs write). Every
write is atomic, refuses bad input with a ValidationError that names the field, and leaves an
AuditEvent; a principal's decision notifies the earner.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from microcred.catalog.models import (
    MicroCredential,
    MicroCredentialVersion,
    RubricComponent,
    Stack,
)
from microcred.notifications.models import Kind
from microcred.notifications.services import notify
from microcred.orgs.models import Organization, Role, User
from microcred.orgs.selectors import has_role, organizations_where, user_has_role_in
from microcred.orgs.services import record_audit

from . import selectors
from .models import (
    Attempt,
    LearningGoal,
    LearningPlan,
    SelfAssessment,
    SelfAssessmentRating,
    Submission,
)

NOTE_MAX = 2000
GOAL_TEXT_MAX = 1000
COMMENT_MAX = 2000
Confidence = SelfAssessmentRating.Confidence


def is_earner(user: Any) -> bool:
    return bool(user.is_authenticated and has_role(user, Role.EARNER))


def _require_earner(user: Any) -> None:
    if not is_earner(user):
        raise ValidationError(
            "Self-assessments and learning plans are for earners: ask your district's program "
            "admin to add the earner role to your account."
        )


# ---------------------------------------------------------------------------- self-assessment
@dataclass(frozen=True)
class RatingRow:
    component: RubricComponent
    confidence: str
    confidence_label: str
    note: str


@dataclass(frozen=True)
class SelfAssessmentView:
    version: MicroCredentialVersion
    assessment: SelfAssessment | None
    rows: list[RatingRow]
    locked: bool

    @property
    def started(self) -> bool:
        return self.assessment is not None


def self_assessable_version(user: Any, version_pk: int) -> MicroCredentialVersion:
    """The version the user may rate themselves against: a published one, or one they already
    have an attempt on. Anything else is 404."""
    version = (
        MicroCredentialVersion.objects.select_related("micro_credential")
        .filter(pk=version_pk)
        .first()
    )
    if version is None:
        raise Http404("There is no such micro-credential.")
    if version.status == MicroCredentialVersion.Status.PUBLISHED:
        return version
    if selectors.attempts_of(user).filter(version=version).exists():
        return version
    raise Http404("There is no such micro-credential.")


def _components(version: MicroCredentialVersion) -> list[RubricComponent]:
    return list(
        RubricComponent.objects.filter(rubric__version=version)
        .prefetch_related("criteria")
        .order_by("order")
    )


def self_assessment_locked(user: Any, version: MicroCredentialVersion) -> bool:
    """Editable until the earner (or a team they are on) submits an attempt on the version."""
    attempts = selectors.attempts_of(user).filter(version=version)
    return Submission.objects.filter(attempt__in=attempts).exists()


def self_assessment_view(user: Any, version: MicroCredentialVersion) -> SelfAssessmentView:
    assessment = SelfAssessment.objects.filter(earner=user, version=version).first()
    ratings = {}
    if assessment is not None:
        ratings = {r.rubric_component_id: r for r in assessment.ratings.all()}
    labels = dict(Confidence.choices)
    rows = []
    for component in _components(version):
        rating = ratings.get(component.pk)
        confidence = rating.confidence if rating else ""
        rows.append(
            RatingRow(
                component=component,
                confidence=confidence,
                confidence_label=labels.get(confidence, "Not rated yet"),
                note=rating.note if rating else "",
            )
        )
    return SelfAssessmentView(
        version=version,
        assessment=assessment,
        rows=rows,
        locked=self_assessment_locked(user, version),
    )


def save_self_assessment(
    user: Any, version: MicroCredentialVersion, ratings: dict[int, tuple[str, str]]
) -> SelfAssessment:
    """Store the earner's rating (and optional note) on every rubric component of `version`.
    `ratings` maps a rubric component pk to (confidence, note). All or nothing."""
    _require_earner(user)
    if self_assessment_locked(user, version):
        raise ValidationError(
            "You have already submitted evidence for this micro-credential, so your "
            "self-assessment is kept as it was when you submitted."
        )
    components = _components(version)
    if not components:
        raise ValidationError("This micro-credential has no rubric to rate yourself against.")
    errors: dict[str, list[str]] = {}
    clean: dict[int, tuple[str, str]] = {}
    for component in components:
        confidence, note = ratings.get(component.pk, ("", ""))
        note = (note or "").strip()
        if confidence not in Confidence.values:
            errors.setdefault(f"c{component.pk}-confidence", []).append(
                f"Choose how confident you feel about “{component.title}”."
            )
        if len(note) > NOTE_MAX:
            errors.setdefault(f"c{component.pk}-note", []).append(
                f"Keep the note on “{component.title}” under {NOTE_MAX:,} characters "
                f"(it has {len(note):,})."
            )
        clean[component.pk] = (confidence, note)
    unknown = set(ratings) - {c.pk for c in components}
    if unknown:
        errors.setdefault("__all__", []).append(
            "Some ratings are for a rubric part this micro-credential does not have."
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        assessment, created = SelfAssessment.objects.select_for_update().get_or_create(
            earner=user, version=version
        )
        before = {r.rubric_component_id: r.confidence for r in assessment.ratings.all()}
        for pk, (confidence, note) in clean.items():
            SelfAssessmentRating.objects.update_or_create(
                self_assessment=assessment,
                rubric_component_id=pk,
                defaults={"confidence": confidence, "note": note},
            )
        assessment.save(update_fields=["updated"])
        record_audit(
            user,
            "earning.self_assessment.created" if created else "earning.self_assessment.updated",
            assessment,
            data={
                "version": version.pk,
                "ratings": {str(pk): c for pk, (c, _) in clean.items()},
                "before": {str(pk): c for pk, c in before.items()},
            },
        )
    return assessment


# ---------------------------------------------------------------------------- learning plans
@dataclass(frozen=True)
class GoalView:
    goal: LearningGoal
    title: str
    url: str
    status: str
    status_label: str
    derived: bool  # status comes from attempts and credentials, not from the earner
    overdue: bool


@dataclass(frozen=True)
class PlanView:
    plan: LearningPlan | None
    goals: list[GoalView]
    principals: list[User]

    @property
    def can_send(self) -> bool:
        return (
            self.plan is not None
            and bool(self.goals)
            and bool(self.principals)
            and self.plan.sign_off in (LearningPlan.SignOff.NOT_SENT, LearningPlan.SignOff.RETURNED)
        )


def plan_of(user: Any) -> LearningPlan | None:
    return LearningPlan.objects.filter(earner=user).select_related("principal").first()


def earner_schools(user: Any) -> QuerySet[Organization]:
    return organizations_where(user, Role.EARNER).filter(kind=Organization.Kind.SCHOOL)


def principals_for(user: Any) -> list[User]:
    """The principals of the schools where the user is an earner: who may sign off the plan."""
    schools = list(earner_schools(user).values_list("pk", flat=True))
    return list(
        User.objects.filter(
            memberships__organization_id__in=schools,
            memberships__role=Role.PRINCIPAL,
            memberships__active=True,
            is_active=True,
        )
        .exclude(pk=user.pk)
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def goal_status(user: Any, goal: LearningGoal, held: dict[int, Any] | None = None) -> str:
    """Done when the credential is held (MC) or the stack is complete; in progress while an
    attempt is open on it (or one of the stack's MCs); else planned. Free text: as set."""
    from microcred.credentials.selectors import held_credentials

    if goal.micro_credential_id is None and goal.stack_id is None:
        return goal.status
    held = held_credentials(user) if held is None else held
    attempts = selectors.attempts_of(user).exclude(
        status__in=[Attempt.Status.WITHDRAWN, Attempt.Status.PREAPPROVAL_DECLINED]
    )
    if goal.micro_credential_id is not None:
        mc_id = goal.micro_credential_id
        earned = attempts.filter(
            version__micro_credential_id=mc_id, status=Attempt.Status.EARNED
        ).exists()
        if mc_id in held or earned:
            return LearningGoal.Status.DONE
        if attempts.filter(version__micro_credential_id=mc_id).exists():
            return LearningGoal.Status.IN_PROGRESS
        return LearningGoal.Status.PLANNED
    assert goal.stack is not None
    earned_ids = set(held) | set(
        attempts.filter(status=Attempt.Status.EARNED).values_list(
            "version__micro_credential_id", flat=True
        )
    )
    members = list(goal.stack.members.all())
    required_met = all(m.micro_credential_id in earned_ids for m in members if m.required)
    electives = sum(1 for m in members if not m.required and m.micro_credential_id in earned_ids)
    if (
        any(m.micro_credential_id in earned_ids for m in members)
        and required_met
        and electives >= goal.stack.min_electives
    ):
        return LearningGoal.Status.DONE
    member_ids = [m.micro_credential_id for m in members]
    if (
        set(member_ids) & earned_ids
        or attempts.filter(version__micro_credential_id__in=member_ids).exists()
    ):
        return LearningGoal.Status.IN_PROGRESS
    return LearningGoal.Status.PLANNED


def _goal_title(goal: LearningGoal) -> tuple[str, str]:
    if goal.micro_credential_id is not None:
        mc = goal.micro_credential
        assert mc is not None
        current = (
            mc.versions.filter(status=MicroCredentialVersion.Status.PUBLISHED)
            .order_by("-number")
            .first()
        )
        title = current.title if current else mc.slug
        return title, reverse("catalog:detail", args=[mc.slug])
    if goal.stack_id is not None:
        assert goal.stack is not None
        return goal.stack.title, reverse("catalog:stack", args=[goal.stack.slug])
    return "", ""


def goal_views(user: Any, plan: LearningPlan) -> list[GoalView]:
    from microcred.credentials.selectors import held_credentials

    held = held_credentials(plan.earner)
    labels = dict(LearningGoal.Status.choices)
    today = timezone.localdate()
    views = []
    for goal in plan.goals.select_related("micro_credential", "stack").prefetch_related(
        "stack__members"
    ):
        status = goal_status(plan.earner, goal, held)
        title, url = _goal_title(goal)
        views.append(
            GoalView(
                goal=goal,
                title=title,
                url=url,
                status=status,
                status_label=labels[status],
                derived=goal.micro_credential_id is not None or goal.stack_id is not None,
                overdue=bool(
                    goal.target_date
                    and goal.target_date < today
                    and status != LearningGoal.Status.DONE
                ),
            )
        )
    return views


def plan_view(user: Any) -> PlanView:
    plan = plan_of(user)
    return PlanView(
        plan=plan,
        goals=goal_views(user, plan) if plan else [],
        principals=principals_for(user),
    )


def published_micro_credentials() -> QuerySet[MicroCredential]:
    return (
        MicroCredential.objects.filter(versions__status=MicroCredentialVersion.Status.PUBLISHED)
        .distinct()
        .order_by("slug")
    )


def published_stacks() -> QuerySet[Stack]:
    return Stack.objects.filter(status=Stack.Status.PUBLISHED).order_by("title")


def _check_goal(
    plan: LearningPlan | None,
    *,
    micro_credential: MicroCredential | None,
    stack: Stack | None,
    text: str,
    target_date: datetime.date | None,
    status: str,
    goal: LearningGoal | None = None,
) -> None:
    errors: dict[str, list[str]] = {}
    if micro_credential is None and stack is None and not text:
        errors["__all__"] = [
            "Name a micro-credential or a stack, or describe the goal in your own words."
        ]
    if micro_credential is not None and stack is not None:
        errors["__all__"] = ["Choose a micro-credential or a stack for one goal, not both."]
    if len(text) > GOAL_TEXT_MAX:
        errors["text"] = [f"Keep the goal under {GOAL_TEXT_MAX:,} characters."]
    if (
        micro_credential is not None
        and not published_micro_credentials().filter(pk=micro_credential.pk).exists()
    ):
        errors["micro_credential"] = ["Choose a micro-credential from the catalog."]
    if stack is not None and stack.status != Stack.Status.PUBLISHED:
        errors["stack"] = ["Choose a stack from the catalog."]
    if target_date is not None and target_date < timezone.localdate():
        errors["target_date"] = ["Choose a target date from today on."]
    if status not in LearningGoal.Status.values:
        errors["status"] = ["Choose planned, in progress or done."]
    if plan is not None and not errors:
        same = plan.goals.exclude(pk=goal.pk if goal else None)
        if micro_credential is not None and same.filter(micro_credential=micro_credential).exists():
            errors["micro_credential"] = ["This micro-credential is already a goal of your plan."]
        if stack is not None and same.filter(stack=stack).exists():
            errors["stack"] = ["This stack is already a goal of your plan."]
    if errors:
        raise ValidationError(errors)


def _plan_changed(user: Any, plan: LearningPlan) -> None:
    """A change after the plan went to the principal needs a new sign-off."""
    if plan.sign_off in (LearningPlan.SignOff.WAITING, LearningPlan.SignOff.SIGNED_OFF):
        previous = plan.sign_off
        plan.sign_off = LearningPlan.SignOff.NOT_SENT
        plan.save(update_fields=["sign_off", "updated"])
        record_audit(
            user,
            "earning.learning_plan.sign_off_reset",
            plan,
            reason="The earner changed the plan; it needs a new sign-off.",
            data={"was": previous},
        )
    else:
        plan.save(update_fields=["updated"])


def add_goal(
    user: Any,
    *,
    micro_credential: MicroCredential | None = None,
    stack: Stack | None = None,
    text: str = "",
    target_date: datetime.date | None = None,
    status: str = LearningGoal.Status.PLANNED,
) -> LearningGoal:
    _require_earner(user)
    text = text.strip()
    plan = plan_of(user)
    _check_goal(
        plan,
        micro_credential=micro_credential,
        stack=stack,
        text=text,
        target_date=target_date,
        status=status,
    )
    with transaction.atomic():
        plan, _ = LearningPlan.objects.get_or_create(earner=user)
        goal = LearningGoal.objects.create(
            plan=plan,
            micro_credential=micro_credential,
            stack=stack,
            text=text,
            target_date=target_date,
            status=status if micro_credential is None and stack is None else "planned",
        )
        record_audit(user, "earning.learning_goal.added", goal, data=_goal_data(goal))
        _plan_changed(user, plan)
    return goal


def _goal_data(goal: LearningGoal) -> dict[str, Any]:
    return {
        "plan": goal.plan_id,
        "micro_credential": goal.micro_credential_id,
        "stack": goal.stack_id,
        "text": goal.text,
        "target_date": goal.target_date.isoformat() if goal.target_date else None,
        "status": goal.status,
    }


def goal_of(user: Any, goal_pk: int) -> LearningGoal:
    """One of the user's own goals; anyone else's is 404."""
    goal = LearningGoal.objects.filter(pk=goal_pk, plan__earner=user).select_related("plan").first()
    if goal is None:
        raise Http404("There is no such goal in your plan.")
    return goal


def update_goal(
    user: Any,
    goal: LearningGoal,
    *,
    text: str,
    target_date: datetime.date | None,
    status: str,
) -> LearningGoal:
    """Change a goal's words, target date and (free-text goals only) status."""
    text = text.strip()
    if goal.micro_credential_id or goal.stack_id:
        status = goal.status
    _check_goal(
        goal.plan,
        micro_credential=goal.micro_credential,
        stack=goal.stack,
        text=text,
        target_date=target_date if target_date != goal.target_date else None,
        status=status,
        goal=goal,
    )
    with transaction.atomic():
        before = _goal_data(goal)
        goal.text, goal.target_date, goal.status = text, target_date, status
        goal.save(update_fields=["text", "target_date", "status"])
        after = _goal_data(goal)
        if before != after:
            record_audit(
                user, "earning.learning_goal.updated", goal, data={"before": before, "after": after}
            )
            _plan_changed(user, goal.plan)
    return goal


def remove_goal(user: Any, goal: LearningGoal) -> None:
    with transaction.atomic():
        plan = goal.plan
        record_audit(user, "earning.learning_goal.removed", goal, data=_goal_data(goal))
        goal.delete()
        _plan_changed(user, plan)


def send_for_sign_off(user: Any, principal_pk: int | None) -> LearningPlan:
    """Ask one principal of the earner's school to sign the plan off; they are notified."""
    _require_earner(user)
    plan = plan_of(user)
    if plan is None or not plan.goals.exists():
        raise ValidationError("Add at least one goal before you send your plan.")
    if plan.sign_off == LearningPlan.SignOff.WAITING:
        raise ValidationError("Your plan is already waiting for your principal's sign-off.")
    if plan.sign_off == LearningPlan.SignOff.SIGNED_OFF:
        raise ValidationError("Your plan is already signed off; change it to send it again.")
    principal = next((p for p in principals_for(user) if p.pk == principal_pk), None)
    if principal is None:
        raise ValidationError({"principal": ["Choose a principal of your school."]})
    school = (
        earner_schools(user)
        .filter(
            memberships__user=principal,
            memberships__role=Role.PRINCIPAL,
            memberships__active=True,
        )
        .first()
    )
    with transaction.atomic():
        plan.sign_off = LearningPlan.SignOff.WAITING
        plan.principal = principal
        plan.school = school
        plan.sent_at = timezone.now()
        plan.decided_at = None
        plan.comment = ""
        plan.save()
        record_audit(
            user,
            "earning.learning_plan.sent",
            plan,
            organization=school,
            data={"principal": principal.pk},
        )
        notify(
            principal,
            Kind.PREAPPROVAL,
            title=f"{user.get_full_name() or user.email} asks you to sign off a learning plan",
            body="Read the goals, then sign the plan off or return it with a comment.",
            url=reverse("earning:plan_review", args=[plan.pk]),
            dedupe_key=f"plan-sent-{plan.pk}-{plan.sent_at.isoformat()}",
        )
    return plan


def _may_decide(user: Any, plan: LearningPlan) -> bool:
    return (
        plan.principal_id == user.pk
        and plan.school is not None
        and user_has_role_in(user, Role.PRINCIPAL, plan.school, include_ancestors=False)
    )


def plans_to_sign_off(user: Any) -> list[LearningPlan]:
    """The plans sent to this principal and waiting for them, oldest first."""
    plans = (
        LearningPlan.objects.filter(principal=user, sign_off=LearningPlan.SignOff.WAITING)
        .select_related("earner", "school")
        .annotate(goal_count=Count("goals"))
        .order_by("sent_at", "pk")
    )
    return [p for p in plans if _may_decide(user, p)]


def plan_for_principal(user: Any, plan_pk: int) -> LearningPlan:
    """A plan sent to this principal (waiting or already decided by them); else 404."""
    plan = (
        LearningPlan.objects.filter(pk=plan_pk, principal=user)
        .exclude(sign_off=LearningPlan.SignOff.NOT_SENT)
        .select_related("earner", "school")
        .first()
    )
    if plan is None or not _may_decide(user, plan):
        raise Http404("There is no such plan waiting for you.")
    return plan


def decide_plan(user: Any, plan: LearningPlan, *, sign_off: bool, comment: str) -> LearningPlan:
    """The principal signs the plan off, or returns it with a comment (required)."""
    comment = comment.strip()
    if not _may_decide(user, plan):
        raise Http404("There is no such plan waiting for you.")
    if plan.sign_off != LearningPlan.SignOff.WAITING:
        raise ValidationError(
            "This plan is no longer waiting for you: the earner changed it or it was decided."
        )
    if not sign_off and not comment:
        raise ValidationError(
            {"comment": ["Say what the earner should change before you return the plan."]}
        )
    if len(comment) > COMMENT_MAX:
        raise ValidationError({"comment": [f"Keep the comment under {COMMENT_MAX:,} characters."]})
    state = LearningPlan.SignOff.SIGNED_OFF if sign_off else LearningPlan.SignOff.RETURNED
    with transaction.atomic():
        plan.sign_off = state
        plan.decided_at = timezone.now()
        plan.comment = comment
        plan.save(update_fields=["sign_off", "decided_at", "comment", "updated"])
        record_audit(
            user,
            "earning.learning_plan.signed_off" if sign_off else "earning.learning_plan.returned",
            plan,
            reason=comment,
            organization=plan.school,
        )
        who = user.get_full_name() or "Your principal"
        notify(
            plan.earner,
            Kind.PREAPPROVAL,
            title=(
                f"{who} signed off your learning plan"
                if sign_off
                else f"{who} returned your learning plan with a comment"
            ),
            body=comment,
            url=reverse("earning:plan"),
            dedupe_key=f"plan-decided-{plan.pk}-{plan.decided_at.isoformat()}",
        )
    return plan

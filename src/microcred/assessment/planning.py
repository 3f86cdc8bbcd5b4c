"""Who scores what: the reads submissions still need, the assessors who may take each, and the
plan that gives them out (DESIGN.md invariant 1; issue 9).

One path serves a single submission on submit and the batch that re-plans the whole backlog:
`load_pool` reads eligibility, capacity and every conflict rule for the assessors concerned in a
fixed number of queries (never one per candidate), `open_reads` lists the reads still needed,
`solver.plan` assigns them as a min-cost flow, and `apply_plan` writes the assignments, their
audit rows and the assessors' notifications in one transaction.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone

from microcred.catalog.models import StackMember
from microcred.earning.models import Submission
from microcred.notifications.models import Kind as NotificationKind
from microcred.notifications.services import notify
from microcred.orgs.models import AuditEvent, Membership, Role
from microcred.orgs.services import SYSTEM, build_audit_event

from . import moderation, selectors, solver
from .conflicts import ConflictIndex, OrgTree, SubmissionFacts, facts_for
from .models import (
    AssessorProfile,
    Assignment,
    CalibrationAnchor,
    Qualification,
    Score,
    SecondRead,
)

Kind = Assignment.Kind
Status = Assignment.Status
CAPACITY_WINDOW = timedelta(days=7)
WAITING = (Submission.Status.AWAITING_ASSESSOR, Submission.Status.IN_SCORING)
TAKEN = (Status.ASSIGNED, Status.COMPLETED)


def scoring_days() -> int:
    return int(getattr(settings, "MICROCRED_SCORING_DAYS", 14))


# ---------------------------------------------------------------------------- the pool
@dataclass
class Pool:
    """The assessors a plan may use, with what each may score and how much more they can take."""

    profiles: dict[int, AssessorProfile]
    spare: dict[int, int]  # reads this week's capacity still allows
    load: dict[int, int]  # reads open now
    trained: dict[int, set[int]]  # micro-credential id -> profiles put forward for it
    qualified: dict[int, set[int]]  # micro-credential id -> profiles with a current qualification
    leads: set[int]  # profiles of scoring leads (third reads)
    conflicts: ConflictIndex
    tree: OrgTree


def load_pool(mc_ids: Iterable[int] | None = None, *, now: datetime | None = None) -> Pool:
    """Every active assessor trained for these MCs (all MCs when None) and every scoring lead,
    in eight queries plus the conflict index's four, whatever the pool's size."""
    now = now or timezone.now()
    mc_filter = None if mc_ids is None else set(mc_ids)
    trained: dict[int, set[int]] = defaultdict(set)
    through = AssessorProfile.qualified_micro_credentials.through.objects.all()
    if mc_filter is not None:
        through = through.filter(microcredential_id__in=mc_filter)
    for profile_id, mc_id in through.values_list("assessorprofile_id", "microcredential_id"):
        trained[mc_id].add(profile_id)
    stack_mcs: dict[int, set[int]] = defaultdict(set)
    members = StackMember.objects.all()
    if mc_filter is not None:
        members = members.filter(micro_credential_id__in=mc_filter)
    for stack_id, mc_id in members.values_list("stack_id", "micro_credential_id"):
        stack_mcs[stack_id].add(mc_id)
    for profile_id, stack_id in AssessorProfile.qualified_stacks.through.objects.filter(
        stack_id__in=stack_mcs
    ).values_list("assessorprofile_id", "stack_id"):
        for mc_id in stack_mcs[stack_id]:
            trained[mc_id].add(profile_id)
    lead_users = set(
        Membership.objects.filter(role=Role.SCORING_LEAD, active=True).values_list(
            "user_id", flat=True
        )
    )
    wanted = set().union(*trained.values()) if trained else set()
    since = now - CAPACITY_WINDOW
    live = Q(assignments__purpose__in=[Assignment.Purpose.LIVE, Assignment.Purpose.DRIFT_CHECK])
    profiles = {
        p.pk: p
        for p in AssessorProfile.objects.filter(
            Q(pk__in=wanted) | Q(user_id__in=lead_users), active=True, user__is_active=True
        )
        .annotate(
            recent=Count(
                "assignments",
                filter=live
                & Q(assignments__assigned_at__gte=since)
                & Q(assignments__status__in=TAKEN),
            ),
            open_now=Count("assignments", filter=live & Q(assignments__status=Status.ASSIGNED)),
        )
        .select_related("user")
    }
    qualified: dict[int, set[int]] = defaultdict(set)
    current = Qualification.objects.filter(
        assessor_id__in=profiles,
        status=Qualification.Status.QUALIFIED,
        recalibrate_by__gt=now,
    )
    if mc_filter is not None:
        current = current.filter(micro_credential_id__in=mc_filter)
    for profile_id, mc_id in current.values_list("assessor_id", "micro_credential_id"):
        if profile_id in trained.get(mc_id, ()):
            qualified[mc_id].add(profile_id)
    tree = OrgTree()
    return Pool(
        profiles=profiles,
        spare={pk: max(p.weekly_capacity - p.recent, 0) for pk, p in profiles.items()},
        load={pk: p.open_now for pk, p in profiles.items()},
        trained=trained,
        qualified=qualified,
        leads={pk for pk, p in profiles.items() if p.user_id in lead_users},
        conflicts=ConflictIndex.load(list(profiles.values()), tree),
        tree=tree,
    )


# ---------------------------------------------------------------------------- open reads
@dataclass(frozen=True)
class Read:
    """One read a submission still needs (or, re-planning, an unopened one it has)."""

    submission: Submission
    kind: str
    current: Assignment | None = None

    @property
    def key(self) -> tuple[int, str]:
        return (self.submission.pk, self.kind)


@dataclass
class Backlog:
    reads: list[Read]
    facts: dict[int, SubmissionFacts]
    had: dict[int, set[int]]  # submission id -> assessors who ever held it
    held: dict[int, set[int]]  # submission id -> holders of its reads being re-planned
    scored_attempt: dict[int, set[int]]  # attempt id -> assessors who scored an earlier one
    # assessor id -> their unopened reads being re-planned: places this plan may give again
    movable: Counter[int] = field(default_factory=Counter)


def _needed_kinds(
    submission: Submission, taken: set[str], second: bool, outcomes: dict[str, bool]
) -> list[str]:
    needed = []
    if Kind.PRIMARY not in taken:
        needed.append(Kind.PRIMARY)
    if second and Kind.SECOND not in taken:
        needed.append(Kind.SECOND)
    both = outcomes.keys() >= {Kind.PRIMARY, Kind.SECOND}
    if both and outcomes[Kind.PRIMARY] != outcomes[Kind.SECOND] and Kind.THIRD not in taken:
        needed.append(Kind.THIRD)
    return needed


def open_reads(submissions: Iterable[Submission] | None = None, *, replan: bool = False) -> Backlog:
    """The reads still needed by these waiting submissions (every waiting one when None). With
    `replan`, assignments nobody has opened yet are included too, holding their current
    assessor, so the plan may move them where that assigns more."""
    # The frozen portfolio (the snapshot) is not needed to plan, and is the bulk of each row.
    qs = (
        Submission.objects.filter(status__in=WAITING)
        .select_related("attempt__version__micro_credential")
        .defer("snapshot")
    )
    if submissions is not None:
        qs = qs.filter(pk__in=[s.pk for s in submissions])
    waiting = {s.pk: s for s in qs.order_by("submitted_at", "pk")}
    taken: dict[int, set[str]] = defaultdict(set)
    had: dict[int, set[int]] = defaultdict(set)
    movable: list[Assignment] = []
    for a in (
        Assignment.objects.filter(submission_id__in=waiting, purpose=Assignment.Purpose.LIVE)
        .annotate(holder_active=F("assessor__user__is_active"))
        .only("pk", "submission_id", "assessor_id", "kind", "status", "opened_at", "assigned_at")
    ):
        had[a.submission_id].add(a.assessor_id)
        if a.status in TAKEN:
            taken[a.submission_id].add(a.kind)
            # Unopened work may move; so may opened work of someone who has left.
            unopened = a.opened_at is None or not a.holder_active
            if replan and a.status == Status.ASSIGNED and unopened:
                movable.append(a)
    seconds = set(
        SecondRead.objects.filter(submission_id__in=waiting).values_list("submission_id", flat=True)
    )
    outcomes: dict[int, dict[str, bool]] = defaultdict(dict)
    for submission_id, kind, passed in Score.objects.filter(
        assignment__submission_id__in=waiting, assignment__purpose=Assignment.Purpose.LIVE
    ).values_list("assignment__submission_id", "assignment__kind", "passed"):
        outcomes[submission_id][kind] = passed
    reads = [
        Read(s, kind)
        for pk, s in waiting.items()
        for kind in _needed_kinds(s, taken[pk], pk in seconds, outcomes[pk])
    ]
    for a in movable:
        a.submission = waiting[a.submission_id]
        reads.append(Read(a.submission, a.kind, current=a))
    attempts = {s.attempt_id for s in waiting.values()}
    scored_attempt: dict[int, set[int]] = defaultdict(set)
    for attempt_id, assessor_id in Assignment.objects.filter(
        submission__attempt_id__in=attempts, status=Status.COMPLETED
    ).values_list("submission__attempt_id", "assessor_id"):
        scored_attempt[attempt_id].add(assessor_id)
    held: dict[int, set[int]] = defaultdict(set)
    for a in movable:
        held[a.submission_id].add(a.assessor_id)
    return Backlog(
        movable=Counter(a.assessor_id for a in movable),
        held=held,
        reads=reads,
        facts=facts_for({r.submission.pk: r.submission for r in reads}.values()),
        had=had,
        scored_attempt=scored_attempt,
    )


# ---------------------------------------------------------------------------- eligibility
def eligible(pool: Pool, backlog: Backlog, read: Read) -> tuple[frozenset[int], str]:
    """Who may take this read, and when nobody may, which constraint ran out first, in a
    scoring lead's words."""
    submission = read.submission
    mc_id = submission.attempt.version.micro_credential_id
    if read.kind == Kind.THIRD:
        base = set(pool.leads)
        if not base:
            return frozenset(), "No scoring lead is available to settle the disagreement."
    else:
        trained = pool.trained.get(mc_id, set())
        if not trained:
            return frozenset(), "No assessor is trained for this micro-credential."
        base = pool.qualified.get(mc_id, set()) & set(pool.profiles)
        if not base:
            if not trained & set(pool.profiles):
                return frozenset(), "Every assessor trained for it is paused."
            return frozenset(), (
                "No trained assessor holds a current calibration for this micro-credential."
            )
    # Holders of this submission's reads that are being re-planned stay candidates for all of
    # its reads (the solver keeps two reads apart itself), so its reads share one eligible set.
    others = backlog.had.get(submission.pk, set()) - backlog.held.get(submission.pk, set())
    fresh = base - others
    if not fresh:
        return frozenset(), "Every qualified assessor has already had this submission."
    free = {pk for pk in fresh if pool.spare.get(pk, 0) + backlog.movable.get(pk, 0) > 0}
    clear = free - pool.conflicts.conflicted(backlog.facts[submission.pk])
    if not free:
        return frozenset(), "Every qualified assessor is at their weekly capacity."
    if not clear:
        return frozenset(), "Every qualified assessor with time has a conflict with this earner."
    # A resubmission goes to a fresh pair of eyes whenever one is free.
    earlier = backlog.scored_attempt.get(submission.attempt_id, set())
    return frozenset(clear - earlier or clear), ""


# ---------------------------------------------------------------------------- plan and write
@dataclass
class PlanResult:
    assigned: list[Assignment] = field(default_factory=list)
    moved: int = 0
    kept: int = 0
    unassigned: dict[tuple[int, str], str] = field(default_factory=dict)  # read key -> reason
    drift_checks: list[Assignment] = field(default_factory=list)
    released: int = 0


# The solver's shortfalls in a scoring lead's words (eligibility was checked before it ran).
_SHORTFALL = {
    solver.Shortfall.TAKEN: (
        "Every eligible assessor's capacity went to other submissions in this plan."
    ),
}


def weights(seed: int | None = None) -> solver.Weights:
    return solver.Weights(seed=random.SystemRandom().randrange(2**31) if seed is None else seed)


def plan_and_assign(
    submissions: Sequence[Submission] | None = None,
    *,
    replan: bool = False,
    actor: Any = SYSTEM,
    seed: int | None = None,
) -> PlanResult:
    """Plan the reads these submissions (the whole backlog when None) still need and write the
    assignments. The assessors' rows are locked first, in id order, so two planners (a submit
    and the nightly batch, say) run one after the other and never both spend one capacity."""
    with transaction.atomic():
        backlog = open_reads(submissions, replan=replan)
        if not backlog.reads:
            return PlanResult()
        mc_ids = {r.submission.attempt.version.micro_credential_id for r in backlog.reads}
        list(AssessorProfile.objects.select_for_update().order_by("pk").values_list("pk"))
        pool = load_pool(mc_ids)
        requests: list[solver.ReadRequest] = []
        result = PlanResult()
        by_key = {}
        candidates_of: dict[tuple[int, str], frozenset[int]] = {}
        paused = set(
            AssessorProfile.objects.filter(active=False, user__is_active=True).values_list(
                "pk", flat=True
            )
        )
        stale: list[Assignment] = []
        for read in backlog.reads:
            candidates, reason = eligible(pool, backlog, read)
            holder = read.current.assessor_id if read.current else None
            if holder is not None and holder not in candidates:
                if holder in paused:
                    # Pausing stops new work only: what a paused assessor holds stays theirs.
                    continue
                # No longer eligible (left, conflicted, calibration lapsed): released, and the
                # read planned afresh.
                stale.append(read.current)
                read = Read(read.submission, read.kind)
            if not candidates:
                result.unassigned[read.key] = reason
                continue
            by_key[read.key] = read
            candidates_of[read.key] = candidates
            requests.append(
                solver.ReadRequest(
                    key=read.key,
                    submission=read.submission.pk,
                    eligible=candidates,
                    current=read.current.assessor_id if read.current else None,
                )
            )
        # A read being re-planned frees what it took: spare counts only reads this plan keeps
        # out, load only open reads it does not touch.
        spare, load = Counter(pool.spare), Counter(pool.load)
        since = timezone.now() - CAPACITY_WINDOW
        for read in by_key.values():
            if read.current is not None:
                load[read.current.assessor_id] -= 1
                if read.current.assigned_at >= since:
                    spare[read.current.assessor_id] += 1
        slots = [solver.AssessorSlot(id=pk, spare=spare[pk], load=load[pk]) for pk in pool.profiles]
        chosen_weights = weights(seed)
        plan = solver.plan(requests, slots, chosen_weights)
        readers_of: dict[int, set[int]] = defaultdict(set)
        for (submission_id, _kind), pk in plan.assigned.items():
            readers_of[submission_id].add(pk)
        for key, shortfall in plan.unassigned.items():
            # Two reads of one submission never go to one assessor: when this plan gave every
            # candidate another read of it, capacity is not what ran out.
            readers = readers_of.get(key[0], set())
            result.unassigned.setdefault(
                key,
                "Every qualified assessor has already had this submission."
                if candidates_of[key] <= readers
                else _SHORTFALL.get(shortfall, str(shortfall)),
            )
        _release(stale, pool, result, actor)
        _write(plan.assigned, by_key, pool, result, actor)
        used = Counter(a.assessor_id for a in result.assigned)
        left = {pk: spare[pk] - used[pk] for pk in pool.profiles}
        result.drift_checks = mix_anchors(
            result.assigned, pool, left, random.Random(chosen_weights.seed)
        )
    return result


def _write(
    chosen: dict[Any, int],
    by_key: dict[Any, Read],
    pool: Pool,
    result: PlanResult,
    actor: Any,
) -> None:
    now = timezone.now()
    due = now + timedelta(days=scoring_days())
    new: list[Assignment] = []
    cancelled: list[Assignment] = []
    for key, profile_id in chosen.items():
        read = by_key[key]
        if read.current is not None:
            if read.current.assessor_id == profile_id:
                result.kept += 1
                continue
            cancelled.append(read.current)
        # The pool's profile (its user loaded) rather than an id: the audit label names the
        # assessor, and a bare id would cost two queries per read.
        new.append(
            Assignment(
                submission=read.submission,
                assessor=pool.profiles[profile_id],
                kind=read.kind,
                due_at=due,
            )
        )
    for a in cancelled:
        a.assessor = pool.profiles.get(a.assessor_id) or a.assessor
    if cancelled:
        Assignment.objects.filter(pk__in=[a.pk for a in cancelled]).update(
            status=Status.CANCELLED, closed_at=now, decline_reason="Moved by a re-plan"
        )
        result.moved = len(cancelled)
    created = Assignment.objects.bulk_create(new, batch_size=1000)
    result.assigned = created
    events = [
        build_audit_event(
            actor,
            "assignment.moved",
            a,
            data={"assessor": a.assessor_id, "reason": "re-plan"},
        )
        for a in cancelled
    ]
    events += [
        build_audit_event(
            actor,
            "assignment.created",
            a,
            data={"assessor": a.assessor_id, "kind": a.kind, "submission": a.submission_id},
        )
        for a in created
    ]
    AuditEvent.objects.bulk_create(events, batch_size=1000)
    _notify(created, pool)


def _release(stale: list[Assignment], pool: Pool, result: PlanResult, actor: Any) -> None:
    """Cancel reads held by someone no longer eligible for them, audited with the reason."""
    if not stale:
        return
    Assignment.objects.filter(pk__in=[a.pk for a in stale], status=Status.ASSIGNED).update(
        status=Status.CANCELLED,
        closed_at=timezone.now(),
        decline_reason="The assessor is no longer eligible for it",
    )
    for a in stale:
        a.assessor = pool.profiles.get(a.assessor_id) or a.assessor
    AuditEvent.objects.bulk_create(
        build_audit_event(actor, "assignment.released", a, data={"assessor": a.assessor_id})
        for a in stale
    )
    result.released = len(stale)


def _notify(created: list[Assignment], pool: Pool) -> None:
    """One notification per assessor: the submission's own when one arrived, a count for more."""
    per_assessor: dict[int, list[Assignment]] = defaultdict(list)
    for a in created:
        per_assessor[a.assessor_id].append(a)
    for profile_id, assignments in per_assessor.items():
        user = pool.profiles[profile_id].user
        first = assignments[0]
        if len(assignments) == 1:
            title = f"New submission to score: {selectors.submission_code(first.submission)}"
            body = (
                f"{first.submission.attempt.version.title}. Please score it by "
                f"{timezone.localtime(first.due_at):%B %-d, %Y}, or decline it soon so someone "
                "else can."
            )
            url = reverse("assessment:score", args=[first.pk])
        else:
            title = f"{len(assignments)} new submissions to score"
            body = (
                f"Please score them by {timezone.localtime(first.due_at):%B %-d, %Y}, or "
                "decline any you cannot take soon so someone else can."
            )
            url = reverse("assessment:queue")
        notify(
            user,
            NotificationKind.ASSIGNED,
            title=title,
            body=body,
            url=url,
            dedupe_key=f"assignment:{first.pk}:assigned",
        )


@dataclass(frozen=True)
class WaitingRead:
    submission: Submission
    kind: str  # "First read", "Second read", "Third read"
    reason: str


def waiting_reads(limit: int = 200) -> list[WaitingRead]:
    """Reads nobody holds, oldest submission first, each with the constraint that ran out,
    from one backlog and one pool (the scoring leads' unassigned list)."""
    backlog = open_reads()
    if not backlog.reads:
        return []
    pool = load_pool({r.submission.attempt.version.micro_credential_id for r in backlog.reads})
    labels = dict(Kind.choices)
    rows = []
    for read in backlog.reads[:limit]:
        _candidates, reason = eligible(pool, backlog, read)
        rows.append(WaitingRead(read.submission, str(labels[read.kind]), reason))
    return rows


# ---------------------------------------------------------------------------- drift checks
def mix_anchors(
    live: Sequence[Assignment], pool: Pool, spare: dict[int, int], rng: random.Random
) -> list[Assignment]:
    """Slip anchors, unlabelled, among new live work at each MC's anchor rate, so drift shows
    in ordinary scoring: an anchor of the same MC the assessor has never had, not conflicted
    with them, only while their week has room. Each is audited like any assignment."""
    if not live:
        return []
    mc_of = {a.pk: a.submission.attempt.version.micro_credential_id for a in live}
    anchors: dict[int, list[CalibrationAnchor]] = defaultdict(list)
    for anchor in (
        CalibrationAnchor.objects.filter(
            calibration_set__active=True,
            calibration_set__version__micro_credential_id__in=set(mc_of.values()),
        )
        .exclude(submission__anchor_consent__withdrawn_at__isnull=False)
        .select_related("submission", "calibration_set__version")
    ):
        anchors[anchor.calibration_set.version.micro_credential_id].append(anchor)
    if not anchors:
        return []
    seen = set(
        Assignment.objects.filter(
            assessor_id__in={a.assessor_id for a in live},
            submission_id__in={x.submission_id for xs in anchors.values() for x in xs},
        ).values_list("assessor_id", "submission_id")
    )
    facts = facts_for(x.submission for xs in anchors.values() for x in xs)
    rates = {mc: moderation.policy_for(mc).anchor_percent for mc in anchors}
    due = timezone.now() + timedelta(days=scoring_days())
    new: list[Assignment] = []
    for a in live:
        mc = mc_of[a.pk]
        if not anchors.get(mc) or spare.get(a.assessor_id, 0) <= 0:
            continue
        if rng.random() * 100 >= rates[mc]:
            continue
        fit = [
            x
            for x in anchors[mc]
            if (a.assessor_id, x.submission_id) not in seen
            and a.assessor_id not in pool.conflicts.conflicted(facts[x.submission_id])
        ]
        if not fit:
            continue
        anchor = rng.choice(fit)
        seen.add((a.assessor_id, anchor.submission_id))
        spare[a.assessor_id] -= 1
        new.append(
            Assignment(
                submission=anchor.submission,
                assessor_id=a.assessor_id,
                purpose=Assignment.Purpose.DRIFT_CHECK,
                anchor=anchor,
                due_at=due,
            )
        )
    created = Assignment.objects.bulk_create(new)
    AuditEvent.objects.bulk_create(
        build_audit_event(SYSTEM, "assignment.drift_check", a, data={"assessor": a.assessor_id})
        for a in created
    )
    return created

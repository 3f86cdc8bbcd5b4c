"""Calibration material and the pages around it (issue 9): an earner's consent to let a decided
submission serve as an anchor, anchors a scoring lead writes for the purpose, calibration sets
with master scores, starting rounds, attesting assessors for MCs without anchors, and what a
finished round shows.

Writes check the state they start from and land in one transaction with their audit event; bad
input raises ValidationError keyed by the form fields, before anything changes. Judging rounds
and granting qualifications stay in calibration.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from microcred.catalog.models import (
    MicroCredential,
    MicroCredentialVersion,
    Rubric,
    RubricComponent,
    StackMember,
)
from microcred.earning import selectors as earning_selectors
from microcred.earning import services as earning_services
from microcred.earning.models import Attempt, Submission
from microcred.earning.selectors import is_attempt_member
from microcred.orgs.services import record_audit

from . import calibration, services
from .models import (
    AnchorComponentScore,
    AnchorConsent,
    AssessorProfile,
    Assignment,
    CalibrationAnchor,
    CalibrationRound,
    CalibrationSet,
    ComponentScore,
    Decision,
    Qualification,
    Score,
)
from .moderation import policy_for
from .selectors import submission_code


# ---------------------------------------------------------------------------- consent
def consent_submission(user: Any, submission_uuid: Any) -> Submission | None:
    """The submission when `user` is one of its earners, else None (the page answers 404, as
    for a missing one)."""
    submission = (
        Submission.objects.filter(uuid=submission_uuid).select_related("attempt__version").first()
    )
    if submission is None or not is_attempt_member(user, submission.attempt):
        return None
    return submission


def current_consent(submission: Submission) -> AnchorConsent | None:
    """The consent in force (given, not withdrawn), if any."""
    return AnchorConsent.objects.filter(submission=submission, withdrawn_at__isnull=True).first()


def _check_earner(submission: Submission, user: Any) -> None:
    if not is_attempt_member(user, submission.attempt):
        raise PermissionDenied("Only the earners of a submission decide how it is used.")
    if submission.status != Submission.Status.DECIDED:
        raise ValidationError(
            "You can share a submission for assessor training once it has been decided."
        )


def give_consent(submission: Submission, *, user: Any) -> AnchorConsent:
    """The earner lets trained assessors practise on this decided submission. Giving it again
    changes nothing; giving it after a withdrawal renews it."""
    _check_earner(submission, user)
    with transaction.atomic():
        consent = AnchorConsent.objects.select_for_update().filter(submission=submission).first()
        if consent is not None and consent.withdrawn_at is None:
            return consent
        if consent is None:
            consent = AnchorConsent.objects.create(submission=submission, given_by=user)
        else:
            consent.given_by = user
            consent.given_at = timezone.now()
            consent.withdrawn_at = None
            consent.save(update_fields=["given_by", "given_at", "withdrawn_at"])
        record_audit(user, "anchor_consent.given", consent)
    return consent


def withdraw_consent(submission: Submission, *, user: Any) -> AnchorConsent | None:
    """The earner takes the consent back: the submission joins no new set, and no new round
    gives it to anyone. Withdrawing what is not given changes nothing."""
    _check_earner(submission, user)
    with transaction.atomic():
        consent = (
            AnchorConsent.objects.select_for_update()
            .filter(submission=submission, withdrawn_at__isnull=True)
            .first()
        )
        if consent is None:
            return None
        consent.withdrawn_at = timezone.now()
        consent.save(update_fields=["withdrawn_at"])
        record_audit(user, "anchor_consent.withdrawn", consent)
    return consent


# ---------------------------------------------------------------------------- anchors in use
def _withdrawn() -> Q:
    """Anchors whose earner consent is gone (withdrawn, or never recorded)."""
    consent_in_force = AnchorConsent.objects.filter(
        submission=OuterRef("submission"), withdrawn_at__isnull=True
    )
    return Q(source=CalibrationAnchor.Source.CONSENTED) & ~Q(Exists(consent_in_force))


def usable_anchors(calibration_set: CalibrationSet) -> QuerySet[CalibrationAnchor]:
    """The anchors a new round may hand out: written ones, and consented ones whose consent
    still stands."""
    return calibration_set.anchors.exclude(_withdrawn())


def anchors_needed(calibration_set: CalibrationSet) -> int:
    """How many more usable anchors the set needs before anyone can calibrate on it."""
    policy = policy_for(calibration_set.version.micro_credential_id)
    return max(0, policy.calibration_min_anchors - usable_anchors(calibration_set).count())


# ---------------------------------------------------------------------------- sets
def publishable_versions() -> QuerySet[MicroCredentialVersion]:
    """Versions a set can be built for: those assessors score (published)."""
    return MicroCredentialVersion.objects.filter(
        status=MicroCredentialVersion.Status.PUBLISHED
    ).order_by("title")


@dataclass(frozen=True)
class SetRow:
    calibration_set: CalibrationSet
    anchors: int
    needed: int
    rounds: int


@dataclass(frozen=True)
class VersionSets:
    version: MicroCredentialVersion
    sets: list[SetRow]


def sets_by_version() -> list[VersionSets]:
    """Every calibration set, grouped by the MC version it is for, with what each lacks."""
    sets = (
        CalibrationSet.objects.select_related("version")
        .annotate(round_count=Count("rounds", distinct=True))
        .order_by("version__title", "version_id", "-active", "title")
    )
    grouped: dict[int, VersionSets] = {}
    for each in sets:
        usable = usable_anchors(each).count()
        needed = max(
            0, policy_for(each.version.micro_credential_id).calibration_min_anchors - usable
        )
        row = SetRow(each, usable, needed, each.round_count)  # type: ignore[attr-defined]
        grouped.setdefault(each.version_id, VersionSets(each.version, [])).sets.append(row)
    return list(grouped.values())


def create_set(*, actor: Any, title: str, version: MicroCredentialVersion | None) -> CalibrationSet:
    title = (title or "").strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Give the set a title, for example “Coaching anchors 2025”."
    elif len(title) > 200:
        errors["title"] = "Keep the title under 200 characters."
    if version is None or not publishable_versions().filter(pk=version.pk).exists():
        errors["version"] = "Choose a published micro-credential version."
    if errors:
        raise ValidationError(errors)
    assert version is not None
    with transaction.atomic():
        calibration_set = CalibrationSet.objects.create(
            version=version, title=title, created_by=actor
        )
        record_audit(
            actor, "calibration_set.created", calibration_set, data={"version": version.pk}
        )
    return calibration_set


def retire_set(calibration_set: CalibrationSet, *, actor: Any) -> CalibrationSet:
    """No new rounds start on a retired set; rounds already open can still be finished."""
    with transaction.atomic():
        locked = CalibrationSet.objects.select_for_update().get(pk=calibration_set.pk)
        if not locked.active:
            return locked
        locked.active = False
        locked.save(update_fields=["active"])
        record_audit(actor, "calibration_set.retired", locked)
    return locked


@dataclass(frozen=True)
class Candidate:
    """A submission a lead may add, shown by its code, never a name: a decided one its earners
    agreed to share, or one written for calibration (no band, no points: never scored)."""

    submission: Submission
    code: str
    band: str
    total_points: int | None

    @property
    def written(self) -> bool:
        return self.submission.status == Submission.Status.CALIBRATION

    @property
    def label(self) -> str:
        if self.written:
            return f"{self.code}: {WRITTEN_LABEL}"
        return f"{self.code}: decided {self.band}, {self.total_points} points"


WRITTEN_LABEL = CalibrationAnchor.Source.WRITTEN.label


def candidates(calibration_set: CalibrationSet) -> list[Candidate]:
    """Submissions of the set's version not in the set yet: decided ones whose earners consent,
    then those written for calibration."""
    decisions = (
        Decision.objects.filter(
            submission__attempt__version_id=calibration_set.version_id,
            submission__status=Submission.Status.DECIDED,
            submission__anchor_consent__withdrawn_at__isnull=True,
            submission__anchor_consent__isnull=False,
        )
        .exclude(submission__anchors__calibration_set=calibration_set)
        .select_related("submission", "band")
        .order_by("decided_at")
    )
    written = (
        Submission.objects.filter(
            attempt__version_id=calibration_set.version_id,
            status=Submission.Status.CALIBRATION,
        )
        .exclude(anchors__calibration_set=calibration_set)
        .order_by("submitted_at", "pk")
    )
    return [
        Candidate(d.submission, submission_code(d.submission), d.band.label, d.total_points)
        for d in decisions
    ] + [Candidate(s, submission_code(s), "", None) for s in written]


def rubric_components(version_id: int) -> list[RubricComponent]:
    return list(
        RubricComponent.objects.filter(rubric__version_id=version_id)
        .prefetch_related("criteria")
        .order_by("order")
    )


def _reachable(component: RubricComponent, levels: bool) -> set[int]:
    """Points the component can give: one level's points, or any sum of its details' points
    (the same rules check_marks applies to an assessor's choice)."""
    points = [c.points for c in component.criteria.all()]
    if levels:
        return set(points)
    sums = {0}
    for p in points:
        sums |= {s + p for s in sums}
    return {s for s in sums if s <= component.max_points}


def check_master_points(rubric: Rubric, points: Mapping[int, Any]) -> dict[RubricComponent, int]:
    """Master points per component, refusing any the rubric could not give. Errors are keyed
    `component_<id>` like the scoring form's."""
    errors: dict[str, str] = {}
    checked: dict[RubricComponent, int] = {}
    levels = rubric.scoring == Rubric.Scoring.LEVELS
    for component in rubric_components(rubric.version_id):
        key = f"component_{component.pk}"
        raw = points.get(component.pk)
        try:
            value = int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            errors[key] = f"“{component.title}”: enter the master's points, a whole number."
            continue
        if value < 0 or value > component.max_points:
            errors[key] = (
                f"“{component.title}”: enter between 0 and its maximum of "
                f"{component.max_points} points."
            )
        elif value not in _reachable(component, levels):
            allowed = ", ".join(str(p) for p in sorted(_reachable(component, levels)))
            errors[key] = f"“{component.title}”: its rubric gives only {allowed} points."
        else:
            checked[component] = value
    if errors:
        raise ValidationError(errors)
    return checked


def add_anchor(
    calibration_set: CalibrationSet,
    *,
    actor: Any,
    submission: Submission | None,
    points: Mapping[int, Any],
    rationale: str,
) -> CalibrationAnchor:
    """A consented, decided submission, or one written for calibration, joins the set with the
    master's points per component; the master total, band and outcome follow from them."""
    rationale = (rationale or "").strip()
    errors: dict[str, list[str]] = {}
    if not calibration_set.active:
        raise ValidationError("This set is retired: build a new one to add anchors.")
    allowed = {c.submission.pk: c for c in candidates(calibration_set)}
    if submission is None or submission.pk not in allowed:
        errors["submission"] = [
            "Choose a decided submission of this version whose earners agreed to share it, "
            "or one written for calibration."
        ]
    if not rationale:
        errors["rationale"] = [
            "Say why these are the right points: assessors read it after a round."
        ]
    rubric = Rubric.objects.get(version_id=calibration_set.version_id)
    try:
        master = check_master_points(rubric, points)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    assert submission is not None
    # Written material needs nobody's leave: its only earner is the lead who wrote it.
    written = allowed[submission.pk].written
    source = CalibrationAnchor.Source.WRITTEN if written else CalibrationAnchor.Source.CONSENTED
    total = sum(master.values())
    band = services.band_for(rubric, total)
    with transaction.atomic():
        if (
            not written
            and not AnchorConsent.objects.filter(
                submission=submission, withdrawn_at__isnull=True
            ).exists()
        ):
            raise ValidationError({"submission": "The earners have just withdrawn their consent."})
        anchor = CalibrationAnchor.objects.create(
            calibration_set=calibration_set,
            submission=submission,
            source=source,
            master_total=total,
            master_band=band,
            master_passed=band.passing,
            rationale=rationale,
            created_by=actor,
        )
        AnchorComponentScore.objects.bulk_create(
            AnchorComponentScore(anchor=anchor, rubric_component=component, points=value)
            for component, value in master.items()
        )
        record_audit(
            actor,
            "calibration_anchor.added",
            anchor,
            data={
                "set": calibration_set.pk,
                "total": total,
                "band": band.label,
                "source": source,
            },
        )
    return anchor


# ---------------------------------------------------------------------------- written anchors
def start_written_anchor(calibration_set: CalibrationSet, *, actor: Any) -> Attempt:
    """Start (or return) the anchor `actor` is writing for the set's version: an ordinary
    portfolio whose submission stays out of live scoring (earning.services.start_attempt)."""
    if not calibration_set.active:
        raise ValidationError("This set is retired: build a new one to write anchors for it.")
    attempt, _ = earning_services.start_attempt(
        calibration_set.version, user=actor, purpose=Attempt.Purpose.CALIBRATION
    )
    return attempt


def written_drafts(user: Any, version: MicroCredentialVersion) -> list[Attempt]:
    """The anchor the user is still writing for this version (at most one), to go back to."""
    draft = earning_selectors.calibration_draft(user, version)
    return [draft] if draft is not None else []


def active_sets_for(version: MicroCredentialVersion) -> list[CalibrationSet]:
    """Sets a written anchor of this version can join."""
    return list(CalibrationSet.objects.filter(version=version, active=True).order_by("title"))


def remove_anchor(anchor: CalibrationAnchor, *, actor: Any) -> None:
    """Only an anchor nobody has been given yet: a used one carries rounds' judgements."""
    with transaction.atomic():
        locked = CalibrationAnchor.objects.select_for_update().get(pk=anchor.pk)
        if Assignment.objects.filter(anchor=locked).exists():
            raise ValidationError(
                "Assessors have already scored this anchor, so it stays: retire the set and "
                "build a new one instead."
            )
        record_audit(
            actor,
            "calibration_anchor.removed",
            locked,
            data={"set": locked.calibration_set_id, "submission": locked.submission_id},
        )
        locked.delete()


@dataclass(frozen=True)
class AnchorRow:
    anchor: CalibrationAnchor
    code: str
    components: list[tuple[str, int, int]]  # title, master points, maximum
    withdrawn: bool
    used: bool

    @property
    def written(self) -> bool:
        return self.anchor.source == CalibrationAnchor.Source.WRITTEN


def anchor_rows(calibration_set: CalibrationSet) -> list[AnchorRow]:
    withdrawn = set(calibration_set.anchors.filter(_withdrawn()).values_list("pk", flat=True))
    used = set(
        Assignment.objects.filter(anchor__calibration_set=calibration_set).values_list(
            "anchor_id", flat=True
        )
    )
    anchors = calibration_set.anchors.select_related("submission", "master_band").prefetch_related(
        "master_components__rubric_component"
    )
    return [
        AnchorRow(
            anchor,
            submission_code(anchor.submission),
            [
                (m.rubric_component.title, m.points, m.rubric_component.max_points)
                for m in sorted(
                    anchor.master_components.all(), key=lambda m: m.rubric_component.order
                )
            ],
            anchor.pk in withdrawn,
            anchor.pk in used,
        )
        for anchor in anchors.order_by("created")
    ]


# ---------------------------------------------------------------------------- assessors
def trained_mc_ids(profile: AssessorProfile) -> set[int]:
    """MCs a scoring lead put the assessor forward for, directly or through a stack."""
    direct = set(profile.qualified_micro_credentials.values_list("pk", flat=True))
    stacked = set(
        StackMember.objects.filter(stack__in=profile.qualified_stacks.all()).values_list(
            "micro_credential_id", flat=True
        )
    )
    return direct | stacked


def ready_sets(mc_ids: set[int]) -> list[CalibrationSet]:
    """Active sets of these MCs with enough usable anchors to start a round."""
    sets = CalibrationSet.objects.filter(
        active=True, version__micro_credential_id__in=mc_ids
    ).select_related("version")
    return [s for s in sets.order_by("version__title", "title") if not anchors_needed(s)]


def sets_to_start(profile: AssessorProfile) -> list[CalibrationSet]:
    """Sets the assessor may calibrate on now: trained for, ready, no round open on it."""
    open_sets = set(
        profile.calibration_rounds.filter(finished_at__isnull=True).values_list(
            "calibration_set_id", flat=True
        )
    )
    return [s for s in ready_sets(trained_mc_ids(profile)) if s.pk not in open_sets]


def start_round(
    profile: AssessorProfile, calibration_set: CalibrationSet | None, *, actor: Any
) -> CalibrationRound:
    """Start a round for an assessor trained for the set's MC (calibration.start_round checks
    the set itself)."""
    if calibration_set is None:
        raise ValidationError({"calibration_set": "Choose a calibration set."})
    if calibration_set.version.micro_credential_id not in trained_mc_ids(profile):
        raise ValidationError(
            {
                "calibration_set": "This assessor is not trained for that micro-credential: "
                "add it to their profile first."
            }
        )
    own = [
        a.submission
        for a in usable_anchors(calibration_set).select_related("submission__attempt")
        if is_attempt_member(profile.user, a.submission.attempt)
    ]
    if own:
        raise ValidationError(
            {"calibration_set": "This set holds the assessor's own submission: choose another."}
        )
    try:
        return calibration.start_round(profile, calibration_set, actor=actor)
    except ValidationError as exc:
        raise ValidationError({"calibration_set": exc.messages}) from exc


def attestable_mcs(profile: AssessorProfile) -> list[MicroCredential]:
    """MCs the assessor is trained for that have no set ready to calibrate on: a scoring lead
    vouches for them instead."""
    trained = trained_mc_ids(profile)
    ready = {s.version.micro_credential_id for s in ready_sets(trained)}
    return list(MicroCredential.objects.filter(pk__in=trained - ready).order_by("slug"))


def attest(
    profile: AssessorProfile, micro_credential: MicroCredential | None, *, actor: Any, note: str
) -> Qualification:
    if micro_credential is None or micro_credential not in attestable_mcs(profile):
        raise ValidationError(
            {
                "micro_credential": "Choose a micro-credential the assessor is trained for and "
                "that has no calibration set ready: where one is, they calibrate on it."
            }
        )
    return calibration.qualify(
        profile, micro_credential, actor=actor, source=Qualification.Source.ATTESTED, note=note
    )


def mc_title(mc_id: int) -> str:
    version = (
        MicroCredentialVersion.objects.filter(
            micro_credential_id=mc_id, status=MicroCredentialVersion.Status.PUBLISHED
        )
        .order_by("-pk")
        .first()
    )
    return version.title if version else MicroCredential.objects.get(pk=mc_id).slug


@dataclass(frozen=True)
class QualificationRow:
    title: str
    status: str
    source: str
    qualified_at: datetime
    recalibrate_by: datetime
    note: str


def qualifications_of(profile: AssessorProfile) -> list[QualificationRow]:
    return [
        QualificationRow(
            mc_title(q.micro_credential_id),
            q.get_status_display(),
            q.get_source_display(),
            q.qualified_at,
            q.recalibrate_by,
            q.note,
        )
        for q in profile.qualifications.order_by("micro_credential__slug")
    ]


def rounds_of(profile: AssessorProfile) -> QuerySet[CalibrationRound]:
    return (
        profile.calibration_rounds.select_related("calibration_set__version")
        .annotate(
            anchor_count=Count("assignments"),
            scored=Count("assignments", filter=Q(assignments__status=Assignment.Status.COMPLETED)),
        )
        .order_by("-started_at")
    )


# ---------------------------------------------------------------------------- round results
@dataclass(frozen=True)
class ComponentComparison:
    title: str
    master: int
    given: int
    maximum: int
    close: bool


@dataclass(frozen=True)
class AnchorComparison:
    code: str
    master_total: int
    master_band: str
    given_total: int
    given_band: str
    same_outcome: bool
    components: list[ComponentComparison]
    rationale: str


@dataclass(frozen=True)
class RoundResult:
    calibration_round: CalibrationRound
    title: str
    anchors: int
    scored: int
    outcome_percent: int | None
    component_percent: int | None
    outcome_threshold: int
    component_threshold: int
    tolerance: int
    comparisons: list[AnchorComparison]  # empty until the round is finished


def round_for(user: Any, pk: int) -> CalibrationRound | None:
    """The round when it is the user's own or the user runs calibration, else None."""
    found = (
        CalibrationRound.objects.filter(pk=pk)
        .select_related("assessor__user", "calibration_set__version")
        .first()
    )
    if found is None:
        return None
    if found.assessor.user_id == getattr(user, "pk", None) or user.has_perm(
        "assessment.manage_calibration"
    ):
        return found
    return None


def _percent(share: float | None) -> int | None:
    return None if share is None else round(share * 100)


def round_result(calibration_round: CalibrationRound) -> RoundResult:
    policy = policy_for(calibration_round.calibration_set.version.micro_credential_id)
    assignments = list(calibration_round.assignments.all())
    comparisons: list[AnchorComparison] = []
    if calibration_round.finished_at is not None:
        comparisons = _comparisons(calibration_round)
    return RoundResult(
        calibration_round=calibration_round,
        title=calibration_round.calibration_set.version.title,
        anchors=len(assignments),
        scored=sum(a.status == Assignment.Status.COMPLETED for a in assignments),
        outcome_percent=_percent(calibration_round.outcome_agreement),
        component_percent=_percent(calibration_round.component_agreement),
        outcome_threshold=policy.calibration_outcome_percent,
        component_threshold=policy.calibration_component_percent,
        tolerance=calibration.COMPONENT_TOLERANCE,
        comparisons=comparisons,
    )


def _comparisons(calibration_round: CalibrationRound) -> list[AnchorComparison]:
    scores = (
        Score.objects.filter(assignment__calibration_round=calibration_round)
        .select_related("band", "assignment__submission", "assignment__anchor__master_band")
        .order_by("assignment__pk")
    )
    given: dict[tuple[int, int], int] = {
        (score_id, component_id): points
        for score_id, component_id, points in ComponentScore.objects.filter(
            score__in=scores
        ).values_list("score_id", "rubric_component_id", "points")
    }
    masters = AnchorComponentScore.objects.filter(
        anchor__in=[s.assignment.anchor_id for s in scores]
    ).select_related("rubric_component")
    by_anchor: dict[int, list[AnchorComponentScore]] = {}
    for m in sorted(masters, key=lambda m: m.rubric_component.order):
        by_anchor.setdefault(m.anchor_id, []).append(m)
    tolerance = calibration.COMPONENT_TOLERANCE
    result = []
    for score in scores:
        anchor = score.assignment.anchor
        assert anchor is not None
        parts = [
            ComponentComparison(
                m.rubric_component.title,
                m.points,
                given.get((score.pk, m.rubric_component_id), 0),
                m.rubric_component.max_points,
                abs(given.get((score.pk, m.rubric_component_id), 0) - m.points) <= tolerance,
            )
            for m in by_anchor.get(anchor.pk, [])
        ]
        result.append(
            AnchorComparison(
                code=submission_code(score.assignment.submission),
                master_total=anchor.master_total,
                master_band=anchor.master_band.label,
                given_total=score.total_points,
                given_band=score.band.label,
                same_outcome=score.passed == anchor.master_passed,
                components=parts,
                rationale=anchor.rationale,
            )
        )
    return result

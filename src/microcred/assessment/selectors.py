"""Reads of the assessment app: blind codes, assessors' queues, the scoring sheet, the
unassigned list for scoring leads, and the feedback an earner reads.

Blindness (DESIGN.md invariant 2) is kept here: what an assessor's pages and API get is built
from these dataclasses, which carry a submission code, never the earner's name, email or
organization.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from microcred.catalog.models import OutcomeBand, Rubric, RubricComponent, RubricCriterion
from microcred.earning.evidence_access import COPY_MESSAGES, copy_state, signed_url
from microcred.earning.models import Submission
from microcred.earning.selectors import submission_evidence

from .models import AssessorProfile, Assignment, ComponentScore, Decision, Score

Status = Assignment.Status


def submission_code(submission: Submission) -> str:
    """A short, stable code standing in for the earner's name: "S-7F3K2"."""
    letters = base64.b32encode(submission.uuid.bytes).decode()
    return f"S-{letters[:5]}"


def profile_of(user: Any) -> AssessorProfile | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return AssessorProfile.objects.filter(user=user).first()


def is_assigned(user: Any, submission: Submission) -> bool:
    """An open or completed assignment of this user on this submission (evidence access)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Assignment.objects.filter(
        submission=submission,
        assessor__user=user,
        status__in=[Status.ASSIGNED, Status.COMPLETED],
    ).exists()


# ---------------------------------------------------------------------------- the queue
@dataclass(frozen=True)
class QueueRow:
    """One line of an assessor's queue: nothing here names the earner."""

    assignment_id: int
    code: str
    title: str
    resubmission: bool
    kind: str
    status: str
    is_open: bool
    assigned_at: datetime
    due_at: datetime


def queue_row(a: Assignment) -> QueueRow:
    return QueueRow(
        assignment_id=a.pk,
        code=submission_code(a.submission),
        title=a.submission.attempt.version.title,
        resubmission=a.submission.number > 1,
        # Drift checks read as live work on purpose; calibration rounds say what they are.
        kind=(
            a.get_purpose_display()
            if a.purpose == Assignment.Purpose.CALIBRATION
            else a.get_kind_display()
        ),
        status=a.get_status_display(),
        is_open=a.status == Status.ASSIGNED,
        assigned_at=a.assigned_at,
        due_at=a.due_at,
    )


def assignments_of(user: Any) -> list[QueueRow]:
    """The user's assignments, open ones first (soonest due), then the closed ones."""
    rows = Assignment.objects.filter(assessor__user=user).select_related(
        "submission__attempt__version"
    )
    queue = [queue_row(a) for a in rows]
    return sorted(queue, key=lambda r: (not r.is_open, r.due_at if r.is_open else r.assigned_at))


# ---------------------------------------------------------------------------- the scoring sheet
@dataclass(frozen=True)
class SheetComponent:
    component: RubricComponent
    criteria: list[RubricCriterion]


@dataclass(frozen=True)
class ScoringSheet:
    rubric: Rubric
    components: list[SheetComponent]
    bands: list[OutcomeBand]  # highest first

    @property
    def total_points(self) -> int:
        return sum(c.component.max_points for c in self.components)

    @property
    def levels(self) -> bool:
        return self.rubric.scoring == Rubric.Scoring.LEVELS

    def bands_data(self) -> list[dict[str, Any]]:
        """What the page's script needs to show the band live."""
        return [
            {"label": b.label, "min": b.min_points, "max": b.max_points, "passing": b.passing}
            for b in self.bands
        ]


def scoring_sheet(version_id: int) -> ScoringSheet:
    rubric = Rubric.objects.prefetch_related(
        Prefetch(
            "components",
            queryset=RubricComponent.objects.order_by("order").prefetch_related(
                Prefetch("criteria", queryset=RubricCriterion.objects.order_by("order"))
            ),
        )
    ).get(version_id=version_id)
    return ScoringSheet(
        rubric=rubric,
        components=[SheetComponent(c, list(c.criteria.all())) for c in rubric.components.all()],
        bands=list(rubric.bands.order_by("-min_points")),
    )


def assignment_for(user: Any, pk: int) -> Assignment | None:
    """The user's own assignment, or None (the same answer as for a missing one)."""
    return (
        Assignment.objects.filter(pk=pk, assessor__user=user)
        .select_related("assessor__user", "submission__attempt__version")
        .first()
    )


@dataclass(frozen=True)
class EarlierRead:
    label: str  # "Read 1": never the assessor's name
    score: Score


@dataclass(frozen=True)
class Settlement:
    """What a scoring lead sees of the two reads a third read settles."""

    reads: list[EarlierRead]
    rows: list[tuple[str, int, list[int]]]  # component title, maximum, points per read


def earlier_reads(assignment: Assignment) -> Settlement | None:
    """For a third read only: the two reads that disagreed, for the scoring lead who settles
    them. First and second readers never see each other's scores."""
    if assignment.kind != Assignment.Kind.THIRD:
        return None
    scores = (
        Score.objects.filter(
            assignment__submission_id=assignment.submission_id,
            assignment__purpose=Assignment.Purpose.LIVE,
            assignment__kind__in=[Assignment.Kind.PRIMARY, Assignment.Kind.SECOND],
        )
        .select_related("band", "assignment")
        .prefetch_related("components")
        .order_by("assignment__kind")
    )
    points = [{c.rubric_component_id: c.points for c in s.components.all()} for s in scores]
    components = RubricComponent.objects.filter(
        rubric__version_id=assignment.submission.attempt.version_id
    ).order_by("order")
    return Settlement(
        reads=[EarlierRead(f"Read {n}", s) for n, s in enumerate(scores, start=1)],
        rows=[(c.title, c.max_points, [p.get(c.pk, 0) for p in points]) for c in components],
    )


def score_of(assignment: Assignment) -> Score | None:
    return (
        Score.objects.filter(assignment=assignment)
        .select_related("band")
        .prefetch_related("components__rubric_component")
        .first()
    )


# ---------------------------------------------------------------------------- scoring leads
def unassigned_submissions() -> QuerySet[Submission]:
    """Submissions waiting for a first read with nobody on it, oldest first."""
    taken = Assignment.objects.filter(
        submission=OuterRef("pk"),
        kind=Assignment.Kind.PRIMARY,
        status__in=[Status.ASSIGNED, Status.COMPLETED],
    )
    return (
        Submission.objects.filter(
            status__in=[Submission.Status.AWAITING_ASSESSOR, Submission.Status.IN_SCORING]
        )
        .exclude(Exists(taken))
        .select_related("attempt__version")
        .order_by("submitted_at")
    )


def assessor_profiles(search: str = "") -> QuerySet[AssessorProfile]:
    qs = AssessorProfile.objects.select_related("user", "home_organization").annotate(
        open_count=Count("assignments", filter=Q(assignments__status=Status.ASSIGNED))
    )
    if search.strip():
        term = search.strip()
        qs = qs.filter(
            Q(user__email__icontains=term)
            | Q(user__first_name__icontains=term)
            | Q(user__last_name__icontains=term)
            | Q(user__display_name__icontains=term)
        )
    return qs.order_by("user__email")


# ---------------------------------------------------------------------------- feedback
@dataclass(frozen=True)
class ComponentFeedback:
    title: str
    points: int
    max_points: int
    feedback: str


@dataclass(frozen=True)
class FeedbackView:
    """What the earner reads about a decided submission; never who the assessor was."""

    outcome: str
    outcome_label: str
    earned: bool
    band: str
    band_description: str
    total_points: int
    max_points: int
    components: list[ComponentFeedback]
    overall_feedback: str
    decided_at: datetime


def carrying_score(decision: Decision, prefix: str = "") -> Q:
    """Filter for the read that carries a decision (the third when two reads differed);
    decisions made before double scoring existed name none and were the first read's."""
    if decision.score_id:
        return Q(**{f"{prefix}pk": decision.score_id})
    return Q(
        **{
            f"{prefix}assignment__submission_id": decision.submission_id,
            f"{prefix}assignment__kind": Assignment.Kind.PRIMARY,
        }
    )


def feedback_for(submission: Submission) -> FeedbackView | None:
    decision = Decision.objects.filter(submission=submission).select_related("band").first()
    if decision is None:
        return None
    score = (
        Score.objects.filter(carrying_score(decision))
        .select_related("band")
        .prefetch_related(
            Prefetch(
                "components",
                queryset=ComponentScore.objects.select_related("rubric_component").order_by(
                    "rubric_component__order"
                ),
            )
        )
        .first()
    )
    if score is None:
        return None
    parts = [
        ComponentFeedback(
            title=c.rubric_component.title,
            points=c.points,
            max_points=c.rubric_component.max_points,
            feedback=c.feedback,
        )
        for c in score.components.all()
    ]
    return FeedbackView(
        outcome=decision.outcome,
        outcome_label=decision.get_outcome_display(),
        earned=decision.outcome == decision.Outcome.EARNED,
        band=decision.band.label,
        band_description=decision.band.description,
        total_points=decision.total_points,
        max_points=sum(p.max_points for p in parts),
        components=parts,
        overall_feedback=score.overall_feedback,
        decided_at=decision.decided_at,
    )


# ---------------------------------------------------------------------------- the evidence
@dataclass(frozen=True)
class ScoringFile:
    """One submitted file as the scoring page shows it, with short-lived links."""

    label: str  # "Video 1": never the uploaded file's name, which may name the earner
    media: str  # "video", "audio", "image" or "file"
    url: str
    poster_url: str
    annotations: list[Any]  # earning's FrozenAnnotation: seconds, note, component, timestamp
    # "ready" (url works), "preparing" (its clean copy is being made) or "unavailable", with
    # a plain-language message for the last two (evidence_access.copy_state).
    status: str = "ready"
    message: str = ""

    def annotation_data(self) -> list[dict[str, Any]]:
        return [
            {
                "seconds": a.seconds,
                "component": a.component.pk if a.component else None,
                "note": a.note,
            }
            for a in self.annotations
        ]


@dataclass(frozen=True)
class ScoringPart:
    title: str
    instructions: str
    text: str
    files: list[ScoringFile]


def _media_kind(content_type: str) -> str:
    kind = content_type.split("/", 1)[0]
    return kind if kind in ("video", "audio", "image") else "file"


def scoring_evidence(user: Any, assignment: Assignment) -> list[ScoringPart]:
    """The frozen portfolio, part by part, with links the assessor's browser may open for a
    few minutes. Evidence is for an open or scored assignment only: once declined, expired or
    cancelled, the assessor no longer sees it (invariant 6)."""
    if assignment.status not in (Status.ASSIGNED, Status.COMPLETED):
        return []
    parts = []
    for view in submission_evidence(assignment.submission):
        files = []
        for n, artifact in enumerate(view.artifacts, start=1):
            upload = artifact.upload
            media = _media_kind(artifact.content_type)
            url = poster = ""
            if upload is not None:
                if media in ("video", "audio"):
                    url = signed_url(user, upload, variant="playable")
                url = url or signed_url(user, upload, variant="original")
                if media == "video":
                    poster = signed_url(user, upload, variant="poster")
            label = f"{media.capitalize()} {n}"
            state = copy_state(upload, has_link=bool(url))
            files.append(
                ScoringFile(
                    label,
                    media,
                    url,
                    poster,
                    artifact.annotations,
                    status=state.value,
                    message=COPY_MESSAGES[state],
                )
            )
        parts.append(
            ScoringPart(view.requirement.title, view.requirement.instructions, view.text, files)
        )
    return parts

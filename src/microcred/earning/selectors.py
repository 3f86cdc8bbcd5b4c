"""Reads for earning: who is on an attempt, the portfolio with its checklist, submissions and
their evidence, pre-approval requests, invitations and the earner's dashboard.

`word_count` is the one place that decides how words are counted: the save check, the submit
check and the page all call it (portfolio.js mirrors the same rule for the live count).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import rules
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse

from microcred.catalog.models import (
    Approval,
    ApprovedUse,
    EvidenceRequirement,
    MicroCredentialVersion,
    RubricComponent,
)
from microcred.orgs import programs
from microcred.orgs.models import Organization, Role
from microcred.orgs.selectors import (
    organizations_where,
    role_organization_ids,
    user_has_role_in,
)

from .durations import check_duration, describe_bounds, format_duration
from .models import (
    Annotation,
    Artifact,
    Attempt,
    EvidenceItem,
    PreApproval,
    Submission,
    TeamMember,
    Upload,
)
from .uploads.policy import DEFAULT_MAX_BYTES, MiB, UploadPolicy

Kind = EvidenceRequirement.Kind
_WORD = re.compile(r"\S+")


def word_count(text: str) -> int:
    """Words are runs of non-space characters: "don't" and "3:15" are one word each."""
    return len(_WORD.findall(text or ""))


def word_limit_problem(requirement: EvidenceRequirement, text: str) -> str | None:
    words, limit = word_count(text), requirement.word_limit
    if limit and words > limit:
        return (
            f"“{requirement.title}” has {words:,} words; the limit is {limit:,}. "
            f"Shorten it by {words - limit:,}."
        )
    return None


# ---------------------------------------------------------------------------- people
def earner_school(user: Any) -> Organization | None:
    """The school where the user holds the earner role (the first, when there are several)."""
    return organizations_where(user, Role.EARNER).filter(kind=Organization.Kind.SCHOOL).first()


def active_team_members(attempt: Attempt) -> QuerySet[TeamMember]:
    if attempt.team_id is None:
        return TeamMember.objects.none()
    return attempt.team.members.filter(status=TeamMember.Status.ACTIVE).select_related("user")


def attempt_members(attempt: Attempt) -> list[Any]:
    """Everyone credited on success: the earner, and every active member of the team."""
    members = [attempt.earner]
    members += [m.user for m in active_team_members(attempt) if m.user_id != attempt.earner_id]
    return members


def is_attempt_member(user: Any, attempt: Attempt) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if attempt.earner_id == user.pk:
        return True
    return active_team_members(attempt).filter(user_id=user.pk).exists()


def attempt_for(user: Any, attempt_uuid: Any, *, perm: str = "earning.view_attempt") -> Attempt:
    """The attempt, if this user may see it; otherwise the same 404 as for a missing one."""
    attempt = (
        Attempt.objects.select_related("version", "team", "school", "earner")
        .filter(uuid=attempt_uuid)
        .first()
    )
    if attempt is None:
        raise Http404("There is no such attempt.")
    # The rule set itself first: user.has_perm also passes every superuser, who may read a
    # portfolio (admin access to evidence, audited: invariant 6) but never change one, as
    # with uploads (uploads.selectors.upload_for).
    if rules.has_perm(perm, user, attempt):
        return attempt
    if perm == "earning.view_attempt" and user.has_perm(perm, attempt):
        from .evidence_access import record_admin_access

        record_admin_access(user, attempt, data={"what": "portfolio"})
        return attempt
    raise Http404("There is no such attempt.")


def open_attempt(user: Any, version: MicroCredentialVersion) -> Attempt | None:
    """The user's unfinished attempt (own or as a team member) at this micro-credential.
    Anchors a scoring lead writes for calibration are not attempts to earn it."""
    closed = [Attempt.Status.EARNED, Attempt.Status.WITHDRAWN, Attempt.Status.PREAPPROVAL_DECLINED]
    return (
        Attempt.objects.filter(
            version__micro_credential_id=version.micro_credential_id,
            purpose=Attempt.Purpose.EARNING,
        )
        .filter(
            Q(earner=user)
            | Q(team__members__user=user, team__members__status=TeamMember.Status.ACTIVE)
        )
        .exclude(status__in=closed)
        .order_by("-created")
        .first()
    )


def calibration_draft(user: Any, version: MicroCredentialVersion) -> Attempt | None:
    """The anchor the user is still writing for this version, if any: one at a time, so a
    second click on "Write an anchor" returns to it."""
    return (
        Attempt.objects.filter(
            version=version,
            earner=user,
            purpose=Attempt.Purpose.CALIBRATION,
            status__in=Attempt.EDITABLE,
        )
        .order_by("-created")
        .first()
    )


def school_colleagues(attempt: Attempt) -> QuerySet[Any]:
    """Earners of the attempt's school who are not on the team yet: whom one may invite."""
    from microcred.orgs.models import User

    if attempt.school_id is None:
        return User.objects.none()
    taken = [attempt.earner_id]
    if attempt.team_id:
        taken += list(
            attempt.team.members.exclude(status=TeamMember.Status.DECLINED).values_list(
                "user_id", flat=True
            )
        )
    return (
        User.objects.filter(
            memberships__organization_id=attempt.school_id,
            memberships__role=Role.EARNER,
            memberships__active=True,
            is_active=True,
        )
        .exclude(pk__in=taken)
        .distinct()
        .order_by("last_name", "first_name", "email")
    )


def invitations_for(user: Any) -> QuerySet[TeamMember]:
    return TeamMember.objects.filter(user=user, status=TeamMember.Status.INVITED).select_related(
        "team__attempt__version", "invited_by"
    )


# ---------------------------------------------------------------------------- pre-approval
def _approvals_of_lea(
    version: MicroCredentialVersion, school: Organization | None
) -> QuerySet[Approval]:
    """Active approvals of the version by the school's LEA or the state above it."""
    if school is None or school.parent_id is None:
        return Approval.objects.none()
    lea = school.parent
    recognizers = [lea.pk] + ([lea.parent_id] if lea.parent_id else [])
    return Approval.objects.filter(
        version=version, recognizer_id__in=recognizers, withdrawn_at__isnull=True
    )


def _preapproval_approvals(
    version: MicroCredentialVersion, school: Organization | None
) -> QuerySet[Approval]:
    """Active approvals of the version, by the school's LEA or the state above it, that ask
    for pre-approval."""
    return _approvals_of_lea(version, school).filter(requires_preapproval=True)


def preapproval_uses(version: MicroCredentialVersion, school: Organization | None) -> list[str]:
    """Uses for which the earner's LEA (or the state above it) asks for pre-approval. Where
    the LEA's program asks it for every start (orgs.programs), every use the LEA or the state
    approved the version for, or professional learning when there is none."""
    uses = set(_preapproval_approvals(version, school).values_list("use", flat=True))
    if programs.requires_preapproval(school):
        uses |= set(_approvals_of_lea(version, school).values_list("use", flat=True)) or {
            ApprovedUse.PROFESSIONAL_LEARNING.value
        }
    return sorted(uses)


def preapproval_recognizer_ids(preapproval: PreApproval) -> set[int]:
    """The organizations that asked for this pre-approval: their recognizer admins decide."""
    attempt = preapproval.attempt
    approvals = _preapproval_approvals(attempt.version, attempt.school).filter(use=preapproval.use)
    return set(approvals.values_list("recognizer_id", flat=True))


def can_decide_preapproval(user: Any, preapproval: PreApproval) -> bool:
    """A principal of the earner's school, or a recognizer admin of the organization that
    asks for the pre-approval (the LEA or the state)."""
    school = preapproval.attempt.school
    if school is None or preapproval.attempt.earner_id == user.pk:
        return False
    if user_has_role_in(user, Role.PRINCIPAL, school, include_ancestors=False):
        return True
    held = role_organization_ids(user).get(Role.RECOGNIZER_ADMIN, frozenset())
    return bool(held & preapproval_recognizer_ids(preapproval))


def pending_preapprovals(user: Any) -> list[PreApproval]:
    pending = PreApproval.objects.filter(status=PreApproval.Status.PENDING).select_related(
        "attempt__version", "attempt__earner", "attempt__school__parent"
    )
    schools = list(organizations_where(user, Role.PRINCIPAL).values_list("pk", flat=True))
    recognizer_orgs = list(
        organizations_where(user, Role.RECOGNIZER_ADMIN).values_list("pk", flat=True)
    )
    pending = pending.filter(
        Q(attempt__school_id__in=schools)
        | Q(attempt__school__parent_id__in=recognizer_orgs)
        | Q(attempt__school__parent__parent_id__in=recognizer_orgs)
    )
    return [p for p in pending.order_by("attempt__created") if can_decide_preapproval(user, p)]


# ---------------------------------------------------------------------------- the portfolio
@dataclass
class ArtifactView:
    artifact: Artifact
    upload: Upload
    duration: str
    problem: str | None
    annotations: list[Annotation]


@dataclass
class ItemView:
    """One requirement of the portfolio, with the earner's work on it and what is missing."""

    requirement: EvidenceRequirement
    item: EvidenceItem | None
    words: int
    artifacts: list[ArtifactView]
    problems: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.item.text if self.item else ""

    @property
    def takes_text(self) -> bool:
        return self.requirement.kind in EvidenceRequirement.TEXT_KINDS

    @property
    def takes_files(self) -> bool:
        return not self.takes_text

    @property
    def room_for_files(self) -> bool:
        return len(self.artifacts) < self.requirement.max_files

    @property
    def annotation_count(self) -> int:
        return sum(len(a.annotations) for a in self.artifacts)

    @property
    def needed_annotations(self) -> int:
        if not self.requirement.requires_annotations:
            return 0
        return max(1, self.requirement.min_annotations)

    @property
    def bounds(self) -> str:
        r = self.requirement
        return describe_bounds(r.min_duration_seconds, r.max_duration_seconds)

    @property
    def complete(self) -> bool:
        return not self.problems


@dataclass
class Portfolio:
    attempt: Attempt
    items: list[ItemView]
    components: list[RubricComponent]

    @property
    def missing(self) -> list[tuple[ItemView, str]]:
        return [(item, problem) for item in self.items for problem in item.problems]

    @property
    def complete(self) -> bool:
        return not self.missing


def _item_problems(view: ItemView) -> list[str]:
    """What still keeps this part from being submitted, in words a teacher acts on."""
    r = view.requirement
    problems: list[str] = []
    if view.takes_text:
        if not view.text.strip():
            problems.append(f"Write your answer to “{r.title}”.")
        elif limit := word_limit_problem(r, view.text):
            problems.append(limit)
        return problems
    if not view.artifacts:
        problems.append(f"Upload a file for “{r.title}”.")
    problems += [f"“{a.upload.filename}”: {a.problem}" for a in view.artifacts if a.problem]
    # The snapshot freezes each file's content hash: wait until the upload task computed it.
    problems += [
        f"We are still checking “{a.upload.filename}”. Try again in a minute."
        for a in view.artifacts
        if not a.upload.sha256 and not a.problem
    ]
    needed = view.needed_annotations
    if view.artifacts and view.annotation_count < needed:
        problems.append(
            f"Add at least {needed} time-stamped note{'s' if needed > 1 else ''} to "
            f"“{r.title}” (you have {view.annotation_count})."
        )
    return problems


def portfolio(attempt: Attempt) -> Portfolio:
    requirements = list(attempt.version.evidence_requirements.order_by("order"))
    items = {
        i.requirement_id: i
        for i in attempt.evidence.prefetch_related(
            "artifacts__upload", "artifacts__annotations__rubric_component"
        )
    }
    views: list[ItemView] = []
    for requirement in requirements:
        item = items.get(requirement.pk)
        artifacts = []
        for artifact in item.artifacts.all() if item else []:
            upload = artifact.upload
            artifacts.append(
                ArtifactView(
                    artifact=artifact,
                    upload=upload,
                    duration=(
                        format_duration(upload.duration_seconds)
                        if upload.duration_seconds is not None
                        else ""
                    ),
                    problem=check_duration(
                        upload, requirement.min_duration_seconds, requirement.max_duration_seconds
                    ),
                    annotations=list(artifact.annotations.all()),
                )
            )
        view = ItemView(
            requirement=requirement,
            item=item,
            words=word_count(item.text if item else ""),
            artifacts=artifacts,
        )
        view.problems = _item_problems(view)
        views.append(view)
    components = list(
        RubricComponent.objects.filter(rubric__version=attempt.version).order_by("order")
    )
    return Portfolio(attempt=attempt, items=views, components=components)


def submissions_of(attempt: Attempt) -> list[Submission]:
    return list(attempt.submissions.order_by("-number"))


def latest_submission(attempt: Attempt) -> Submission | None:
    return attempt.submissions.order_by("-number").first()


@dataclass(frozen=True)
class DetailResult:
    """One rubric detail (or level) and whether the assessor found it in the evidence."""

    label: str
    text: str
    met: bool


@dataclass(frozen=True)
class ComponentResult:
    """One rubric component of a decision: points, the details met and not met, feedback."""

    title: str
    points: int
    max_points: int
    feedback: str
    details: list[DetailResult]
    levels: bool  # the rubric chooses one level per component instead of checking details

    @property
    def met(self) -> list[DetailResult]:
        return [d for d in self.details if d.met]

    @property
    def not_met(self) -> list[DetailResult]:
        return [d for d in self.details if not d.met]

    @property
    def complete(self) -> bool:
        return self.points >= self.max_points


class EarnerFeedback:
    """What the earner reads about a decided submission (never who the assessor was): the
    decision, and per rubric component which details were met and which were not, with the
    assessor's feedback. `revised` says whether the live portfolio has changed since."""

    def __init__(self, submission: Submission, base: Any, components: list[ComponentResult]):
        self.submission = submission
        self.outcome: str = base.outcome
        self.outcome_label: str = base.outcome_label
        self.earned: bool = base.earned
        self.band: str = base.band
        self.band_description: str = base.band_description
        self.total_points: int = base.total_points
        self.max_points: int = base.max_points
        self.overall_feedback: str = base.overall_feedback
        self.decided_at = base.decided_at
        self.components = components

    @property
    def not_yet(self) -> bool:
        return not self.earned

    @cached_property
    def revised(self) -> bool:
        """Whether the earner changed the portfolio after this submission (text, files or
        notes): compared with the frozen snapshot, so undoing a change counts as unchanged."""
        return _fingerprint_live(self.submission.attempt) != _fingerprint_snapshot(
            self.submission.snapshot
        )


def _fingerprint_live(attempt: Attempt) -> list[Any]:
    return [
        (
            view.requirement.pk,
            view.text,
            [
                (
                    str(a.upload.pk),
                    [(n.seconds, n.rubric_component_id, n.note) for n in a.annotations],
                )
                for a in view.artifacts
            ],
        )
        for view in portfolio(attempt).items
    ]


def _fingerprint_snapshot(snapshot: dict[str, Any]) -> list[Any]:
    return [
        (
            part.get("requirement"),
            part.get("text", ""),
            [
                (
                    a.get("upload"),
                    [(n["seconds"], n["component"], n["note"]) for n in a.get("notes", [])],
                )
                for a in part.get("artifacts", [])
            ],
        )
        for part in snapshot.get("items", [])
    ]


def feedback_for(submission: Submission) -> EarnerFeedback | None:
    """The assessor's decision and feedback (never who the assessor was), or None; per
    component, the rubric details met and not met by the read that carries the decision."""
    from microcred.assessment.models import ComponentScore, Decision
    from microcred.assessment.selectors import carrying_score
    from microcred.assessment.selectors import feedback_for as assessment_feedback

    base = assessment_feedback(submission)
    if base is None:
        return None
    decision = Decision.objects.get(submission=submission)
    scores = list(
        ComponentScore.objects.filter(carrying_score(decision, "score__"))
        .select_related("rubric_component__rubric")
        .prefetch_related("rubric_component__criteria")
        .order_by("rubric_component__order")
    )
    components = []
    for score in scores:
        component = score.rubric_component
        met = {int(pk) for pk in score.criteria_met if str(pk).isdigit()}
        levels = component.rubric.scoring == "levels"
        details = [
            DetailResult(label=c.label, text=c.text, met=c.pk in met)
            for c in component.criteria.all()
        ]
        if levels:
            details = [d for d in details if d.met]
        components.append(
            ComponentResult(
                title=component.title,
                points=score.points,
                max_points=component.max_points,
                feedback=score.feedback,
                details=details,
                levels=levels,
            )
        )
    return EarnerFeedback(submission, base, components)


# ---------------------------------------------------------------------------- frozen evidence
@dataclass(frozen=True)
class FrozenAnnotation:
    seconds: int
    note: str
    component: RubricComponent | None

    @property
    def timestamp(self) -> str:
        return f"{self.seconds // 60}:{self.seconds % 60:02d}"


@dataclass(frozen=True)
class FrozenArtifact:
    upload: Upload | None
    filename: str
    size: int
    content_type: str
    sha256: str
    duration_seconds: float | None
    annotations: list[FrozenAnnotation]


@dataclass(frozen=True)
class EvidenceView:
    """One requirement as it was submitted: what assessors score."""

    requirement: EvidenceRequirement
    text: str
    artifacts: list[FrozenArtifact]


def submission_evidence(submission: Submission) -> list[EvidenceView]:
    """The frozen snapshot, rendered per requirement (never the live, editable portfolio)."""
    snapshot = submission.snapshot
    requirements = {
        r.pk: r for r in submission.attempt.version.evidence_requirements.order_by("order")
    }
    upload_ids = [a["upload"] for part in snapshot["items"] for a in part["artifacts"]]
    uploads = {str(u.pk): u for u in Upload.objects.filter(pk__in=upload_ids)}
    component_ids = {
        n["component"] for part in snapshot["items"] for a in part["artifacts"] for n in a["notes"]
    }
    components = {c.pk: c for c in RubricComponent.objects.filter(pk__in=component_ids)}
    views = []
    for part in snapshot["items"]:
        artifacts = [
            FrozenArtifact(
                upload=uploads.get(a["upload"]),
                filename=a["filename"],
                size=a["size"],
                content_type=a["content_type"],
                sha256=a["sha256"],
                duration_seconds=a["duration_seconds"],
                annotations=[
                    FrozenAnnotation(n["seconds"], n["note"], components.get(n["component"]))
                    for n in a["notes"]
                ],
            )
            for a in part["artifacts"]
        ]
        views.append(EvidenceView(requirements[part["requirement"]], part["text"], artifacts))
    return views


# ---------------------------------------------------------------------------- dashboard
@dataclass(frozen=True)
class DashboardItem:
    attempt: Attempt
    status: str
    next_step: str
    url: str


_NEXT_STEP = {
    Attempt.Status.AWAITING_PREAPPROVAL: "Wait for your principal or district to approve it.",
    Attempt.Status.IN_PROGRESS: "Collect your evidence and submit it.",
    Attempt.Status.SUBMITTED: "Nothing to do: an assessor will score it.",
    Attempt.Status.IN_SCORING: "Nothing to do: an assessor is scoring it.",
    Attempt.Status.NOT_YET: "Read the feedback, revise your evidence and resubmit.",
    Attempt.Status.EARNED: "Earned. Well done!",
    Attempt.Status.WITHDRAWN: "Withdrawn.",
    Attempt.Status.PREAPPROVAL_DECLINED: "Pre-approval was declined; read why.",
}


def attempts_of(user: Any) -> QuerySet[Attempt]:
    """The user's attempts to earn micro-credentials; anchors written for calibration are
    found from their calibration set, not here."""
    return (
        Attempt.objects.filter(
            Q(earner=user)
            | Q(team__members__user=user, team__members__status=TeamMember.Status.ACTIVE)
        )
        .filter(purpose=Attempt.Purpose.EARNING)
        .select_related("version")
        .distinct()
        .order_by("-updated")
    )


def dashboard_items(user: Any) -> list[DashboardItem]:
    return [
        DashboardItem(
            attempt=a,
            status=a.get_status_display(),
            next_step=_NEXT_STEP[Attempt.Status(a.status)],
            url=reverse("earning:attempt", args=[a.uuid]),
        )
        for a in attempts_of(user)
    ]


# ---------------------------------------------------------------------------- uploads
# What a file part accepts when its requirement names no types: the usual files of its kind.
_DEFAULT_TYPES = {
    Kind.VIDEO: ("video/*",),
    Kind.AUDIO: ("audio/*",),
    Kind.FILE: ("image/*", "application/pdf"),
}


def upload_policy(requirement: EvidenceRequirement) -> UploadPolicy:
    """What the uploader on this part accepts (types by content, size), and the same rule
    `services.attach_upload` checks again when the file is attached."""
    types = tuple(requirement.allowed_types) or _DEFAULT_TYPES.get(
        Kind(requirement.kind), ("application/pdf",)
    )
    max_bytes = (requirement.max_file_size_mb or DEFAULT_MAX_BYTES // MiB) * MiB
    return UploadPolicy(
        allowed_types=types, max_bytes=max_bytes, purpose=f"evidence-{requirement.pk}"
    )


@dataclass(frozen=True)
class UploadRefusal:
    code: str  # "takes_text", "not_editable" or "no_room"
    message: str


def upload_refusal(attempt: Attempt, item: ItemView) -> UploadRefusal | None:
    """Why this part of the attempt cannot take another file now, or None when it can: the one
    rule behind the attempt page's uploader and the API's upload policy."""
    requirement = item.requirement
    if item.takes_text:
        return UploadRefusal("takes_text", f"“{requirement.title}” takes text, not files.")
    if attempt.status not in Attempt.EDITABLE:
        return UploadRefusal(
            "not_editable",
            f"This attempt is {attempt.get_status_display().lower()}; its evidence cannot "
            "change now.",
        )
    if not item.room_for_files:
        return UploadRefusal(
            "no_room",
            f"“{requirement.title}” already has its {requirement.max_files} file(s): remove "
            "one before adding another.",
        )
    return None


def attachable_uploads(user: Any, requirement: EvidenceRequirement) -> list[Upload]:
    """The user's finished uploads not in any portfolio whose content this part accepts: the
    way to attach a file without JavaScript, or after the page was closed mid-attach."""
    policy = upload_policy(requirement)
    candidates = Upload.objects.filter(
        owner=user, status=Upload.Status.COMPLETE, artifact__isnull=True
    ).order_by("-created_at")[:50]
    return [u for u in candidates if policy.allows(u.content_type)]


def dashboard_context(user: Any) -> dict[str, Any]:
    """What earning adds to the dashboard: attempts with their next step, team invitations,
    and for principals and recognizers the pre-approval requests waiting for them."""
    return {
        "earning": dashboard_items(user),
        "invitations": list(invitations_for(user)),
        "preapprovals_waiting": len(pending_preapprovals(user)),
    }

"""The earner's JSON API: start an attempt, read the portfolio, save text, attach an upload,
add a note on video, submit, withdraw, read decisions. Session auth (with CSRF) or a personal
API token (Bearer), and the same services and selectors as the pages, so both refuse the same
things with the same words.

Someone else's attempt answers 404, like a missing one. Refusals answer 400 (409 when the
attempt's state forbids it) with the API's one error body (microcred.api.errors.ApiError).

Evidence files go up through the same multipart protocol as the upload page
(/uploads/api/, bearer tokens accepted): `upload_policy` hands a client the signed policy
the page would carry, then the finished upload is attached with `attach_upload`.
"""

# No `from __future__ import annotations`: django-ninja reads these annotations at run time.
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import django_auth

from microcred.api.errors import ApiHttpError
from microcred.catalog.models import EvidenceRequirement, MicroCredentialVersion
from microcred.orgs.api_auth import ApiTokenAuth

from . import selectors, services
from .models import Artifact, Attempt, Submission, Upload
from .uploads.policy import POLICY_MAX_AGE_SECONDS

router = Router(tags=["earning"], auth=[ApiTokenAuth(), django_auth])


def refusals(view: Callable[..., Any]) -> Callable[..., Any]:
    """ "Not yours" becomes 404, like a missing attempt. A service's ValidationError is left to
    the API's own handler (microcred.api.errors), which answers 400 with each field's message."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except PermissionDenied as exc:
            raise Http404("There is no such attempt.") from exc

    return wrapper


# ---------------------------------------------------------------------------- schemas
class StartIn(Schema):
    micro_credential: str = Field(description="The micro-credential's slug, as in its URL.")
    use: str = Field("", description="Where pre-approval is required: what it should count for.")
    rationale: str = Field("", max_length=3000, description="Where pre-approval is required.")


class AnnotationOut(Schema):
    id: int
    seconds: int
    component: int | None
    note: str


class ArtifactOut(Schema):
    id: int
    upload: UUID
    filename: str
    size: int
    content_type: str
    duration_seconds: float | None
    problem: str | None
    annotations: list[AnnotationOut]


class PartOut(Schema):
    requirement: int
    title: str
    kind: str
    instructions: str
    word_limit: int | None
    text: str
    words: int
    artifacts: list[ArtifactOut]
    missing: list[str]


class AttemptOut(Schema):
    id: UUID
    micro_credential: str
    version: int
    title: str
    status: str
    status_label: str
    team: str | None
    complete: bool
    parts: list[PartOut]


class TextIn(Schema):
    text: str


class TextOut(Schema):
    words: int


class AttachIn(Schema):
    upload: UUID


class AnnotationIn(Schema):
    seconds: int = Field(ge=0, description="Where in the video, in seconds.")
    component: int | None = Field(None, description="A rubric component of this version.")
    note: str = Field(max_length=2000)


class ComponentFeedbackOut(Schema):
    title: str = Field(description="The rubric component.")
    points: int
    max_points: int
    feedback: str


class DecisionOut(Schema):
    """What the attempt page shows the earner about a decision (the same selector builds
    both); never who the assessor was."""

    outcome: str
    outcome_label: str
    earned: bool
    band: str
    band_description: str
    total_points: int
    max_points: int
    overall_feedback: str
    components: list[ComponentFeedbackOut] = Field(
        description="Per rubric component: points and the assessor's feedback."
    )
    decided_at: datetime


class UploadPolicyOut(Schema):
    policy: str = Field(description="Send as “policy” when creating the upload.")
    expires_in_seconds: int
    allowed_types: list[str] = Field(description="Checked by the file's content, not its name.")
    max_bytes: int
    create_url: str = Field(description="POST here to start a multipart upload.")
    attach_url: str = Field(description='POST {"upload": id} here once it is complete.')


class SubmissionOut(Schema):
    number: int
    status: str
    submitted_at: datetime
    decision: DecisionOut | None


# ---------------------------------------------------------------------------- helpers
def _attempt_out(attempt: Attempt) -> AttemptOut:
    portfolio = selectors.portfolio(attempt)
    parts = [
        PartOut(
            requirement=item.requirement.pk,
            title=item.requirement.title,
            kind=item.requirement.kind,
            instructions=item.requirement.instructions,
            word_limit=item.requirement.word_limit,
            text=item.text,
            words=item.words,
            artifacts=[_artifact_out(a) for a in item.artifacts],
            missing=item.problems,
        )
        for item in portfolio.items
    ]
    return AttemptOut(
        id=attempt.uuid,
        micro_credential=attempt.version.micro_credential.slug,
        version=attempt.version.number,
        title=attempt.version.title,
        status=attempt.status,
        status_label=attempt.get_status_display(),
        team=attempt.team.name if attempt.team else None,
        complete=portfolio.complete,
        parts=parts,
    )


def _artifact_out(view: selectors.ArtifactView) -> ArtifactOut:
    """One file of the portfolio, as the attempt page shows it."""
    return ArtifactOut(
        id=view.artifact.pk,
        upload=view.upload.pk,
        filename=view.upload.filename,
        size=view.upload.size,
        content_type=view.upload.content_type,
        duration_seconds=view.upload.duration_seconds,
        problem=view.problem,
        annotations=[_annotation_out(n) for n in view.annotations],
    )


def _annotation_out(annotation: Any) -> AnnotationOut:
    return AnnotationOut(
        id=annotation.pk,
        seconds=annotation.seconds,
        component=annotation.rubric_component_id,
        note=annotation.note,
    )


def _submission_out(submission: Submission) -> SubmissionOut:
    feedback = selectors.feedback_for(submission)
    decision = None if feedback is None else DecisionOut.model_validate(feedback)
    return SubmissionOut(
        number=submission.number,
        status=submission.status,
        submitted_at=submission.submitted_at,
        decision=decision,
    )


def _attempt(request: HttpRequest, attempt_id: UUID) -> Attempt:
    return selectors.attempt_for(request.user, attempt_id)


def _requirement(attempt: Attempt, requirement_id: int) -> EvidenceRequirement:
    return get_object_or_404(EvidenceRequirement, pk=requirement_id, version_id=attempt.version_id)


# ---------------------------------------------------------------------------- endpoints
@router.post("/attempts", response={200: AttemptOut, 201: AttemptOut})
@refusals
def start_attempt(request: HttpRequest, payload: StartIn) -> Status[AttemptOut]:
    """Start an attempt at the current version (or get the open one back: 200)."""
    version = MicroCredentialVersion.objects.filter(
        micro_credential__slug=payload.micro_credential,
        status=MicroCredentialVersion.Status.PUBLISHED,
    ).first()
    if version is None:
        raise HttpError(404, "There is no such micro-credential taking new attempts.")
    attempt, created = services.start_attempt(
        version, user=request.user, use=payload.use, rationale=payload.rationale
    )
    return Status(201 if created else 200, _attempt_out(attempt))


@router.get("/attempts/{attempt_id}", response=AttemptOut)
def get_attempt(request: HttpRequest, attempt_id: UUID) -> AttemptOut:
    """The portfolio: every part with its work and what is still missing."""
    return _attempt_out(_attempt(request, attempt_id))


@router.put("/attempts/{attempt_id}/parts/{requirement_id}/text", response=TextOut)
@refusals
def save_text(
    request: HttpRequest, attempt_id: UUID, requirement_id: int, payload: TextIn
) -> TextOut:
    attempt = _attempt(request, attempt_id)
    requirement = _requirement(attempt, requirement_id)
    services.save_text(attempt, requirement, user=request.user, text=payload.text)
    return TextOut(words=selectors.word_count(payload.text))


@router.post(
    "/attempts/{attempt_id}/parts/{requirement_id}/upload-policy",
    response={201: UploadPolicyOut},
    summary="Get an upload policy for a file part",
)
def upload_policy(
    request: HttpRequest, attempt_id: UUID, requirement_id: int
) -> Status[UploadPolicyOut]:
    """The signed policy the upload page carries, for an API client: what this part accepts.

    Then speak the multipart protocol with the same token: `POST create_url` with
    {"policy", "filename", "type", "size", "partSize"} (answers {"uploadId"}); sign parts
    several at a time with `GET /uploads/api/{uploadId}/parts/sign/?parts=1-8` (at most 100;
    answers {"parts": [{"number", "url", "headers"}], "expiresIn"}) or one with
    `GET /uploads/api/{uploadId}/parts/{n}/sign/`, and `PUT` each part's bytes to its "url"
    within "expiresIn" seconds; `POST /uploads/api/{uploadId}/complete/` with
    {"parts": [{"PartNumber", "ETag"}]}; then `POST attach_url` with {"upload": uploadId}.
    Parts are at least 5 MiB except the last. `GET create_url` lists your uploads, unfinished
    ones included, and `DELETE /uploads/api/{uploadId}/` discards an unfinished one (they
    count towards a quota: a 429 "upload_quota" asks you to finish or discard some)."""
    attempt = selectors.attempt_for(request.user, attempt_id, perm="earning.change_attempt")
    requirement = _requirement(attempt, requirement_id)
    item = next(i for i in selectors.portfolio(attempt).items if i.requirement == requirement)
    refusal = selectors.upload_refusal(attempt, item)
    if refusal is not None:
        status = 400 if refusal.code == "takes_text" else 409
        raise ApiHttpError(status, refusal.message, code=refusal.code)
    policy = selectors.upload_policy(requirement)
    return Status(
        201,
        UploadPolicyOut(
            policy=policy.token(request.user),
            expires_in_seconds=POLICY_MAX_AGE_SECONDS,
            allowed_types=list(policy.allowed_types),
            max_bytes=policy.max_bytes,
            create_url=request.build_absolute_uri(reverse("uploads:create")),
            attach_url=request.build_absolute_uri(
                reverse("api-1.0.0:earning_attach_upload", args=[attempt.uuid, requirement.pk])
            ),
        ),
    )


@router.post(
    "/attempts/{attempt_id}/parts/{requirement_id}/files",
    response={201: ArtifactOut},
    url_name="earning_attach_upload",
)
@refusals
def attach_upload(
    request: HttpRequest, attempt_id: UUID, requirement_id: int, payload: AttachIn
) -> Status[ArtifactOut]:
    """Attach a finished upload (see "Get an upload policy for a file part") to a file part."""
    attempt = _attempt(request, attempt_id)
    requirement = _requirement(attempt, requirement_id)
    upload = Upload.objects.filter(pk=payload.upload, owner=request.user).first()
    if upload is None:
        raise HttpError(404, "There is no such upload among your files.")
    artifact = services.attach_upload(attempt, requirement, user=request.user, upload=upload)
    view = next(
        a
        for item in selectors.portfolio(attempt).items
        for a in item.artifacts
        if a.artifact.pk == artifact.pk
    )
    return Status(201, _artifact_out(view))


@router.post(
    "/attempts/{attempt_id}/files/{artifact_id}/annotations", response={201: AnnotationOut}
)
@refusals
def add_annotation(
    request: HttpRequest, attempt_id: UUID, artifact_id: int, payload: AnnotationIn
) -> Status[AnnotationOut]:
    attempt = _attempt(request, attempt_id)
    artifact = get_object_or_404(Artifact, pk=artifact_id, evidence__attempt=attempt)
    annotation = services.add_annotation(
        artifact,
        user=request.user,
        seconds=payload.seconds,
        component_id=payload.component,
        note=payload.note,
    )
    return Status(201, _annotation_out(annotation))


@router.post("/attempts/{attempt_id}/submit", response={201: SubmissionOut})
@refusals
def submit(request: HttpRequest, attempt_id: UUID) -> Status[SubmissionOut]:
    """Freeze the portfolio as the next submission; 400 with what is missing otherwise."""
    submission = services.submit(_attempt(request, attempt_id), user=request.user)
    return Status(201, _submission_out(submission))


@router.post("/attempts/{attempt_id}/submissions/{number}/withdraw", response=SubmissionOut)
@refusals
def withdraw(request: HttpRequest, attempt_id: UUID, number: int) -> SubmissionOut:
    attempt = _attempt(request, attempt_id)
    submission = get_object_or_404(Submission, attempt=attempt, number=number)
    return _submission_out(services.withdraw(submission, user=request.user))


@router.get("/attempts/{attempt_id}/submissions", response=list[SubmissionOut])
def submissions(request: HttpRequest, attempt_id: UUID) -> list[SubmissionOut]:
    """Every submission, newest first, with its decision and overall feedback once decided."""
    attempt = _attempt(request, attempt_id)
    return [_submission_out(s) for s in selectors.submissions_of(attempt)]

"""Earning: attempts, portfolios and the evidence files behind them.

For now this holds the upload side: an `Upload` is one file a person is sending (or has sent)
to evidence storage under a storage key, with what they declared about it, where the
multipart upload stands, and what probing the media found. Evidence items will point at
uploads; uploads know nothing about them.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from microcred.catalog.models import (
    ApprovedUse,
    EvidenceRequirement,
    MicroCredential,
    MicroCredentialVersion,
    RubricComponent,
    Stack,
)
from microcred.orgs.models import Organization


class Upload(models.Model):
    class Status(models.TextChoices):
        UPLOADING = "uploading", "Uploading"
        ASSEMBLING = "assembling", "Putting the file together"
        COMPLETE = "complete", "Uploaded"
        ABORTED = "aborted", "Discarded"
        FAILED = "failed", "Rejected"

    class Backend(models.TextChoices):
        LOCAL = "local", "Local disk"
        S3 = "s3", "S3-compatible object storage"

    class ProbeStatus(models.TextChoices):
        PENDING = "pending", "Waiting to be checked"
        READY = "ready", "Checked"
        NOT_MEDIA = "not_media", "Not audio or video"
        FAILED = "failed", "Could not be read"

    # The id in every URL: random, so upload ids cannot be guessed or enumerated.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads"
    )
    key = models.CharField(max_length=500, unique=True, help_text="Storage key of the file.")
    backend = models.CharField(max_length=10, choices=Backend.choices)
    backend_upload_id = models.CharField(max_length=1024, blank=True)

    # What the browser declared; none of it is trusted for type decisions.
    filename = models.CharField(max_length=255)
    declared_type = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField()
    part_size = models.BigIntegerField()
    # Limits fixed by the page that offered the upload (see uploads.policy).
    max_bytes = models.BigIntegerField()
    allowed_types = models.JSONField(default=list)
    purpose = models.CharField(max_length=100, blank=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UPLOADING)
    status_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    sha256 = models.CharField(max_length=64, blank=True)
    content_type = models.CharField(max_length=255, blank=True, help_text="Detected from content.")

    probe_status = models.CharField(
        max_length=12, choices=ProbeStatus.choices, default=ProbeStatus.PENDING
    )
    probe_message = models.TextField(blank=True)
    probed_at = models.DateTimeField(null=True, blank=True)
    container = models.CharField(max_length=100, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    video_codec = models.CharField(max_length=50, blank=True)
    audio_codec = models.CharField(max_length=50, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    poster_key = models.CharField(max_length=500, blank=True)
    playable_key = models.CharField(max_length=500, blank=True)
    playable_type = models.CharField(max_length=100, blank=True)
    # The assessors' copy of a recording, picture or document, without its metadata
    # (invariant 2): for a recording the playable copy when one was made (our own encode,
    # which carries none), else a clean remux, re-encode or rewrite. Empty until the worker
    # has made it; assessors never get the original.
    blind_key = models.CharField(max_length=500, blank=True)
    blind_type = models.CharField(max_length=100, blank=True)

    # Kinds of file whose metadata is stripped for assessors, by family and by exact type
    # (PDFs and Word documents: earning/documents.py); other files reach them as sent.
    BLIND_COPY_FAMILIES = ("video", "audio", "image")
    BLIND_COPY_TYPES = (
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "status", "-created_at"]),
            models.Index(fields=["status", "updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def needs_blind_copy(self) -> bool:
        """Whether assessors may see this file only through its metadata-free copy."""
        return (
            self.content_type.split("/", 1)[0] in self.BLIND_COPY_FAMILIES
            or self.content_type in self.BLIND_COPY_TYPES
        )

    @classmethod
    def blind_copy_kinds(cls) -> models.Q:
        """`needs_blind_copy` as a query filter."""
        kinds = models.Q(content_type__in=cls.BLIND_COPY_TYPES)
        for family in cls.BLIND_COPY_FAMILIES:
            kinds |= models.Q(content_type__startswith=f"{family}/")
        return kinds

    @property
    def part_count(self) -> int:
        return max(1, -(-self.size // self.part_size))

    def expected_part_size(self, number: int) -> int:
        """Every part but the last is exactly `part_size`; the last holds the rest."""
        if number < self.part_count:
            return self.part_size
        return self.size - (self.part_count - 1) * self.part_size


class UploadPart(models.Model):
    """A part stored by the local-disk backend (S3 keeps its own list of parts)."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    size = models.BigIntegerField()
    etag = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["upload", "number"]
        constraints = [
            models.UniqueConstraint(fields=["upload", "number"], name="unique_upload_part_number")
        ]

    def __str__(self) -> str:
        return f"part {self.number} of {self.upload_id}"


# ---------------------------------------------------------------------------- portfolios
def refuse_change(instance: models.Model, field: str, error: Exception) -> None:
    """Raise `error` if a stored row's `field` would change: the invariants that a submission
    never changes and an attempt stays on its version hold against any caller, not only ours."""
    if instance.pk is None:
        return
    stored = type(instance)._default_manager.filter(pk=instance.pk).values_list(field, flat=True)
    value = stored.first()
    if value is not None and value != getattr(instance, field):
        raise error


class FrozenSubmissionError(PermissionError):
    """A submitted portfolio never changes (DESIGN.md invariant 3)."""


class Team(models.Model):
    """Colleagues of one school who build one portfolio together (a PLC)."""

    name = models.CharField(max_length=120)
    school = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="teams")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    class Status(models.TextChoices):
        INVITED = "invited", "Invited"
        ACTIVE = "active", "Member"
        DECLINED = "declined", "Declined"
        LEFT = "left", "Left the team"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="team_memberships"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INVITED)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    responded = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="team_member_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class Attempt(models.Model):
    """One earner's (or one team's) pursuit of one MC version (pinned: invariant 4)."""

    class Status(models.TextChoices):
        AWAITING_PREAPPROVAL = "awaiting_preapproval", "Waiting for pre-approval"
        IN_PROGRESS = "in_progress", "Collecting evidence"
        SUBMITTED = "submitted", "Submitted, waiting for an assessor"
        IN_SCORING = "in_scoring", "Being scored"
        NOT_YET = "not_yet", "Not yet: revise and resubmit"
        EARNED = "earned", "Earned"
        WITHDRAWN = "withdrawn", "Withdrawn"
        PREAPPROVAL_DECLINED = "preapproval_declined", "Pre-approval declined"

    class Purpose(models.TextChoices):
        EARNING = "earning", "Earning the micro-credential"
        CALIBRATION = "calibration", "Written as a calibration anchor"

    # States in which the portfolio may be edited.
    EDITABLE = frozenset({Status.IN_PROGRESS, Status.NOT_YET})

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.ForeignKey(
        MicroCredentialVersion, on_delete=models.PROTECT, related_name="attempts"
    )
    earner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attempts"
    )
    team = models.OneToOneField(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="attempt"
    )
    school = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="attempts"
    )
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.IN_PROGRESS)
    # A scoring lead's portfolio written as calibration material (issue 9): its submissions
    # are never scored live, so nobody earns anything from it.
    purpose = models.CharField(max_length=12, choices=Purpose.choices, default=Purpose.EARNING)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated"]
        indexes = [models.Index(fields=["earner", "status"])]

    def __str__(self) -> str:
        return f"{self.version.title} ({self.get_status_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        refuse_change(
            self,
            "version_id",
            PermissionError("An attempt stays pinned to the version it started on."),
        )
        super().save(*args, **kwargs)


class PreApproval(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    attempt = models.OneToOneField(Attempt, on_delete=models.CASCADE, related_name="preapproval")
    use = models.CharField(max_length=30, choices=ApprovedUse.choices)
    rationale = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Pre-approval for {self.attempt}: {self.get_status_display()}"


class EvidenceItem(models.Model):
    """The earner's working answer to one evidence requirement (editable until submit)."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="evidence")
    requirement = models.ForeignKey(EvidenceRequirement, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(blank=True)
    updated = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "requirement"], name="evidence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.requirement.title} for {self.attempt}"


class Artifact(models.Model):
    """A file attached to an evidence item, stored through an Upload."""

    evidence = models.ForeignKey(EvidenceItem, on_delete=models.CASCADE, related_name="artifacts")
    upload = models.OneToOneField(Upload, on_delete=models.PROTECT, related_name="artifact")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.upload)


class Annotation(models.Model):
    """A time-stamped note on evidence video, tied to a rubric component."""

    artifact = models.ForeignKey(Artifact, on_delete=models.CASCADE, related_name="annotations")
    seconds = models.PositiveIntegerField()
    rubric_component = models.ForeignKey(
        RubricComponent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["artifact", "seconds"]

    def __str__(self) -> str:
        return f"{self.seconds // 60}:{self.seconds % 60:02d} {self.note[:40]}"


class Submission(models.Model):
    """A frozen snapshot of the portfolio, number n of its attempt (invariant 3)."""

    class Status(models.TextChoices):
        AWAITING_ASSESSOR = "awaiting_assessor", "Waiting for an assessor"
        IN_SCORING = "in_scoring", "Being scored"
        DECIDED = "decided", "Decided"
        WITHDRAWN = "withdrawn", "Withdrawn"
        # A calibration attempt's submission: an anchor candidate, outside every live queue.
        CALIBRATION = "calibration", "Calibration material: never scored live"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    attempt = models.ForeignKey(Attempt, on_delete=models.PROTECT, related_name="submissions")
    number = models.PositiveSmallIntegerField()
    snapshot = models.JSONField()
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.AWAITING_ASSESSOR
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["attempt", "number"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "number"], name="submission_unique_number")
        ]

    def __str__(self) -> str:
        return f"Submission {self.number} of {self.attempt}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        refuse_change(
            self, "snapshot", FrozenSubmissionError("A submitted portfolio never changes.")
        )
        super().save(*args, **kwargs)


class EvidenceShare(models.Model):
    """The earner lets a coach see an attempt's evidence (DESIGN.md invariant 6). Revoking
    keeps the row, so who could see what, and when, stays on record."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="shares")
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="evidence_shares"
    )
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "coach"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_share_per_coach",
            )
        ]

    def __str__(self) -> str:
        return f"{self.attempt} shared with {self.coach}"


class PublicEvidence(models.Model):
    """Whether the earners of a submission publish its public evidence page (the written parts
    and video notes as text, never files). The page's address exists from the start, because
    credentials name it; it answers 404 until published. The row stays after unpublishing:
    the audit trail says who changed it, this row says how it stands."""

    submission = models.OneToOneField(
        Submission, on_delete=models.CASCADE, related_name="public_evidence"
    )
    published = models.BooleanField(default=False)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        state = "published" if self.published else "not published"
        return f"Public evidence page of {self.submission} ({state})"


# ---------------------------------------------------------------------------- earner supports
class SelfAssessment(models.Model):
    """An earner's own reading of where they stand on each rubric component of one MC version,
    before (and while) they build a portfolio. One per earner per version; editable until the
    earner submits an attempt on that version (earning/supports.py decides)."""

    earner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="self_assessments"
    )
    version = models.ForeignKey(
        MicroCredentialVersion, on_delete=models.CASCADE, related_name="self_assessments"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["earner", "version"], name="self_assessment_unique")
        ]

    def __str__(self) -> str:
        return f"Self-assessment of {self.earner} on {self.version}"


class SelfAssessmentRating(models.Model):
    """The earner's rating of themselves on one rubric component, with an optional note."""

    class Confidence(models.TextChoices):
        NOT_YET = "not_yet", "Not yet confident"
        GETTING_THERE = "getting_there", "Getting there"
        CONFIDENT = "confident", "Confident"

    self_assessment = models.ForeignKey(
        SelfAssessment, on_delete=models.CASCADE, related_name="ratings"
    )
    rubric_component = models.ForeignKey(
        RubricComponent, on_delete=models.CASCADE, related_name="+"
    )
    confidence = models.CharField(max_length=16, choices=Confidence.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["rubric_component__order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["self_assessment", "rubric_component"], name="self_rating_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rubric_component}: {self.get_confidence_display()}"


class LearningPlan(models.Model):
    """An earner's learning plan: goals naming MCs, stacks or free text. The earner may send it
    to a principal of their school for sign-off; the principal signs off or returns it."""

    class SignOff(models.TextChoices):
        NOT_SENT = "not_sent", "Not sent for sign-off"
        WAITING = "waiting", "Waiting for the principal's sign-off"
        SIGNED_OFF = "signed_off", "Signed off"
        RETURNED = "returned", "Returned with a comment"

    earner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learning_plan"
    )
    sign_off = models.CharField(max_length=12, choices=SignOff.choices, default=SignOff.NOT_SENT)
    principal = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plans_to_sign_off",
    )
    school = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["principal", "sign_off"])]

    def __str__(self) -> str:
        return f"Learning plan of {self.earner}"


class LearningGoal(models.Model):
    """One goal of a plan. A goal that names an MC or a stack takes its status from the
    earner's attempts and credentials; a free-text goal carries the status the earner sets."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    plan = models.ForeignKey(LearningPlan, on_delete=models.CASCADE, related_name="goals")
    text = models.TextField(blank=True)
    micro_credential = models.ForeignKey(
        MicroCredential, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stack = models.ForeignKey(
        Stack, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "target_date", "pk"]

    def __str__(self) -> str:
        return self.text[:80] or f"Goal {self.pk}"


class TeamInvitation(models.Model):
    """An invitation to a team sent to an email address that has no account yet. The email
    carries a sign-up link with `token`; once that person signs up (or signs in) with this
    address, the invitation becomes an ordinary `TeamMember` invitation they accept or decline,
    and `accepted_at` is set. Withdrawing sets `revoked`; the row stays on record."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="email_invitations")
    email = models.EmailField()
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        ordering = ["created"]
        indexes = [models.Index(fields=["email", "accepted_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked=False),
                name="one_pending_invitation_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} invited to {self.team}"

    @property
    def pending(self) -> bool:
        return self.accepted_at is None and not self.revoked


# ---------------------------------------------------------------------------- coaching
class DraftComment(models.Model):
    """A coach's comment on the draft evidence an earner shared with them, on one evidence
    requirement (or the draft as a whole when `requirement` is empty). Written only before
    submission and while the share is active; it stays on record after either ends. The
    earner (or a teammate) marks it resolved once acted on (earning/coaching.py decides)."""

    BODY_MAX = 2000

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="draft_comments")
    requirement = models.ForeignKey(
        EvidenceRequirement, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="draft_comments"
    )
    body = models.TextField(max_length=BODY_MAX)
    created = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["created", "pk"]
        indexes = [models.Index(fields=["attempt", "resolved_at"])]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.attempt}"

"""The assessor pool, conflicts, assignments, blind scores, decisions and awards."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from microcred.catalog.models import MicroCredential, OutcomeBand, RubricComponent, Stack
from microcred.orgs.models import Organization


class FrozenScoreError(PermissionError):
    """A submitted score never changes (DESIGN.md invariant 3)."""


class AssessorProfile(models.Model):
    class Calibration(models.TextChoices):
        NOT_CALIBRATED = "not_calibrated", "Not yet calibrated"
        CALIBRATED = "calibrated", "Calibrated"
        NEEDS_RECALIBRATION = "needs_recalibration", "Needs recalibration"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assessor_profile"
    )
    home_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="assessors"
    )
    qualified_micro_credentials = models.ManyToManyField(
        MicroCredential, blank=True, related_name="qualified_assessors"
    )
    qualified_stacks = models.ManyToManyField(Stack, blank=True, related_name="qualified_assessors")
    weekly_capacity = models.PositiveSmallIntegerField(default=5)
    pay_rate = models.DecimalField(max_digits=7, decimal_places=2, default=0)
    active = models.BooleanField(default=True)
    calibration = models.CharField(
        max_length=20, choices=Calibration.choices, default=Calibration.CALIBRATED
    )
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Assessor {self.user}"


class DeclaredConflict(models.Model):
    """A conflict the assessor declares: a person or an organization they should not score."""

    assessor = models.ForeignKey(
        AssessorProfile, on_delete=models.CASCADE, related_name="declared_conflicts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | models.Q(organization__isnull=False),
                name="conflict_names_someone",
            )
        ]

    def __str__(self) -> str:
        return f"{self.assessor}: {self.user or self.organization}"


class CoachingRelationship(models.Model):
    """A coach who follows an earner (an assessor never scores an earner they coach)."""

    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coachees"
    )
    earner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coaches"
    )
    created = models.DateTimeField(auto_now_add=True)
    ended = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["coach", "earner"], name="coaching_unique")]

    def __str__(self) -> str:
        return f"{self.coach} coaches {self.earner}"


class Assignment(models.Model):
    class Kind(models.TextChoices):
        PRIMARY = "primary", "First read"
        SECOND = "second", "Second read"
        THIRD = "third", "Third read"

    class Status(models.TextChoices):
        ASSIGNED = "assigned", "Assigned"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Missed the due date"
        COMPLETED = "completed", "Scored"
        CANCELLED = "cancelled", "Cancelled"

    OPEN = frozenset({Status.ASSIGNED})

    submission = models.ForeignKey(
        "earning.Submission", on_delete=models.PROTECT, related_name="assignments"
    )
    assessor = models.ForeignKey(
        AssessorProfile, on_delete=models.PROTECT, related_name="assignments"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PRIMARY)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ASSIGNED)
    assigned_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "kind"],
                condition=models.Q(status__in=["assigned", "completed"]),
                name="one_open_assignment_per_read",
            )
        ]
        indexes = [models.Index(fields=["assessor", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.submission} by {self.assessor}"


class Score(models.Model):
    """An assessor's scored rubric for one assignment; immutable once submitted."""

    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT, related_name="score")
    total_points = models.PositiveSmallIntegerField()
    band = models.ForeignKey(OutcomeBand, on_delete=models.PROTECT, related_name="+")
    passed = models.BooleanField()
    overall_feedback = models.TextField()
    minutes_spent = models.PositiveSmallIntegerField()
    submitted_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.total_points} points ({self.band.label})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise FrozenScoreError("A submitted score never changes.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise FrozenScoreError("A submitted score is never deleted.")


class ComponentScore(models.Model):
    score = models.ForeignKey(Score, on_delete=models.CASCADE, related_name="components")
    rubric_component = models.ForeignKey(
        RubricComponent, on_delete=models.PROTECT, related_name="+"
    )
    points = models.PositiveSmallIntegerField()
    criteria_met = models.JSONField(default=list)  # ids of details checked / the level chosen
    feedback = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["score", "rubric_component"], name="component_score_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rubric_component}: {self.points}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise FrozenScoreError("A submitted score never changes.")
        super().save(*args, **kwargs)


class Decision(models.Model):
    class Outcome(models.TextChoices):
        EARNED = "earned", "Earned"
        NOT_YET = "not_yet", "Not yet"

    submission = models.OneToOneField(
        "earning.Submission", on_delete=models.PROTECT, related_name="decision"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    total_points = models.PositiveSmallIntegerField()
    band = models.ForeignKey(OutcomeBand, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.submission}: {self.get_outcome_display()}"


class Award(models.Model):
    """What an earner earned: one per earner per earned attempt, exactly once (invariant 5)."""

    attempt = models.ForeignKey("earning.Attempt", on_delete=models.PROTECT, related_name="awards")
    earner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="awards"
    )
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="awards")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "earner"], name="award_once_per_earner")
        ]

    def __str__(self) -> str:
        return f"{self.earner} earned {self.attempt.version.title}"

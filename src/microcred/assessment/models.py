"""The assessor pool, conflicts, assignments, blind scores, decisions and awards; scoring policy
(second reads), calibration (anchor sets, rounds, qualifications), drift flags and pay."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from microcred.catalog.models import (
    MicroCredential,
    MicroCredentialVersion,
    OutcomeBand,
    RubricComponent,
    Stack,
)
from microcred.orgs.models import Organization


class FrozenScoreError(PermissionError):
    """A submitted score never changes (DESIGN.md invariant 3)."""


DEFAULT_PAY_RATE = Decimal("17.50")  # dollars an hour; the seeds pay assessors $15-20


class AssessorProfile(models.Model):
    """An assessor in the pool. `qualified_micro_credentials` and `qualified_stacks` say which
    MCs a scoring lead has put them forward for (trained on); live work for an MC also needs a
    current `Qualification`, earned through calibration."""

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
    pay_rate = models.DecimalField(max_digits=7, decimal_places=2, default=DEFAULT_PAY_RATE)
    # A fixed fee per scored submission replaces the hourly rate when set.
    fee_per_submission = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    active = models.BooleanField(default=True)
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

    class Purpose(models.TextChoices):
        LIVE = "live", "Live submission"
        CALIBRATION = "calibration", "Calibration"
        # An anchor slipped into the live queue, shown exactly like live work.
        DRIFT_CHECK = "drift_check", "Drift check"

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
    purpose = models.CharField(max_length=12, choices=Purpose.choices, default=Purpose.LIVE)
    anchor = models.ForeignKey(
        "CalibrationAnchor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    calibration_round = models.ForeignKey(
        "CalibrationRound",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ASSIGNED)
    assigned_at = models.DateTimeField(auto_now_add=True)
    # When the assessor first opened it: a re-plan never moves work someone has started.
    opened_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "kind"],
                condition=models.Q(status__in=["assigned", "completed"], purpose="live"),
                name="one_open_assignment_per_read",
            ),
            # Two reads of one submission never go to one assessor (anchors included: an
            # assessor scores an anchor once per round or drift check).
            models.UniqueConstraint(
                fields=["submission", "assessor"],
                condition=models.Q(
                    status__in=["assigned", "completed"], calibration_round__isnull=True
                ),
                name="one_read_per_assessor",
            ),
            models.UniqueConstraint(
                fields=["submission", "assessor", "calibration_round"],
                condition=models.Q(calibration_round__isnull=False),
                name="one_read_per_assessor_per_round",
            ),
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
    # What the read earns, frozen with the score: later rate changes never alter past pay.
    pay_rate = models.DecimalField(max_digits=7, decimal_places=2, default=0)
    pay_amount = models.DecimalField(max_digits=9, decimal_places=2, default=0)
    funding_organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
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
    # The read whose feedback the earner sees: the first read, or the third when two differed.
    score = models.ForeignKey(
        Score, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
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


# ---------------------------------------------------------------------------- policy
class ScoringPolicy(models.Model):
    """How one micro-credential is scored. An MC without a row follows the defaults below
    (`selectors.policy_for`)."""

    micro_credential = models.OneToOneField(
        MicroCredential, on_delete=models.CASCADE, related_name="scoring_policy"
    )
    second_read_percent = models.PositiveSmallIntegerField(
        default=10, validators=[MaxValueValidator(100)]
    )
    second_read_first_year = models.BooleanField(default=True)
    # First reads this many points or fewer from the pass line get a second read (0: none).
    second_read_margin = models.PositiveSmallIntegerField(default=1)
    calibration_outcome_percent = models.PositiveSmallIntegerField(
        default=80, validators=[MaxValueValidator(100)]
    )
    calibration_component_percent = models.PositiveSmallIntegerField(
        default=80, validators=[MaxValueValidator(100)]
    )
    calibration_min_anchors = models.PositiveSmallIntegerField(default=5)
    recalibrate_every_days = models.PositiveSmallIntegerField(default=365)
    recalibrate_after_break_days = models.PositiveSmallIntegerField(default=120)
    anchor_percent = models.PositiveSmallIntegerField(default=5, validators=[MaxValueValidator(50)])
    drift_min_kappa = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0.60"))
    drift_max_severity = models.DecimalField(
        max_digits=4, decimal_places=2, default=Decimal("1.50")
    )
    drift_min_pairs = models.PositiveSmallIntegerField(default=10)
    funding_organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Scoring policy of {self.micro_credential}"


class SecondRead(models.Model):
    """A submission drawn for a second, independent read, and why."""

    class Reason(models.TextChoices):
        SAMPLED = "sampled", "Random sample"
        FIRST_YEAR = "first_year", "Micro-credential in its first year"
        NEAR_PASS = "near_pass", "First read near the pass line"

    submission = models.OneToOneField(
        "earning.Submission", on_delete=models.PROTECT, related_name="second_read"
    )
    reason = models.CharField(max_length=12, choices=Reason.choices)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Second read of {self.submission}: {self.get_reason_display()}"


# ---------------------------------------------------------------------------- calibration
class CalibrationSet(models.Model):
    """Anchor submissions with master scores, for one version's rubric."""

    version = models.ForeignKey(
        MicroCredentialVersion, on_delete=models.PROTECT, related_name="calibration_sets"
    )
    title = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title


class CalibrationAnchor(models.Model):
    class Source(models.TextChoices):
        CONSENTED = "consented", "An earner's submission, shared with consent"
        WRITTEN = "written", "Written for calibration"

    calibration_set = models.ForeignKey(
        CalibrationSet, on_delete=models.CASCADE, related_name="anchors"
    )
    submission = models.ForeignKey(
        "earning.Submission", on_delete=models.PROTECT, related_name="anchors"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    master_total = models.PositiveSmallIntegerField()
    master_band = models.ForeignKey(OutcomeBand, on_delete=models.PROTECT, related_name="+")
    master_passed = models.BooleanField()
    rationale = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["calibration_set", "submission"], name="anchor_once_per_set"
            )
        ]

    def __str__(self) -> str:
        return f"Anchor {self.pk} of {self.calibration_set}"


class AnchorComponentScore(models.Model):
    anchor = models.ForeignKey(
        CalibrationAnchor, on_delete=models.CASCADE, related_name="master_components"
    )
    rubric_component = models.ForeignKey(
        RubricComponent, on_delete=models.PROTECT, related_name="+"
    )
    points = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["anchor", "rubric_component"], name="anchor_component_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rubric_component}: {self.points} (master)"


class CalibrationRound(models.Model):
    """One assessor scoring every anchor of a set; qualifies them when agreement is enough."""

    assessor = models.ForeignKey(
        AssessorProfile, on_delete=models.CASCADE, related_name="calibration_rounds"
    )
    calibration_set = models.ForeignKey(
        CalibrationSet, on_delete=models.PROTECT, related_name="rounds"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    passed = models.BooleanField(null=True)
    outcome_agreement = models.FloatField(null=True)  # share of anchors with the master outcome
    component_agreement = models.FloatField(null=True)  # share of components within a point

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessor", "calibration_set"],
                condition=models.Q(finished_at__isnull=True),
                name="one_open_round_per_set",
            )
        ]

    def __str__(self) -> str:
        return f"{self.assessor} calibrating on {self.calibration_set}"


class Qualification(models.Model):
    """An assessor's standing to score one MC's live submissions."""

    class Status(models.TextChoices):
        QUALIFIED = "qualified", "Qualified"
        RECALIBRATE = "recalibrate", "Recalibration due"
        PAUSED = "paused", "Paused for drift"

    class Source(models.TextChoices):
        CALIBRATION = "calibration", "Passed calibration"
        ATTESTED = "attested", "Attested by a scoring lead"

    assessor = models.ForeignKey(
        AssessorProfile, on_delete=models.CASCADE, related_name="qualifications"
    )
    micro_credential = models.ForeignKey(
        MicroCredential, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices)
    source = models.CharField(max_length=12, choices=Source.choices)
    calibration_round = models.ForeignKey(
        CalibrationRound, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    qualified_at = models.DateTimeField()
    recalibrate_by = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessor", "micro_credential"], name="qualification_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.assessor}: {self.get_status_display()} for {self.micro_credential}"


# ---------------------------------------------------------------------------- monitoring
class DriftFlag(models.Model):
    """A statistic past its threshold for one assessor and MC: recalibration first, a pause if
    it persists; a scoring lead clears it."""

    class Status(models.TextChoices):
        RECALIBRATE = "recalibrate", "Sent to recalibration"
        PAUSED = "paused", "Live work paused"
        CLEARED = "cleared", "Cleared"

    assessor = models.ForeignKey(
        AssessorProfile, on_delete=models.CASCADE, related_name="drift_flags"
    )
    micro_credential = models.ForeignKey(
        MicroCredential, on_delete=models.CASCADE, related_name="+"
    )
    statistic = models.CharField(max_length=60)
    value = models.FloatField()
    threshold = models.FloatField()
    pairs = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices)
    raised_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessor", "micro_credential"],
                condition=~models.Q(status="cleared"),
                name="one_open_drift_flag",
            )
        ]

    def __str__(self) -> str:
        return f"{self.assessor}: {self.statistic} {self.value:.2f} ({self.get_status_display()})"


class AnchorConsent(models.Model):
    """An earner's leave to use a decided submission as a calibration anchor. Assessors see it
    as they see any submission (a code, blind copies of files); withdrawing keeps it out of new
    sets and rounds."""

    submission = models.OneToOneField(
        "earning.Submission", on_delete=models.CASCADE, related_name="anchor_consent"
    )
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    given_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        state = "withdrawn" if self.withdrawn_at else "given"
        return f"Anchor consent for {self.submission} ({state})"

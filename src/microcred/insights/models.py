"""Evaluation surveys (Guskey's five levels of professional-development evaluation).

An earner is invited twice per micro-credential credential: right after the award and again
months later. The invitation keeps the micro-credential version, school and district as they
were at the award, so results by district or MC are one indexed filter, not a walk through
credentials, awards and attempts (and an educator who moves schools later does not move their
answers with them).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

COMMENT_MAX = 2000


class Level(models.IntegerChoices):
    REACTIONS = 1, "Participants' reactions"
    LEARNING = 2, "Participants' learning"
    ORGANIZATION = 3, "Organizational support and change"
    USE = 4, "Participants' use of new knowledge and skills"
    STUDENTS = 5, "Student learning outcomes"


class Wave(models.TextChoices):
    AFTER_AWARD = "after_award", "After award"
    FOLLOW_UP = "follow_up", "Follow-up"


class SurveyInvitation(models.Model):
    """One survey sent to one educator about one credential, once per wave."""

    educator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="survey_invitations"
    )
    credential = models.ForeignKey(
        "credentials.IssuedCredential", on_delete=models.PROTECT, related_name="survey_invitations"
    )
    wave = models.CharField(max_length=12, choices=Wave.choices)
    # The survey's address: unguessable, and it names no record.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.ForeignKey(
        "catalog.MicroCredentialVersion", on_delete=models.PROTECT, related_name="+"
    )
    school = models.ForeignKey(
        "orgs.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lea = models.ForeignKey(
        "orgs.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # When this wave falls due: the award itself, or the award plus the follow-up months.
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-due_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["credential", "wave"], name="survey_once_per_wave")
        ]
        indexes = [
            models.Index(fields=["educator", "responded_at"], name="survey_open_for_educator"),
            models.Index(fields=["lea", "wave"], name="survey_lea_wave"),
        ]

    def __str__(self) -> str:
        # Never the token: this label lands in the audit log, and the token is the address.
        return f"{self.get_wave_display()} survey about credential {self.credential_id}"


class SurveyResponse(models.Model):
    """The answers to one invitation: exactly one per invitation, whatever is posted twice."""

    invitation = models.OneToOneField(
        SurveyInvitation, on_delete=models.CASCADE, related_name="response"
    )
    comment = models.TextField(blank=True, max_length=COMMENT_MAX)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Response to {self.invitation}"


class SurveyAnswer(models.Model):
    """One level's agreement rating (1 strongly disagree .. 5 strongly agree); no rating means
    the educator said the statement does not apply to them."""

    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        ordering = ["response", "level"]
        constraints = [
            models.UniqueConstraint(fields=["response", "level"], name="survey_answer_per_level"),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=5), name="survey_answer_level_1_5"
            ),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="survey_answer_rating_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"Level {self.level}: {self.rating or 'does not apply'}"

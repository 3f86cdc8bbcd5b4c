"""What the product tells people, in the product and by email, and what each person wants
by email."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    SUBMISSION_RECEIVED = "submission_received", "Your submission was received"
    ASSIGNED = "assigned", "A submission was assigned to you"
    DUE_SOON = "due_soon", "A scoring assignment is due soon"
    SCORED = "scored", "Your submission was scored"
    EARNED = "earned", "You earned a micro-credential"
    NOT_YET = "not_yet", "Not yet: feedback to revise and resubmit"
    TEAM_INVITE = "team_invite", "You were invited to a team"
    PREAPPROVAL = "preapproval", "A pre-approval request or decision"
    RELIABILITY = "reliability", "Your scoring agreement: recalibration, pause or clearance"
    RENEWAL = "renewal", "License renewal reminder"
    RECOGNITION = "recognition", "A decision on a credential you brought from elsewhere"
    COACHING = "coaching", "Coaching: shared evidence and comments on drafts"
    SURVEY = "survey", "A short survey about a micro-credential you earned"


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    # Makes sending idempotent: the same event never notifies the same person twice.
    dedupe_key = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_once")
        ]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.title


class EmailPreference(models.Model):
    """A person's choice for one kind of email; no row means the default (send)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preferences"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    send_email = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="email_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} {'on' if self.send_email else 'off'}"

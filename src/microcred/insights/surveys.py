"""Guskey surveys: who is asked what and when, the answers, and the results by level.

Guskey's five levels of professional-development evaluation ask, in order: did educators
value it (1), did they learn (2), did their organization support it (3), do they use it (4),
and did students benefit (5). Each earner of a micro-credential is asked right after the award
and again some months later (MICROCRED_SURVEY_FOLLOWUP_MONTHS, 6 by default), one statement per
level, answered on a five-point agreement scale or "doesn't apply to me".

Sending is idempotent: one invitation per credential and wave (a database constraint), and the
invitation row is locked while it is sent, so a retried task or a second run of the daily
command notifies nobody twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from microcred.credentials.models import IssuedCredential
from microcred.notifications.models import Kind as NotificationKind
from microcred.notifications.services import notify
from microcred.orgs.models import Organization
from microcred.orgs.services import SYSTEM, record_audit
from microcred.recognition.renewal import add_months

from .models import COMMENT_MAX, Level, SurveyAnswer, SurveyInvitation, SurveyResponse, Wave

DEFAULT_FOLLOWUP_MONTHS = 6
# A daily run that was missed for a while still catches up, but a credential awarded years
# before surveys existed is not asked "months later" about it.
FOLLOWUP_GRACE_MONTHS = 3
# Results of fewer responses than this are not shown: a handful of answers from one school
# could be read back to the people who gave them.
MIN_RESPONSES = 5
AGREE_FROM = 4
CHUNK = 500

SCALE: list[tuple[int, str]] = [
    (1, "Strongly disagree"),
    (2, "Disagree"),
    (3, "Neither agree nor disagree"),
    (4, "Agree"),
    (5, "Strongly agree"),
]
DOES_NOT_APPLY = "Doesn't apply to me"

# One plain statement per level and wave: what the educator agrees or disagrees with.
ITEMS: dict[tuple[str, int], str] = {
    (Wave.AFTER_AWARD, Level.REACTIONS): "Earning this micro-credential was worth my time.",
    (Wave.AFTER_AWARD, Level.LEARNING): (
        "Earning this micro-credential deepened my understanding of the skill it covers."
    ),
    (Wave.AFTER_AWARD, Level.ORGANIZATION): (
        "My school gave me the time and support I needed to earn this micro-credential."
    ),
    (Wave.AFTER_AWARD, Level.USE): (
        "I have started using what I learned for this micro-credential in my teaching."
    ),
    (Wave.AFTER_AWARD, Level.STUDENTS): (
        "My students are already benefiting from what I learned for this micro-credential."
    ),
    (Wave.FOLLOW_UP, Level.REACTIONS): (
        "Looking back, earning this micro-credential was worth my time."
    ),
    (Wave.FOLLOW_UP, Level.LEARNING): (
        "I still remember and understand what I learned for this micro-credential."
    ),
    (Wave.FOLLOW_UP, Level.ORGANIZATION): (
        "My school or district helps me use what I learned (for example with time, coaching "
        "or colleagues who use it too)."
    ),
    (Wave.FOLLOW_UP, Level.USE): (
        "I still use what I learned for this micro-credential in my teaching."
    ),
    (Wave.FOLLOW_UP, Level.STUDENTS): (
        "I see my students learning more because of what I learned for this micro-credential."
    ),
}
# Short names for tables and charts.
LEVEL_NAMES: dict[int, str] = {
    Level.REACTIONS: "Reactions",
    Level.LEARNING: "Learning",
    Level.ORGANIZATION: "Organizational support",
    Level.USE: "Use in teaching",
    Level.STUDENTS: "Student outcomes",
}


def followup_months() -> int:
    return int(getattr(settings, "MICROCRED_SURVEY_FOLLOWUP_MONTHS", DEFAULT_FOLLOWUP_MONTHS))


def item(wave: str, level: int) -> str:
    return ITEMS[(wave, level)]


# ---------------------------------------------------------------------------- inviting
def _home(credential: IssuedCredential) -> tuple[Organization | None, Organization | None]:
    """The educator's school and district at the award: the attempt's school for the person
    who started it; a teammate from another school counts at their own school."""
    from microcred.earning.selectors import earner_school

    award = credential.award
    attempt = award.attempt
    school = attempt.school if attempt.earner_id == award.earner_id else None
    if school is None:
        school = earner_school(award.earner)
    lea = school.lea if school is not None else None
    return school, lea


def _credential(credential_id: int) -> IssuedCredential | None:
    """A micro-credential's credential that still stands (stacks are not surveyed: their
    micro-credentials were, one by one)."""
    return (
        IssuedCredential.objects.select_related(
            "award__earner", "award__attempt__version", "award__attempt__school__parent"
        )
        .filter(pk=credential_id, award__isnull=False, revocation__isnull=True)
        .first()
    )


def _send(invitation: SurveyInvitation) -> bool:
    """Notify the educator once: the locked row's sent_at says whether it was done."""
    with transaction.atomic():
        locked = SurveyInvitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.sent_at is not None:
            return False
        locked.sent_at = timezone.now()
        locked.save(update_fields=["sent_at"])
        title = invitation.version.title
        later = invitation.wave == Wave.FOLLOW_UP
        notify(
            invitation.educator,
            NotificationKind.SURVEY,
            title=(
                f"Some months on: five questions about “{title}”"
                if later
                else f"Five questions about “{title}”"
            ),
            body=(
                "Tell us whether what you learned still helps you and your students. "
                if later
                else "Tell us how earning it went and what it changes for you and your students. "
            )
            + "It takes about two minutes; your answers are only counted in totals.",
            url=reverse("insights:survey", args=[invitation.token]),
            dedupe_key=f"survey:{invitation.pk}",
        )
        record_audit(
            SYSTEM,
            "insights.survey_sent",
            locked,
            data={"wave": invitation.wave, "credential": invitation.credential_id},
            organization=invitation.lea,
        )
    invitation.sent_at = locked.sent_at
    return True


def invite(credential_id: int, wave: str, *, due_at: datetime | None = None) -> bool:
    """Create the wave's invitation for the credential and notify its earner; True if a
    notification went out now, False if it was sent before or the credential is gone, revoked
    or a stack's."""
    credential = _credential(credential_id)
    if credential is None or not credential.award.earner.is_active:
        return False
    invitation = SurveyInvitation.objects.filter(credential=credential, wave=wave).first()
    if invitation is None:
        school, lea = _home(credential)
        try:
            with transaction.atomic():
                invitation = SurveyInvitation.objects.create(
                    educator=credential.award.earner,
                    credential=credential,
                    wave=wave,
                    version=credential.award.attempt.version,
                    school=school,
                    lea=lea,
                    due_at=due_at or credential.issued_at,
                )
        except IntegrityError:
            # Another worker created it between our look and our insert: theirs stands.
            invitation = SurveyInvitation.objects.get(credential=credential, wave=wave)
    invitation = SurveyInvitation.objects.select_related("educator", "version", "lea").get(
        pk=invitation.pk
    )
    return _send(invitation)


def invite_after_award(credential_id: int) -> bool:
    return invite(credential_id, Wave.AFTER_AWARD)


def followup_candidates(now: datetime | None = None) -> QuerySet[IssuedCredential]:
    """Micro-credential credentials awarded the follow-up months ago (up to the grace months
    more), not revoked, of an active educator, without a follow-up invitation yet."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    months = followup_months()
    latest = _day_start(add_months(today, -months) + timedelta(days=1))
    earliest = _day_start(add_months(today, -(months + FOLLOWUP_GRACE_MONTHS)))
    return (
        IssuedCredential.objects.filter(
            award__isnull=False,
            revocation__isnull=True,
            award__earner__is_active=True,
            issued_at__gte=earliest,
            issued_at__lt=latest,
        )
        .exclude(survey_invitations__wave=Wave.FOLLOW_UP)
        .order_by("pk")
    )


def _day_start(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def send_followups(now: datetime | None = None) -> int:
    """The daily follow-up: invite every candidate, in chunks; the number notified now."""
    months = followup_months()
    ids = list(followup_candidates(now).values_list("pk", "issued_at"))
    sent = 0
    for start in range(0, len(ids), CHUNK):
        for credential_id, issued_at in ids[start : start + CHUNK]:
            due = timezone.make_aware(
                datetime.combine(add_months(timezone.localdate(issued_at), months), time.min)
            )
            sent += invite(credential_id, Wave.FOLLOW_UP, due_at=due)
    return sent


# ---------------------------------------------------------------------------- answering
def invitation_for(user: Any, token: Any) -> SurveyInvitation | None:
    """The user's own sent invitation with this token, or None (someone else's is None too)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        SurveyInvitation.objects.select_related("version", "credential__revocation", "response")
        .filter(token=token, educator_id=user.pk, sent_at__isnull=False)
        .first()
    )


def is_closed(invitation: SurveyInvitation) -> bool:
    """A survey about a revoked credential takes no answers."""
    return hasattr(invitation.credential, "revocation")


def open_invitations(user: Any) -> QuerySet[SurveyInvitation]:
    """The user's surveys waiting for answers, oldest first."""
    return (
        SurveyInvitation.objects.filter(
            educator_id=user.pk,
            sent_at__isnull=False,
            responded_at__isnull=True,
            credential__revocation__isnull=True,
        )
        .select_related("version")
        .order_by("due_at", "pk")
    )


def answered_count(user: Any) -> int:
    return SurveyInvitation.objects.filter(educator_id=user.pk, responded_at__isnull=False).count()


class AlreadyAnswered(Exception):
    """The invitation has its response: a second post changes nothing."""


def respond(
    user: Any, invitation: SurveyInvitation, ratings: Mapping[int, int | None], comment: str
) -> SurveyResponse:
    """Store the answers once: a rating 1-5 or None ("doesn't apply") for each of the five
    levels, and an optional comment. Raises AlreadyAnswered on a second post, ValidationError
    on answers out of range (nothing stored either way)."""
    if invitation.educator_id != user.pk:
        raise ValidationError("This survey was sent to someone else.")
    if set(ratings) != set(Level.values):
        raise ValidationError("Answer each of the five statements.")
    if any(r is not None and not 1 <= r <= 5 for r in ratings.values()):
        raise ValidationError("Each answer is a number from 1 to 5, or “doesn't apply”.")
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationError(f"Keep the comment under {COMMENT_MAX} characters.")
    with transaction.atomic():
        locked = SurveyInvitation.objects.select_for_update().get(pk=invitation.pk)
        if (
            locked.responded_at is not None
            or SurveyResponse.objects.filter(invitation=locked).exists()
        ):
            raise AlreadyAnswered
        if is_closed(invitation):
            raise ValidationError("This survey is closed: the credential was revoked.")
        response = SurveyResponse.objects.create(invitation=locked, comment=comment)
        SurveyAnswer.objects.bulk_create(
            SurveyAnswer(response=response, level=level, rating=rating)
            for level, rating in sorted(ratings.items())
        )
        locked.responded_at = timezone.now()
        locked.save(update_fields=["responded_at"])
        record_audit(
            user,
            "insights.survey_answered",
            locked,
            # Which levels were rated, never the ratings or the comment: the log is read by
            # administrators, the answers are reported only in totals.
            data={
                "wave": locked.wave,
                "levels_rated": sum(r is not None for r in ratings.values()),
            },
            organization=locked.lea,
        )
    invitation.responded_at = locked.responded_at
    return response


# ---------------------------------------------------------------------------- results
@dataclass(frozen=True)
class LevelSummary:
    """One level's results in one wave. `mean` and `agree_share` are None when there is
    nothing to show, and `explanation` says why: no ratings yet, or too few to show."""

    level: int
    wave: str
    n: int  # ratings given (1-5)
    does_not_apply: int
    mean: float | None
    agree_share: float | None  # share of ratings 4 or 5, from 0 to 1
    explanation: str = ""

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]

    @property
    def level_label(self) -> str:
        return str(Level(self.level).label)

    @property
    def wave_label(self) -> str:
        return str(Wave(self.wave).label)

    @property
    def item(self) -> str:
        return item(self.wave, self.level)

    @property
    def suppressed(self) -> bool:
        return 0 < self.n < MIN_RESPONSES

    @property
    def does_not_apply_shown(self) -> bool:
        """ "Doesn't apply" answers are counted aloud only in numbers too large to identify."""
        return self.does_not_apply >= MIN_RESPONSES

    @property
    def agree_percent(self) -> float | None:
        return None if self.agree_share is None else round(self.agree_share * 100, 1)


def answers_in_scope(
    organization_ids: Sequence[int] | None, version_ids: Iterable[int] | None = None
) -> QuerySet[SurveyAnswer]:
    """Answers of surveys about these districts or schools (None: everywhere) and versions."""
    answers = SurveyAnswer.objects.all()
    if organization_ids is not None:
        ids = list(organization_ids)
        answers = answers.filter(
            Q(response__invitation__lea_id__in=ids) | Q(response__invitation__school_id__in=ids)
        )
    if version_ids is not None:
        answers = answers.filter(response__invitation__version_id__in=list(version_ids))
    return answers


def level_summary(
    organization_ids: list[int] | None, version_ids: Iterable[int] | None = None
) -> list[LevelSummary]:
    """Each level in each wave (levels in order, the after-award wave first): how many rated
    it, the mean rating and the share agreeing (4 or 5). One aggregate query."""
    rows = (
        answers_in_scope(organization_ids, version_ids)
        .values("response__invitation__wave", "level")
        .annotate(
            n=Count("rating"),
            does_not_apply=Count("pk", filter=Q(rating__isnull=True)),
            agree=Count("pk", filter=Q(rating__gte=AGREE_FROM)),
            mean=Avg("rating"),
        )
        .order_by()
    )
    found = {(row["response__invitation__wave"], row["level"]): row for row in rows}
    summaries = []
    for level in Level.values:
        for wave in Wave.values:
            row = found.get((wave, level), {})
            n = row.get("n", 0)
            does_not_apply = row.get("does_not_apply", 0)
            if n == 0:
                explanation = (
                    "Everyone who answered said it does not apply to them."
                    if does_not_apply
                    else "No answers yet."
                )
                summaries.append(
                    LevelSummary(level, wave, 0, does_not_apply, None, None, explanation)
                )
            elif n < MIN_RESPONSES:
                summaries.append(
                    LevelSummary(
                        level,
                        wave,
                        n,
                        does_not_apply,
                        None,
                        None,
                        f"Fewer than {MIN_RESPONSES} answers: not shown, so that no one's "
                        "answers can be picked out.",
                    )
                )
            else:
                summaries.append(
                    LevelSummary(
                        level,
                        wave,
                        n,
                        does_not_apply,
                        round(float(row["mean"]), 2),
                        row["agree"] / n,
                    )
                )
    return summaries


def chart(summaries: Sequence[LevelSummary]) -> dict[str, Any]:
    """The shared chart contract (insights/static/insights/charts.js): share agreeing by level,
    one bar series per wave; a hidden or missing figure is null (no bar)."""
    levels = sorted({s.level for s in summaries})
    by_key = {(s.wave, s.level): s for s in summaries}
    return {
        "type": "bar",
        "title": "Share agreeing (4 or 5), by Guskey level",
        "labels": [f"{level}. {LEVEL_NAMES[level]}" for level in levels],
        "datasets": [
            {
                "label": str(Wave(wave).label),
                "data": [
                    by_key[(wave, level)].agree_percent if (wave, level) in by_key else None
                    for level in levels
                ],
            }
            for wave in Wave.values
        ],
        "unit": "%",
    }

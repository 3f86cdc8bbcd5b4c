"""Double scoring and its settlement (issue 9).

A submission gets a second, independent read when its micro-credential's policy draws it: every
submission while the MC is in its first year, a random share of the rest, and any whose first
read lands within a point or so of the pass line. Readers never see each other's scores. When
both reads reach the same outcome, the first read stands (both are kept); when they differ, a
scoring lead's third read decides. The earner sees one decision and the feedback of the read
that carries it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from microcred.catalog.models import MicroCredential, MicroCredentialVersion, OutcomeBand
from microcred.earning.models import Submission
from microcred.orgs.services import SYSTEM, record_audit

from .models import Assignment, Score, ScoringPolicy, SecondRead

Kind = Assignment.Kind
FIRST_YEAR = timedelta(days=365)


def policy_for(micro_credential_id: int) -> ScoringPolicy:
    """The MC's scoring policy or, when it has none of its own, the program's defaults (unsaved):
    the model's, changed by any given in the MICROCRED_SCORING_DEFAULTS setting."""
    policy = ScoringPolicy.objects.filter(micro_credential_id=micro_credential_id).first()
    return policy or _default_policy(micro_credential_id)


def _default_policy(micro_credential_id: int) -> ScoringPolicy:
    defaults = getattr(settings, "MICROCRED_SCORING_DEFAULTS", {})
    return ScoringPolicy(micro_credential_id=micro_credential_id, **defaults)


def policies_for(micro_credential_ids: Iterable[int]) -> dict[int, ScoringPolicy]:
    """`policy_for` of many MCs in one query."""
    wanted = set(micro_credential_ids)
    found = {
        p.micro_credential_id: p
        for p in ScoringPolicy.objects.filter(micro_credential_id__in=wanted)
    }
    for mc_id in wanted - found.keys():
        found[mc_id] = _default_policy(mc_id)
    return found


def in_first_year(micro_credential_id: int) -> bool:
    first = MicroCredentialVersion.objects.filter(
        micro_credential_id=micro_credential_id, published_at__isnull=False
    ).aggregate(first=Min("published_at"))["first"]
    return first is not None and timezone.now() - first < FIRST_YEAR


def _sampled(submission: Submission, percent: int) -> bool:
    # Drawn from the submission's random UUID: unpredictable to anyone, yet the same answer on
    # a retry, so a crash between draw and commit cannot draw twice.
    return submission.uuid.int % 10_000 < percent * 100


def _record(submission: Submission, reason: str) -> SecondRead:
    second, created = SecondRead.objects.get_or_create(
        submission=submission, defaults={"reason": reason}
    )
    if created:
        record_audit(SYSTEM, "second_read.drawn", second, data={"reason": reason})
    return second


def draw_second_read(submission: Submission) -> SecondRead | None:
    """At submission: a second read for MCs in their first year and for the random share.
    Nothing for a submission no longer waiting (withdrawn, or already decided)."""
    if (
        submission.status
        not in (
            Submission.Status.AWAITING_ASSESSOR,
            Submission.Status.IN_SCORING,
        )
        or Score.objects.filter(assignment__submission=submission).exists()
    ):
        return None
    mc_id = submission.attempt.version.micro_credential_id
    policy = policy_for(mc_id)
    if policy.second_read_first_year and in_first_year(mc_id):
        return _record(submission, SecondRead.Reason.FIRST_YEAR)
    if _sampled(submission, policy.second_read_percent):
        return _record(submission, SecondRead.Reason.SAMPLED)
    return None


def pass_line(version_id: int) -> int:
    """The fewest points in a passing band."""
    return (
        OutcomeBand.objects.filter(rubric__version_id=version_id, passing=True).aggregate(
            line=Min("min_points")
        )["line"]
        or 0
    )


def near_pass(score: Score, version_id: int, margin: int) -> bool:
    """Within `margin` points of the pass line, which runs between the highest failing total
    and the lowest passing one: with a line at 16 and a margin of 1, totals 15 and 16 (0 turns
    the rule off)."""
    line = pass_line(version_id)
    distance = score.total_points - line + 1 if score.passed else line - score.total_points
    return distance <= margin


def settle(submission: Submission, score: Score) -> Score | None:
    """After a live read: the score that decides the submission, or None while another read is
    still needed (recorded here; planning gives it to someone)."""
    kind = score.assignment.kind
    if kind == Kind.THIRD:
        return score
    reads = {
        s.assignment.kind: s
        for s in Score.objects.filter(
            assignment__submission=submission,
            assignment__purpose=Assignment.Purpose.LIVE,
            assignment__kind__in=[Kind.PRIMARY, Kind.SECOND],
        ).select_related("assignment")
    }
    if not SecondRead.objects.filter(submission=submission).exists():
        version = submission.attempt.version
        policy = policy_for(version.micro_credential_id)
        if kind == Kind.PRIMARY and near_pass(score, version.pk, policy.second_read_margin):
            _record(submission, SecondRead.Reason.NEAR_PASS)
            return None
        return reads.get(Kind.PRIMARY, score)
    if len(reads) < 2:
        return None
    first, second = reads[Kind.PRIMARY], reads[Kind.SECOND]
    if first.passed == second.passed:
        return first
    record_audit(
        SYSTEM,
        "second_read.disagreed",
        submission,
        data={"first": first.total_points, "second": second.total_points},
    )
    return None


def save_policy(
    micro_credential: MicroCredential, *, data: dict[str, Any], actor: Any
) -> ScoringPolicy:
    """Set how an MC is scored (the form has checked each field); audited with what changed.
    Applies from now on: draws and calibrations already made keep the rules they were made by."""
    with transaction.atomic():
        policy = ScoringPolicy.objects.filter(micro_credential=micro_credential).first()
        before = policy_values(policy or _default_policy(micro_credential.pk))
        policy = policy or ScoringPolicy(micro_credential=micro_credential)
        for name, value in data.items():
            setattr(policy, name, value)
        policy.save()
        after = policy_values(policy)
        changed = {k: [str(before[k]), str(v)] for k, v in after.items() if before[k] != v}
        record_audit(actor, "scoring_policy.saved", policy, data={"changed": changed})
    return policy


def policy_values(policy: ScoringPolicy) -> dict[str, Any]:
    return {
        f.name: getattr(policy, f.attname)
        for f in ScoringPolicy._meta.concrete_fields
        if f.name not in ("id", "micro_credential", "updated")
    }


@dataclass(frozen=True)
class PolicyRow:
    micro_credential_id: int
    title: str
    policy: ScoringPolicy
    own: bool  # False: the program's defaults
    first_year: bool


def policy_rows(micro_credential_ids: Iterable[int] | None = None) -> list[PolicyRow]:
    """Each published MC (or these) with the policy it is scored by, in four queries."""
    versions = MicroCredentialVersion.objects.filter(status=MicroCredentialVersion.Status.PUBLISHED)
    if micro_credential_ids is not None:
        versions = MicroCredentialVersion.objects.filter(
            micro_credential_id__in=micro_credential_ids
        ).order_by("micro_credential_id", "-number")
    titles: dict[int, str] = {}
    for mc_id, title in versions.values_list("micro_credential_id", "title"):
        titles.setdefault(mc_id, title)
    found = policies_for(titles)
    firsts = dict(
        MicroCredentialVersion.objects.filter(
            micro_credential_id__in=titles, published_at__isnull=False
        )
        .values("micro_credential_id")
        .annotate(first=Min("published_at"))
        .values_list("micro_credential_id", "first")
    )
    now = timezone.now()
    return sorted(
        (
            PolicyRow(
                micro_credential_id=mc_id,
                title=title,
                policy=found[mc_id],
                own=found[mc_id].pk is not None,
                first_year=mc_id in firsts and now - firsts[mc_id] < FIRST_YEAR,
            )
            for mc_id, title in titles.items()
        ),
        key=lambda row: row.title.lower(),
    )

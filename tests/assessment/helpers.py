"""Helpers for assessment tests: a filled portfolio, the marks and feedback a score needs, reads
scored through the services or written as fixed scores, and scoring policies."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from django.test import Client
from django.utils import timezone

from microcred.assessment import calibration, services
from microcred.assessment.models import (
    AssessorProfile,
    Assignment,
    CalibrationAnchor,
    CalibrationRound,
    CalibrationSet,
    ComponentScore,
    Score,
    ScoringPolicy,
)
from microcred.catalog.models import (
    EvidenceRequirement,
    MicroCredential,
    MicroCredentialVersion,
    Rubric,
    RubricComponent,
)
from microcred.earning import services as earning
from microcred.earning.models import Annotation, Artifact, EvidenceItem, Submission, Upload
from microcred.orgs.models import User

_keys = itertools.count(1)
# Master totals of a calibration set's anchors: passing (16+) and failing ones, as a real set
# mixes them.
ANCHOR_MASTERS = (17, 18, 12, 9, 16, 14, 19, 11)


def qualify_for(profile: AssessorProfile, *micro_credentials: MicroCredential) -> None:
    """Put the assessor forward for these MCs and attest a current qualification for each."""
    profile.qualified_micro_credentials.add(*micro_credentials)
    for mc in micro_credentials:
        calibration.qualify(
            profile, mc, actor=profile.user, source="attested", note="Qualified for the test."
        )


def fill_portfolio(attempt: Any, user: User) -> None:
    """Write every text part and attach a probed 11-minute video with two notes."""
    first, second = RubricComponent.objects.filter(rubric__version=attempt.version).order_by(
        "order"
    )[:2]
    for requirement in attempt.version.evidence_requirements.order_by("order"):
        if requirement.kind in EvidenceRequirement.TEXT_KINDS:
            earning.save_text(attempt, requirement, user=user, text="I coached my mentee weekly.")
            continue
        n = next(_keys)
        upload = Upload.objects.create(
            owner=user,
            key=f"evidence/test/{n}.mp4",
            backend=Upload.Backend.LOCAL,
            filename=f"{user.last_name}-coaching.mp4",
            size=1000,
            part_size=1000,
            max_bytes=10**9,
            status=Upload.Status.COMPLETE,
            content_type="video/mp4",
            sha256=f"{n:064x}",
            probe_status=Upload.ProbeStatus.READY,
            duration_seconds=660,
            video_codec="h264",
            # The worker's copy without metadata, the only one assessors get (invariant 2).
            blind_key=f"evidence/test/{n}.blind.mp4",
            blind_type="video/mp4",
        )
        item, _ = EvidenceItem.objects.get_or_create(attempt=attempt, requirement=requirement)
        artifact = Artifact.objects.create(evidence=item, upload=upload)
        Annotation.objects.create(
            artifact=artifact, seconds=195, rubric_component=first, note="Outcome-based talk"
        )
        Annotation.objects.create(
            artifact=artifact, seconds=420, rubric_component=second, note="Feedback with data"
        )


def component_ids(version: MicroCredentialVersion) -> list[RubricComponent]:
    return list(
        RubricComponent.objects.filter(rubric__version=version)
        .prefetch_related("criteria")
        .order_by("order")
    )


def marks_for(version: MicroCredentialVersion, total: int) -> dict[int, list[int]]:
    """Details checked to reach `total` points, filling components in order."""
    marks: dict[int, list[int]] = {}
    left = total
    for component in component_ids(version):
        chosen = [c.pk for c in component.criteria.order_by("order")][: max(0, min(5, left))]
        left -= len(chosen)
        marks[component.pk] = chosen
    return marks


def feedback_for_all(version: MicroCredentialVersion) -> dict[int, str]:
    return {c.pk: f"Clear evidence for {c.title}." for c in component_ids(version)}


# What would identify the earner made by make_submission(): name, school, district, file.
EARNER_TRACES = ["Inez", "Earner", "Pine Elementary", "Pine County", "coaching.mp4", "@example"]


def assert_blind(text: str, submission: Any) -> None:
    """Nothing in the page or JSON names the earner, their school, district or file."""
    for trace in [*EARNER_TRACES, submission.attempt.earner.email]:
        assert trace not in text, f"{trace!r} leaks the earner's identity"


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def set_policy(version: MicroCredentialVersion, **fields: Any) -> ScoringPolicy:
    """The MC's scoring policy with every second-read rule off unless `fields` turn one on, so a
    test only meets the rules it names."""
    values = {"second_read_percent": 0, "second_read_first_year": False, "second_read_margin": 0}
    return ScoringPolicy.objects.create(
        micro_credential=version.micro_credential, **{**values, **fields}
    )


def points_by_component(version: MicroCredentialVersion, marks: dict[int, list[int]]) -> list[int]:
    """Points per component (in rubric order) of the details checked."""
    return [
        sum(c.points for c in component.criteria.all() if c.pk in marks[component.pk])
        for component in component_ids(version)
    ]


def marks_from_points(
    version: MicroCredentialVersion, points: Sequence[int]
) -> dict[int, list[int]]:
    """The details to check for these points per component (in rubric order)."""
    return {
        component.pk: [c.pk for c in component.criteria.order_by("order")][:n]
        for component, n in zip(component_ids(version), points, strict=True)
    }


def points_for(version: MicroCredentialVersion, points: Sequence[int]) -> dict[int, int]:
    """Points per component pk, as anchors.add_anchor takes master points (in rubric order)."""
    return {c.pk: n for c, n in zip(component_ids(version), points, strict=True)}


def score_at(assignment: Assignment, total: int | None = None, **changes: Any) -> Score:
    """The assignment's assessor scores it on the ordinary scoring path: `total` points filled
    in rubric order unless `changes` give the component_points."""
    version = assignment.submission.attempt.version
    arguments: dict[str, Any] = {
        "assessor": assignment.assessor.user,
        "feedback": feedback_for_all(version),
        "overall_feedback": "Specific and well evidenced.",
        "minutes_spent": 45,
    }
    if total is not None:
        arguments["component_points"] = marks_for(version, total)
    return services.submit_score(assignment, **{**arguments, **changes})


def score_read(
    assignment: Assignment, version: MicroCredentialVersion, total: int, **changes: Any
) -> Score:
    """score_at() with feedback that names the read, so a test can tell whose feedback an earner
    sees."""
    feedback = {
        pk: f"{text} (read {assignment.pk})" for pk, text in feedback_for_all(version).items()
    }
    changes = {
        "feedback": feedback,
        "overall_feedback": f"Overall feedback of read {assignment.pk}.",
        **changes,
    }
    return score_at(assignment, total, **changes)


def open_read(submission: Submission, kind: str) -> Assignment:
    return Assignment.objects.select_related("assessor__user").get(
        submission=submission,
        kind=kind,
        status=Assignment.Status.ASSIGNED,
        purpose=Assignment.Purpose.LIVE,
    )


def score_round(
    calibration_round: CalibrationRound,
    version: MicroCredentialVersion,
    marks: Callable[[CalibrationAnchor], dict[int, list[int]]],
) -> None:
    """The assessor scores every anchor of the round on the ordinary scoring path."""
    for assignment in calibration_round.assignments.select_related("anchor", "assessor__user"):
        services.start_scoring(assignment, assessor=assignment.assessor.user)
        score_at(
            assignment,
            component_points=marks(assignment.anchor),
            overall_feedback="Calibration read.",
            minutes_spent=30,
        )


def record(assignment: Assignment, total: int) -> Score:
    """A fixed score of `total` points written straight to the tables (components filled in
    rubric order), for monitoring, which reads scores however they were made."""
    version = assignment.submission.attempt.version
    band = services.band_for(Rubric.objects.get(version=version), total)
    fixed = Score.objects.create(
        assignment=assignment,
        total_points=total,
        band=band,
        passed=band.passing,
        overall_feedback="Fixed score.",
        minutes_spent=10,
    )
    ComponentScore.objects.bulk_create(
        ComponentScore(score=fixed, rubric_component=component, points=points, feedback="x")
        for component, points in zip(
            component_ids(version),
            points_by_component(version, marks_for(version, total)),
            strict=True,
        )
    )
    Assignment.objects.filter(pk=assignment.pk).update(status=Assignment.Status.COMPLETED)
    return fixed


def drift_reads(
    profile: AssessorProfile, calibration_set: CalibrationSet, given: Callable[[int], int]
) -> list[Score]:
    """The assessor scores every anchor of the set as a drift check: given(master) points."""
    return [
        record(
            Assignment.objects.create(
                submission=anchor.submission,
                assessor=profile,
                purpose=Assignment.Purpose.DRIFT_CHECK,
                anchor=anchor,
                due_at=timezone.now(),
            ),
            given(anchor.master_total),
        )
        for anchor in calibration_set.anchors.order_by("pk")
    ]


def double_read(
    submission: Submission, first: AssessorProfile, second: AssessorProfile, totals: tuple[int, int]
) -> tuple[Score, Score]:
    scores = tuple(
        record(
            Assignment.objects.create(
                submission=submission, assessor=profile, kind=kind, due_at=timezone.now()
            ),
            total,
        )
        for profile, kind, total in (
            (first, Assignment.Kind.PRIMARY, totals[0]),
            (second, Assignment.Kind.SECOND, totals[1]),
        )
    )
    return scores[0], scores[1]


def harsher(by: int) -> Callable[[int], int]:
    return lambda master: max(0, master - by)

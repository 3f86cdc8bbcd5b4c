"""Helpers for assessment tests: a filled portfolio, and the marks and feedback a score needs."""

from __future__ import annotations

import itertools
from typing import Any

from microcred.assessment import calibration
from microcred.assessment.models import AssessorProfile
from microcred.catalog.models import (
    EvidenceRequirement,
    MicroCredential,
    MicroCredentialVersion,
    RubricComponent,
)
from microcred.earning import services as earning
from microcred.earning.models import Annotation, Artifact, EvidenceItem, Upload
from microcred.orgs.models import User

_keys = itertools.count(1)


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

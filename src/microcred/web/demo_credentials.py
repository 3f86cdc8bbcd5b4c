"""The demo's earned micro-credentials: portfolios built, submitted, scored and issued by the
same services a teacher and an assessor use, so a new user sees every state of a credential.

Each portfolio in data/demo_portfolios.json gets a real (plain grey) classroom video, uploaded
through the part-by-part path and probed, its time-stamped notes, and the written parts. The
demo assessor scores it in the top level of every rubric component; the credential is issued
at once (no worker needed), a completed stack issues its own, and one credential is revoked by
the issuer admin. Portfolios an earner already has are left alone, so running it again
changes nothing.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from microcred.assessment import calibration
from microcred.assessment import services as assessment
from microcred.assessment.models import AssessorProfile, Assignment, Award, Qualification
from microcred.catalog.models import (
    EvidenceRequirement,
    MicroCredential,
    MicroCredentialVersion,
    Rubric,
)
from microcred.credentials import services as credentials
from microcred.credentials.models import IssuedCredential
from microcred.earning import selectors as earning_selectors
from microcred.earning import services as earning
from microcred.earning.models import Attempt
from microcred.earning.sample_media import write_video
from microcred.earning.uploads.services import store_server_file
from microcred.orgs.demo import DemoWorld
from microcred.orgs.models import Role, User

PORTFOLIOS = Path(__file__).parent / "data" / "demo_portfolios.json"
ASSESSMENT_ORG = "educator-assessment-center"
# Long enough for every demo video part (the shortest allows 5 to 10 minutes); one frame a
# second keeps the file small and quick to make.
VIDEO_SECONDS = 310


@dataclass
class CredentialReport:
    issued: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    stacks: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    # (credential, reason, title): revoked by `revoke_planned`, once the rest of the demo
    # (the ledger) has seen them issued.
    to_revoke: list[tuple[IssuedCredential, str, str]] = field(default_factory=list)


def _assessor(world: DemoWorld) -> AssessorProfile:
    """The demo assessor, qualified for every published micro-credential. The scoring lead
    scores too, so a second read drawn by an MC's first year has someone to go to."""
    _pool_member(world, world.person(Role.SCORING_LEAD))
    return _pool_member(world, world.person(Role.ASSESSOR))


def _pool_member(world: DemoWorld, user: User) -> AssessorProfile:
    profile = AssessorProfile.objects.filter(user=user).first()
    if profile is not None:
        return profile
    published = MicroCredentialVersion.objects.filter(
        status=MicroCredentialVersion.Status.PUBLISHED
    ).values_list("micro_credential", flat=True)
    profile = assessment.save_profile(
        actor=world.person(Role.SCORING_LEAD),
        data={
            "user": user,
            "home_organization": world.organizations[ASSESSMENT_ORG],
            "weekly_capacity": 10,
            "pay_rate": "75.00",
            "active": True,
            "qualified_micro_credentials": list(published),
        },
    )
    # The demo's MCs have no anchor sets yet, so the scoring lead attests the assessor.
    for mc in MicroCredential.objects.filter(pk__in=published):
        calibration.qualify(
            profile,
            mc,
            actor=world.person(Role.SCORING_LEAD),
            source=Qualification.Source.ATTESTED,
            note="Scored the pilot submissions with the provider's master scorers.",
        )
    return profile


def fill_portfolio(attempt: Attempt, earner: User, spec: dict[str, Any], video: Path) -> None:
    components = list(attempt.version.rubric.components.order_by("order"))
    for requirement in attempt.version.evidence_requirements.order_by("order"):
        if requirement.kind == EvidenceRequirement.Kind.REFLECTION:
            earning.save_text(attempt, requirement, user=earner, text=spec["reflection"])
        elif requirement.kind in EvidenceRequirement.TEXT_KINDS:
            earning.save_text(attempt, requirement, user=earner, text=spec["written"])
        else:
            policy = earning_selectors.upload_policy(requirement)
            upload = store_server_file(earner, policy, video, filename="lesson.mp4")
            artifact = earning.attach_upload(attempt, requirement, user=earner, upload=upload)
            for seconds, component, note in spec["notes"]:
                earning.add_annotation(
                    artifact,
                    user=earner,
                    seconds=seconds,
                    component_id=components[component].pk,
                    note=note,
                )


def _top_marks(rubric: Rubric) -> dict[int, list[int]]:
    """Every detail checked, or the highest level chosen, in each component."""
    marks = {}
    for component in rubric.components.prefetch_related("criteria"):
        criteria = list(component.criteria.all())
        if rubric.scoring == Rubric.Scoring.LEVELS:
            criteria = [max(criteria, key=lambda c: c.points)]
        marks[component.pk] = [c.pk for c in criteria]
    return marks


def _score(attempt: Attempt, feedback: str) -> Award:
    submission = attempt.submissions.get()
    assignment = Assignment.objects.filter(submission=submission).first() or assessment.assign(
        submission
    )
    if assignment is None:
        raise RuntimeError(f"No demo assessor could take “{attempt.version.title}”.")
    rubric = attempt.version.rubric
    assessment.submit_score(
        assignment,
        assessor=assignment.assessor.user,  # the planner chose between the demo's two readers
        component_points=_top_marks(rubric),
        feedback={component.pk: feedback for component in rubric.components.all()},
        overall_feedback=feedback,
        minutes_spent=35,
    )
    return Award.objects.get(attempt=attempt, earner=attempt.earner)


def _earn(world: DemoWorld, spec: dict[str, Any], video: Path) -> IssuedCredential | None:
    """The spec's credential, earned now; None when the earner already has that attempt."""
    earner = world.people[spec["earner"]]
    version = MicroCredentialVersion.objects.get(
        micro_credential__slug=spec["micro_credential"],
        status=MicroCredentialVersion.Status.PUBLISHED,
    )
    mc = version.micro_credential
    if Attempt.objects.filter(earner=earner, version__micro_credential=mc).exists():
        return None
    attempt, _ = earning.start_attempt(version, user=earner)
    fill_portfolio(attempt, earner, spec, video)
    earning.submit(attempt, user=earner)
    return credentials.issue_for_award(_score(attempt, spec["feedback"]))


def load_credentials(world: DemoWorld) -> CredentialReport:
    """Earn, issue and complete a stack of what is missing of the demo's credentials (the
    ones to revoke are noted for `revoke_planned`); run
    it inside the caller's transaction, after the catalog."""
    report = CredentialReport()
    specs = json.loads(PORTFOLIOS.read_text(encoding="utf-8"))
    _assessor(world)
    with tempfile.TemporaryDirectory() as folder:
        video = Path(folder) / "lesson.mp4"
        write_video(video, seconds=VIDEO_SECONDS, fps=1, audio=None)
        for spec in specs:
            credential = _earn(world, spec, video)
            title = f"{spec['earner']}: {spec['micro_credential']}"
            (report.issued if credential else report.present).append(title)
            if credential and spec.get("revoke"):
                report.to_revoke.append((credential, spec["revoke"], title))
    for email in sorted({spec["earner"] for spec in specs}):
        for stack_credential in credentials.issue_completed_stacks(world.people[email]):
            report.stacks.append(f"{email}: {stack_credential.document['name']}")
    return report


def revoke_planned(world: DemoWorld, report: CredentialReport) -> None:
    """Revoke the credentials the demo revokes (after the ledger posted what they granted,
    so it shows their reversal). A stack credential resting on one is revoked with it."""
    for credential, reason, title in report.to_revoke:
        credentials.revoke(world.person(Role.ISSUER_ADMIN), credential, reason)
        report.revoked.append(title)
    report.to_revoke.clear()

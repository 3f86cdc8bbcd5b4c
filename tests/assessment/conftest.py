"""Assessment test data: a published coaching MC, assessors, and real submissions made through
the earning app's services (start, write, attach a probed video with notes, submit)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from microcred.assessment import services
from microcred.assessment.models import (
    AnchorComponentScore,
    AssessorProfile,
    Assignment,
    CalibrationAnchor,
    CalibrationSet,
    ScoringPolicy,
)
from microcred.catalog.models import MicroCredentialVersion, Rubric
from microcred.earning import services as earning
from microcred.earning.models import Submission, TeamMember
from microcred.orgs.models import Organization, Role, User
from tests.assessment.helpers import (
    ANCHOR_MASTERS,
    component_ids,
    fill_portfolio,
    marks_for,
    points_by_component,
    qualify_for,
    set_policy,
)
from tests.catalog.factories import catalog_people

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def version(org_tree, make_user) -> MicroCredentialVersion:
    """The published Collaborative Leadership Coaching MC (20 points; Yes 16+, Almost 13+)."""
    return catalog_people(org_tree, make_user).publish()


@pytest.fixture
def make_assessor(make_user, org_tree, version) -> Callable[..., AssessorProfile]:
    """make_assessor(home=org, qualified=True, **fields): an assessor qualified for the MC."""

    def make(
        home: Organization | None = None, *, qualified: bool = True, **fields: Any
    ) -> AssessorProfile:
        user = make_user(Role.ASSESSOR, org_tree["assess"], first_name="Asa", last_name="Sessor")
        profile = AssessorProfile.objects.create(
            user=user, home_organization=home or org_tree["assess"], **fields
        )
        if qualified:
            qualify_for(profile, version.micro_credential)
        return profile

    return make


@pytest.fixture
def make_earner(make_user, org_tree) -> Callable[..., User]:
    def make(school: Organization | None = None, **extra: Any) -> User:
        extra.setdefault("first_name", "Inez")
        extra.setdefault("last_name", "Earner")
        return make_user(Role.EARNER, school or org_tree["school1"], **extra)

    return make


@pytest.fixture
def make_submission(version, make_earner) -> Callable[..., Submission]:
    """make_submission(earner=None, team=()): a real submission of the coaching MC."""

    def make(earner: User | None = None, team: Sequence[User] = ()) -> Submission:
        earner = earner or make_earner()
        attempt, _ = earning.start_attempt(version, user=earner)
        if team:
            earning.create_team(attempt, user=earner, name="Our PLC")
            for colleague in team:
                member = earning.invite(attempt, user=earner, invitee_id=colleague.pk)
                earning.respond_to_invitation(member, user=colleague, accept=True)
            attempt.refresh_from_db()
            assert attempt.team.members.filter(status=TeamMember.Status.ACTIVE).count() == 1 + len(
                team
            )
        if not attempt.evidence.exists():
            fill_portfolio(attempt, earner)
        return earning.submit(attempt, user=earner)

    return make


@pytest.fixture
def submit(make_submission, django_capture_on_commit_callbacks) -> Callable[..., Submission]:
    """Submit as an earner does: the earning app hands the submission to assessment once the
    transaction commits (draw a second read, then plan its reads)."""

    def make(**kwargs: Any) -> Submission:
        with django_capture_on_commit_callbacks(execute=True):
            return make_submission(**kwargs)

    return make


@pytest.fixture
def assigned(make_assessor, make_submission) -> Assignment:
    """An open first read of a real submission, with its assessor."""
    profile = make_assessor()
    assignment = services.assign(make_submission())
    assert assignment is not None and assignment.assessor == profile
    return assignment


@pytest.fixture
def lead(make_user, org_tree) -> User:
    return make_user(Role.SCORING_LEAD, org_tree["assess"])


@pytest.fixture
def trainee(make_assessor, version) -> AssessorProfile:
    """Trained for the MC (put forward by a lead), not yet qualified."""
    profile = make_assessor(qualified=False)
    profile.qualified_micro_credentials.add(version.micro_credential)
    return profile


@pytest.fixture
def drift_policy(version) -> ScoringPolicy:
    """Four pairs are enough, so tests stay small; no second reads unless a test makes them."""
    return set_policy(version, drift_min_pairs=4, calibration_min_anchors=2)


@pytest.fixture
def submissions(make_submission) -> Callable[[int], list[Submission]]:
    """n submissions of the MC: one made through the earning services, the rest its siblings
    (further numbers of the same attempt), which is all a pair or an anchor needs."""

    def make(n: int) -> list[Submission]:
        base = make_submission()
        return [base] + [
            Submission.objects.create(
                attempt=base.attempt,
                number=number,
                snapshot=base.snapshot,
                submitted_by=base.submitted_by,
            )
            for number in range(2, n + 1)
        ]

    return make


@pytest.fixture
def anchor_set(version, lead, submissions) -> Callable[..., CalibrationSet]:
    """anchor_set(masters): a calibration set written by the lead, one anchor per master total
    with master points per component filled in rubric order."""
    rubric = Rubric.objects.get(version=version)

    def make(masters: Sequence[int] = ANCHOR_MASTERS) -> CalibrationSet:
        calibration_set = CalibrationSet.objects.create(
            version=version, title="Coaching anchors", created_by=lead
        )
        for total, submission in zip(masters, submissions(len(masters)), strict=True):
            band = services.band_for(rubric, total)
            anchor = CalibrationAnchor.objects.create(
                calibration_set=calibration_set,
                submission=submission,
                source=CalibrationAnchor.Source.WRITTEN,
                master_total=total,
                master_band=band,
                master_passed=band.passing,
                created_by=lead,
            )
            AnchorComponentScore.objects.bulk_create(
                AnchorComponentScore(anchor=anchor, rubric_component=component, points=points)
                for component, points in zip(
                    component_ids(version),
                    points_by_component(version, marks_for(version, total)),
                    strict=True,
                )
            )
        return calibration_set

    return make

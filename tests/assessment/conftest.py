"""Assessment test data: a published coaching MC, assessors, and real submissions made through
the earning app's services (start, write, attach a probed video with notes, submit)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from microcred.assessment.models import AssessorProfile
from microcred.catalog.models import MicroCredentialVersion
from microcred.earning import services as earning
from microcred.earning.models import Submission, TeamMember
from microcred.orgs.models import Organization, Role, User
from tests.assessment.helpers import fill_portfolio, qualify_for
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

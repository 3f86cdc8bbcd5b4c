"""Fixtures for tests of issued credentials: real Awards, made the way the app makes them
(an earner submits the coaching MC, an assessor scores it in the passing band).

Import the fixtures a module needs: `from tests.credentials.awards import *  # noqa: F403`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from microcred.assessment import services as assessment
from microcred.assessment.models import Assignment, Award
from microcred.credentials import services
from microcred.credentials.models import IssuedCredential
from microcred.orgs.models import Role, User
from tests.assessment.conftest import (  # fixtures, re-exported through __all__
    make_assessor,
    make_earner,
    make_submission,
    version,
)
from tests.assessment.helpers import feedback_for_all, marks_for

__all__ = [
    "award",
    "credential",
    "issuer_admin",
    "make_assessor",
    "make_award",
    "make_earner",
    "make_submission",
    "other_issuer_admin",
    "version",
]


@pytest.fixture
def make_award(make_assessor, make_submission, version) -> Callable[..., Award]:
    """make_award(earner=None, total=18): score a real submission; returns its Award (the
    credential is not issued yet: on_commit callbacks do not run inside a test)."""
    make_assessor()

    def make(earner: User | None = None, total: int = 18) -> Award:
        submission = make_submission(earner)
        # Outside a test transaction (browser and live-server tests) the submission was
        # assigned when it committed; inside one, on_commit never runs, so assign it here.
        assignment = Assignment.objects.filter(submission=submission).first() or assessment.assign(
            submission
        )
        assessment.submit_score(
            assignment,
            assessor=assignment.assessor.user,
            component_points=marks_for(version, total),
            feedback=feedback_for_all(version),
            overall_feedback="Specific and well evidenced.",
            minutes_spent=40,
        )
        return Award.objects.get(attempt=submission.attempt, earner=submission.attempt.earner)

    return make


@pytest.fixture
def award(make_award) -> Award:
    return make_award()


@pytest.fixture
def credential(award) -> IssuedCredential:
    return services.issue_for_award(award)


@pytest.fixture
def issuer_admin(make_user, org_tree) -> User:
    return make_user(Role.ISSUER_ADMIN, org_tree["issuer"])


@pytest.fixture
def other_issuer_admin(make_user, org_tree) -> User:
    """An issuer admin of another issuer organization (not the one that issued)."""
    from microcred.orgs.models import Organization

    other = Organization.objects.create(
        kind=Organization.Kind.ISSUER, name="Other State Issuer", slug="other-issuer"
    )
    return make_user(Role.ISSUER_ADMIN, other)

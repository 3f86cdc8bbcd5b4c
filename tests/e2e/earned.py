"""A browser test's earned micro-credential: a real submission scored in the passing band by
the services, in the live server's database. Import what a module needs:
`from .earned import *  # noqa: F403`."""

from __future__ import annotations

import pytest

from microcred.assessment import services as assessment
from microcred.assessment.models import Assignment, Award
from tests.assessment.conftest import make_assessor, make_earner, make_submission, version
from tests.assessment.helpers import feedback_for_all, marks_for

__all__ = ["award", "make_assessor", "make_earner", "make_submission", "version"]  # fixtures


@pytest.fixture
def award(seeded_db, make_assessor, make_submission, version) -> Award:
    make_assessor()
    submission = make_submission()
    # Outside a test transaction the submission is assigned as soon as it commits.
    assignment = Assignment.objects.get(submission=submission)
    assessment.submit_score(
        assignment,
        assessor=assignment.assessor.user,
        component_points=marks_for(version, 18),
        feedback=feedback_for_all(version),
        overall_feedback="Specific and well evidenced.",
        minutes_spent=40,
    )
    return Award.objects.get(attempt=submission.attempt)

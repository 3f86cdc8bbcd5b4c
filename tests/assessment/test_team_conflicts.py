"""Invariant 1 for a team of two districts (issue 11): the schools and districts of every active
member count as the submission's, so an assessor from the second member's district is never
assigned it; a member who declined does not count."""

from __future__ import annotations

from typing import Any

import pytest

from microcred.assessment import services
from microcred.assessment.conflicts import conflicts_between, submission_facts
from microcred.earning import services as earning
from microcred.earning import teams
from microcred.earning.models import Submission
from tests.assessment.helpers import fill_portfolio

pytestmark = pytest.mark.django_db

WORKPLACE = "They work in the earner's school or district."


@pytest.fixture
def cross_district_team(version, make_earner, org_tree) -> dict[str, Any]:
    """An earner of Pine Elementary (Pine County) with a teammate of Oak Middle (Oak City),
    invited by email as any educator outside the school is."""
    earner = make_earner(org_tree["school1"])
    teammate = make_earner(org_tree["school2"], first_name="Omar", last_name="Oak")
    attempt, _ = earning.start_attempt(version, user=earner)
    earning.create_team(attempt, user=earner, name="Two-district PLC")
    attempt.refresh_from_db()
    return {"earner": earner, "teammate": teammate, "attempt": attempt}


def submit(team: dict[str, Any]) -> Submission:
    attempt = team["attempt"]
    fill_portfolio(attempt, team["earner"])
    return earning.submit(attempt, user=team["earner"])


def join(team: dict[str, Any], *, accept: bool) -> None:
    member = teams.invite_by_email(
        team["attempt"], user=team["earner"], email=team["teammate"].email
    )
    earning.respond_to_invitation(member, user=team["teammate"], accept=accept)


def test_an_assessor_of_the_second_members_district_is_not_assigned(
    cross_district_team, make_assessor, org_tree
):
    join(cross_district_team, accept=True)
    oak = make_assessor(home=org_tree["lea2"])
    submission = submit(cross_district_team)
    facts = submission_facts(submission)
    assert {org_tree["lea1"].pk, org_tree["lea2"].pk} <= facts.district_ids
    assert cross_district_team["teammate"].pk in facts.earner_ids
    assert WORKPLACE in conflicts_between(oak, submission)
    # The Oak City assessor is the only one qualified: the read waits, unassigned.
    assert services.assign(submission) is None
    assert not submission.assignments.exists()
    # An independent assessor gets it, never the Oak City one.
    independent = make_assessor()
    assignment = services.assign(submission)
    assert assignment is not None and assignment.assessor == independent


def test_a_member_who_declined_does_not_count(cross_district_team, make_assessor, org_tree):
    join(cross_district_team, accept=False)
    oak = make_assessor(home=org_tree["lea2"])
    submission = submit(cross_district_team)
    assert org_tree["lea2"].pk not in submission_facts(submission).district_ids
    assert conflicts_between(oak, submission) == []
    assignment = services.assign(submission)
    assert assignment is not None and assignment.assessor == oak

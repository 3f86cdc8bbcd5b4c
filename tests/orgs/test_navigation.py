"""The menu each role sees: entries by role, and oversight entries only where allowed."""

from __future__ import annotations

import pytest

from microcred.orgs.models import Role
from microcred.orgs.selectors import navigation_for

pytestmark = pytest.mark.django_db


def _labels(user) -> list[str]:
    return [item.label for item in navigation_for(user)]


def test_a_scoring_lead_reaches_the_scoring_program(make_user, org_tree):
    lead = make_user(Role.SCORING_LEAD, org_tree["assess"])
    assert _labels(lead) == [
        "Assessors",
        "Scoring policies",
        "Calibration sets",
        "Scoring reliability",
        "Assessor pay",
    ]


def test_the_state_program_office_oversees_scoring_a_district_office_does_not(make_user, org_tree):
    state = make_user(Role.PROGRAM_ADMIN, org_tree["state"])
    district = make_user(Role.PROGRAM_ADMIN, org_tree["lea1"])
    assert {"Scoring reliability", "Assessor pay"} <= set(_labels(state))
    assert not {"Scoring reliability", "Assessor pay"} & set(_labels(district))


def test_a_recognizer_reaches_policies_ledger_licenses_and_credentials_from_elsewhere(
    make_user, org_tree
):
    hr = make_user(Role.RECOGNIZER_ADMIN, org_tree["lea1"])
    assert _labels(hr) == [
        "Recognition policies",
        "Approvals for use",
        "Ledger",
        "Credentials from elsewhere",
        "Licenses and renewal",
    ]


def test_staff_progress_shows_once_for_a_principal_who_is_also_a_program_admin(make_user, org_tree):
    from microcred.orgs.models import Membership

    principal = make_user(Role.PRINCIPAL, org_tree["school1"])
    Membership.objects.create(
        user=principal, organization=org_tree["lea1"], role=Role.PROGRAM_ADMIN
    )
    assert _labels(principal).count("Staff progress") == 1
    earner = make_user(Role.EARNER, org_tree["school1"])
    assert "Staff progress" not in _labels(earner) and "My record" in _labels(earner)


def test_the_people_around_the_earner_each_reach_their_own_work(make_user, org_tree):
    """Issue 11: the coach, the program offices and the researcher each have their own menu
    and dashboard steps, not the teacher's "Find a micro-credential"."""
    from microcred.orgs.selectors import next_steps_for

    coach = make_user(Role.COACH, org_tree["school1"])
    state = make_user(Role.PROGRAM_ADMIN, org_tree["state"])
    district = make_user(Role.PROGRAM_ADMIN, org_tree["lea1"])
    researcher = make_user(Role.RESEARCHER, org_tree["state"])
    principal = make_user(Role.PRINCIPAL, org_tree["school1"])
    assert _labels(coach) == ["My coachees"]
    assert {"Program roll-out", "Program reports", "Staff progress"} <= set(_labels(state))
    assert {"Program roll-out", "Program reports", "Staff progress"} <= set(_labels(district))
    assert _labels(researcher) == ["Program reports", "Research exports"]
    assert "Assign a coach" in _labels(principal)
    steps = {
        who: [step.title for step in next_steps_for(user)]
        for who, user in (("coach", coach), ("state", state), ("researcher", researcher))
    }
    assert steps["coach"] == ["Follow your coachees"]
    assert steps["researcher"] == ["Read the program reports", "Export de-identified data"]
    assert {"Read the program reports", "Plan the roll-out"} <= set(steps["state"])
    assert not any("Find a micro-credential" in titles for titles in steps.values())

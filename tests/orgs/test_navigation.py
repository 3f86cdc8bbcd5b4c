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

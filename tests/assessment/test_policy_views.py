"""Scoring policy pages: leads set how an MC is scored; bad input changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from microcred.assessment import moderation
from microcred.assessment.models import ScoringPolicy, SecondRead
from microcred.orgs.models import AuditEvent, Role
from tests.assessment.helpers import signed_in

pytestmark = pytest.mark.django_db


def _form(**changes):
    data = {
        "second_read_percent": 15,
        "second_read_first_year": "on",
        "second_read_margin": 1,
        "calibration_outcome_percent": 80,
        "calibration_component_percent": 80,
        "calibration_min_anchors": 5,
        "recalibrate_every_days": 365,
        "recalibrate_after_break_days": 120,
        "anchor_percent": 5,
        "drift_min_kappa": "0.60",
        "drift_max_severity": "1.50",
        "drift_min_pairs": 10,
        "funding_organization": "",
    }
    data.update(changes)
    return data


def test_a_lead_sets_an_mcs_policy_and_it_rules_the_next_submission(
    client, lead, version, make_assessor, make_submission, org_tree
):
    make_assessor()
    c = signed_in(client, lead)
    listing = c.get(reverse("assessment:policies")).content.decode()
    assert version.title in listing and "Defaults: set its own" in listing
    url = reverse("assessment:policy_edit", args=[version.micro_credential_id])

    response = c.post(url, _form(second_read_percent=100, funding_organization=org_tree["lea1"].pk))

    assert response.status_code == 302
    policy = ScoringPolicy.objects.get(micro_credential=version.micro_credential)
    assert (policy.second_read_percent, policy.funding_organization) == (100, org_tree["lea1"])
    event = AuditEvent.objects.get(action="scoring_policy.saved")
    assert event.data["changed"]["second_read_percent"] == ["0", "100"]
    submission = make_submission()
    moderation.draw_second_read(submission)
    assert SecondRead.objects.filter(submission=submission).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("second_read_percent", 101), ("anchor_percent", 60), ("drift_min_kappa", "1.5")],
)
def test_out_of_range_values_are_refused_and_nothing_is_saved(field, value, client, lead, version):
    url = reverse("assessment:policy_edit", args=[version.micro_credential_id])
    response = signed_in(client, lead).post(url, _form(**{field: value}))
    assert response.status_code == 400
    assert "Nothing was saved" in response.content.decode()
    assert not ScoringPolicy.objects.exists()
    assert not AuditEvent.objects.filter(action="scoring_policy.saved").exists()


def test_only_the_scoring_program_sets_policies(client, make_user, org_tree, version):
    url = reverse("assessment:policy_edit", args=[version.micro_credential_id])
    for role, org in [(Role.ASSESSOR, "assess"), (Role.EARNER, "school1")]:
        person = make_user(role, org_tree[org])
        c = signed_in(client, person)
        assert c.get(reverse("assessment:policies")).status_code == 403
        assert c.post(url, _form()).status_code == 403
    assert not ScoringPolicy.objects.exists()

"""Invariant 1: each conflict rule, pinned on its own, against a real submission."""

from __future__ import annotations

import pytest

from microcred.assessment.conflicts import conflicts_between
from microcred.assessment.models import CoachingRelationship, DeclaredConflict
from microcred.orgs.models import Membership, Role

pytestmark = pytest.mark.django_db


def test_an_independent_assessor_has_no_conflict(make_assessor, make_submission):
    assert conflicts_between(make_assessor(), make_submission()) == []


def test_same_school_is_a_conflict(make_assessor, make_submission, org_tree):
    profile = make_assessor()
    Membership.objects.create(user=profile.user, organization=org_tree["school1"], role=Role.COACH)
    assert "They work in the earner's school or district." in conflicts_between(
        profile, make_submission()
    )


def test_same_district_is_a_conflict_through_home_organization(
    make_assessor, make_submission, org_tree
):
    profile = make_assessor(home=org_tree["lea1"])
    assert "They work in the earner's school or district." in conflicts_between(
        profile, make_submission()
    )


def test_another_district_is_not_a_conflict(make_assessor, make_submission, org_tree):
    profile = make_assessor(home=org_tree["lea2"])
    Membership.objects.create(user=profile.user, organization=org_tree["school2"], role=Role.COACH)
    assert conflicts_between(profile, make_submission()) == []


def test_a_team_member_school_is_a_conflict(
    make_assessor, make_submission, make_earner, make_user, org_tree
):
    # The teammate also teaches at an Oak school: an Oak assessor may not score the team.
    teammate = make_earner()
    Membership.objects.create(user=teammate, organization=org_tree["school2"], role=Role.EARNER)
    profile = make_assessor(home=org_tree["school2"])
    assert "They work in the earner's school or district." in conflicts_between(
        profile, make_submission(team=[teammate])
    )


def test_provider_staff_is_a_conflict(make_assessor, make_submission, org_tree):
    profile = make_assessor()
    Membership.objects.create(
        user=profile.user, organization=org_tree["provider"], role=Role.PROVIDER_AUTHOR
    )
    assert "They work for the provider of this micro-credential." in conflicts_between(
        profile, make_submission()
    )


def test_another_provider_is_not_a_conflict(make_assessor, make_submission, org_tree):
    profile = make_assessor(home=org_tree["other_provider"])
    assert conflicts_between(profile, make_submission()) == []


def test_coach_of_the_earner_is_a_conflict(make_assessor, make_submission, make_earner):
    earner = make_earner()
    profile = make_assessor()
    CoachingRelationship.objects.create(coach=profile.user, earner=earner)
    assert "They coach the earner." in conflicts_between(profile, make_submission(earner))


def test_an_ended_coaching_relationship_is_not_a_conflict(
    make_assessor, make_submission, make_earner
):
    from django.utils import timezone

    earner = make_earner()
    profile = make_assessor()
    CoachingRelationship.objects.create(coach=profile.user, earner=earner, ended=timezone.now())
    assert conflicts_between(profile, make_submission(earner)) == []


def test_teammate_is_a_conflict(make_assessor, make_submission, make_earner):
    profile = make_assessor()
    # The assessor also teaches at the school and is on the team.
    colleague = profile.user
    Membership.objects.create(
        user=colleague, organization=make_earner().memberships.first().organization, role="earner"
    )
    reasons = conflicts_between(profile, make_submission(team=[colleague]))
    assert "They are the earner or on the earner's team." in reasons


def test_declared_person_is_a_conflict(make_assessor, make_submission, make_earner):
    earner = make_earner()
    profile = make_assessor()
    DeclaredConflict.objects.create(assessor=profile, user=earner, reason="My cousin")
    assert conflicts_between(profile, make_submission(earner)) == [
        "They declared a conflict with a person: My cousin"
    ]


def test_declared_person_on_the_team_is_a_conflict(make_assessor, make_submission, make_earner):
    teammate = make_earner()
    profile = make_assessor()
    DeclaredConflict.objects.create(assessor=profile, user=teammate, reason="Former colleague")
    assert conflicts_between(profile, make_submission(team=[teammate])) == [
        "They declared a conflict with a person: Former colleague"
    ]


def test_declared_organization_covers_its_subtree(make_assessor, make_submission, org_tree):
    profile = make_assessor()
    DeclaredConflict.objects.create(
        assessor=profile, organization=org_tree["lea1"], reason="I consult for them"
    )
    assert conflicts_between(profile, make_submission()) == [
        "They declared a conflict with Pine County Schools: I consult for them"
    ]


def test_declared_organization_elsewhere_is_not_a_conflict(
    make_assessor, make_submission, org_tree
):
    profile = make_assessor()
    DeclaredConflict.objects.create(
        assessor=profile, organization=org_tree["lea2"], reason="I consult for them"
    )
    assert conflicts_between(profile, make_submission()) == []

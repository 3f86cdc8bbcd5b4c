"""Permissions as rules predicates: who passes and who does not, for each permission."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from microcred.orgs import selectors
from microcred.orgs.models import Membership, Organization, Role, User

ALL = [
    "state",
    "lea1",
    "lea2",
    "school1",
    "school2",
    "provider",
    "other_provider",
    "issuer",
    "assess",
]


def fresh(user: User) -> User:
    """A new instance, as the next request would load it (no cached answers)."""
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize(
    "perm",
    [
        "orgs.manage_organization",
        "orgs.manage_memberships",
        "orgs.import_people",
        "orgs.view_organization",
    ],
)
def test_state_admin_manages_the_state_tree_and_the_organizations_beside_it(
    perm, org_tree, state_admin
):
    assert all(state_admin.has_perm(perm, org_tree[name]) for name in ALL)


@pytest.mark.parametrize(
    "perm", ["orgs.manage_organization", "orgs.manage_memberships", "orgs.import_people"]
)
def test_district_admin_manages_only_their_district_and_its_schools(perm, org_tree, lea_admin):
    allowed = {name for name in ALL if lea_admin.has_perm(perm, org_tree[name])}
    assert allowed == {"lea1", "school1"}


def test_district_admin_reaches_organizations_created_under_their_district(org_tree, lea_admin):
    district_provider = Organization.objects.create(
        kind=Organization.Kind.PROVIDER,
        name="Pine PD Office",
        slug="pine-pd",
        parent=org_tree["lea1"],
    )
    assert fresh(lea_admin).has_perm("orgs.manage_organization", district_provider)


def test_state_admin_of_one_state_does_not_manage_another_state(org_tree, state_admin):
    other = Organization.objects.create(
        kind=Organization.Kind.STATE_AGENCY, name="Other DOE", slug="other-doe"
    )
    other_lea = Organization.objects.create(
        kind=Organization.Kind.LEA, name="Far Schools", slug="far", parent=other
    )
    assert not state_admin.has_perm("orgs.manage_organization", other)
    assert not state_admin.has_perm("orgs.manage_organization", other_lea)


def test_teacher_manages_nothing_but_sees_their_own_school(org_tree, teacher):
    assert not any(teacher.has_perm("orgs.manage_organization", org_tree[n]) for n in ALL)
    assert teacher.has_perm("orgs.view_organization", org_tree["school1"])
    assert not teacher.has_perm("orgs.view_organization", org_tree["school2"])
    assert not teacher.has_perm("orgs.view_organization", org_tree["lea1"])
    assert not teacher.has_perm("orgs.access_management")
    assert not teacher.has_perm("orgs.view_audit")


def test_roles_other_than_program_admin_grant_no_management(org_tree, make_user):
    for role, org in [
        (Role.PRINCIPAL, "school1"),
        (Role.RECOGNIZER_ADMIN, "lea1"),
        (Role.VETTING_REVIEWER, "state"),
        (Role.RESEARCHER, "state"),
    ]:
        user = make_user(role, org_tree[org])
        assert not user.has_perm("orgs.manage_organization", org_tree[org]), role
        assert not user.has_perm("orgs.access_management"), role


def test_superuser_passes_everything_unless_switched_off(org_tree, superuser):
    for perm in [
        "orgs.manage_organization",
        "orgs.manage_memberships",
        "orgs.import_people",
        "orgs.view_organization",
        "orgs.view_audit",
    ]:
        assert superuser.has_perm(perm, org_tree["school2"])
    assert superuser.has_perm("orgs.add_organization", None)
    superuser.is_active = False
    superuser.save()
    assert not fresh(superuser).has_perm("orgs.manage_organization", org_tree["school2"])


def test_anonymous_user_has_no_permission(org_tree):
    anonymous = AnonymousUser()
    for perm in ["orgs.access_management", "orgs.view_audit", "orgs.add_organization"]:
        assert not anonymous.has_perm(perm)
    assert not anonymous.has_perm("orgs.view_organization", org_tree["state"])


def test_removed_membership_no_longer_grants_anything(org_tree, lea_admin):
    Membership.objects.filter(user=lea_admin).update(active=False)
    user = fresh(lea_admin)
    assert not user.has_perm("orgs.manage_organization", org_tree["lea1"])
    assert not user.has_perm("orgs.access_management")


def test_switched_off_account_has_no_permission(org_tree, lea_admin):
    lea_admin.is_active = False
    lea_admin.save()
    assert not fresh(lea_admin).has_perm("orgs.manage_organization", org_tree["lea1"])


def test_adding_organizations_where(org_tree, state_admin, lea_admin):
    assert state_admin.has_perm("orgs.add_organization", None)  # top-level providers
    assert not lea_admin.has_perm("orgs.add_organization", None)
    assert lea_admin.has_perm("orgs.add_organization", org_tree["lea1"])
    assert not lea_admin.has_perm("orgs.add_organization", org_tree["lea2"])


def test_audit_permission_with_and_without_an_organization(org_tree, lea_admin, teacher):
    assert lea_admin.has_perm("orgs.view_audit")
    assert lea_admin.has_perm("orgs.view_audit", org_tree["school1"])
    assert not lea_admin.has_perm("orgs.view_audit", org_tree["lea2"])
    assert not teacher.has_perm("orgs.view_audit", org_tree["school1"])


def test_predicates_are_exposed_for_other_apps(org_tree, state_admin, lea_admin, teacher):
    from microcred.orgs import rules as org_rules

    assert org_rules.is_state_admin(state_admin)
    assert not org_rules.is_state_admin(lea_admin)
    assert org_rules.is_program_admin(lea_admin)
    assert not org_rules.is_program_admin(teacher)
    assert org_rules.manages_organization(lea_admin, org_tree["school1"])
    assert not org_rules.manages_organization(lea_admin, None)


class TestUserHasRoleIn:
    def test_role_held_above_counts_below_unless_told_otherwise(self, org_tree, make_user):
        coach = make_user(Role.COACH, org_tree["lea1"])
        assert selectors.user_has_role_in(coach, Role.COACH, org_tree["lea1"])
        assert selectors.user_has_role_in(coach, Role.COACH, org_tree["school1"])
        assert not selectors.user_has_role_in(
            coach, Role.COACH, org_tree["school1"], include_ancestors=False
        )
        assert not selectors.user_has_role_in(coach, Role.COACH, org_tree["school2"])
        assert not selectors.user_has_role_in(coach, Role.COACH, org_tree["state"])
        assert not selectors.user_has_role_in(coach, Role.EARNER, org_tree["lea1"])

    def test_anonymous_and_missing_organization(self, org_tree):
        assert not selectors.user_has_role_in(AnonymousUser(), Role.EARNER, org_tree["school1"])
        assert not selectors.user_has_role_in(AnonymousUser(), Role.EARNER, None)

    def test_answers_are_cached_per_user_object(
        self, org_tree, lea_admin, django_assert_num_queries
    ):
        user = fresh(lea_admin)
        user.has_perm("orgs.manage_organization", org_tree["lea1"])
        with django_assert_num_queries(0):
            for name in ALL:
                user.has_perm("orgs.manage_organization", org_tree[name])

    def test_existing_helpers_keep_working(self, org_tree, lea_admin):
        assert selectors.roles_of(lea_admin) == {Role.PROGRAM_ADMIN}
        assert selectors.has_role(lea_admin, Role.PROGRAM_ADMIN)
        assert list(selectors.organizations_where(lea_admin, Role.PROGRAM_ADMIN)) == [
            org_tree["lea1"]
        ]
        assert selectors.organization_subtree_ids({org_tree["lea1"].pk}) == {
            org_tree["lea1"].pk,
            org_tree["school1"].pk,
        }

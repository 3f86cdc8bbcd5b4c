"""Every catalog permission, with people who should pass and people who should not."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from microcred.catalog import rules as catalog_rules
from microcred.catalog import services
from microcred.catalog.models import ApprovedUse, MicroCredentialVersion, Stack
from microcred.catalog.samples import coaching_content
from microcred.orgs.models import Membership, User
from tests.catalog.factories import approve, catalog_people, vary


@pytest.fixture
def world(org_tree, make_user) -> dict[str, Any]:
    """People in every relevant role and catalog objects in every relevant state."""
    people = catalog_people(org_tree, make_user)
    author = people.author
    draft = services.create_micro_credential(
        provider=people.provider, author=author, content=coaching_content()
    )
    in_review = services.submit_for_vetting(
        services.create_micro_credential(
            provider=people.provider, author=author, content=vary(title="In review")
        ),
        author=author,
    )
    approved = services.create_micro_credential(
        provider=people.provider, author=author, content=vary(title="Approved")
    )
    approve(approved, author=author, reviewer=people.reviewer)
    approved.refresh_from_db()
    published = people.publish(vary(title="Published"))
    stack = services.save_stack(
        provider=people.provider,
        author=author,
        data={
            "title": "Pathway",
            "description": "Grow.",
            "target_role": "Coaches",
            "level": "foundational",
            "achievement_name": "Coach",
        },
        members=[(published.micro_credential, True), (draft.micro_credential, True)],
    )
    approval = services.approve_for_use(
        published,
        recognizer=people.recognizer_org,
        actor=people.recognizer,
        use=ApprovedUse.LICENSE_RENEWAL,
    )
    # A state reviewer who also authors at the provider: never vets its MCs.
    reviewer_author = make_user("vetting_reviewer", org_tree["state"])
    Membership.objects.create(
        user=reviewer_author, organization=people.provider, role="provider_author"
    )
    return {
        "provider": people.provider,
        "other_provider": org_tree["other_provider"],
        "draft": draft,
        "in_review": in_review,
        "approved": approved,
        "published": published,
        "mc": published.micro_credential,
        "stack": stack,
        "approval": approval,
        "author": author,
        "other_author": make_user("provider_author", org_tree["other_provider"]),
        "reviewer": people.reviewer,
        "reviewer_author": reviewer_author,
        "recognizer": people.recognizer,
        "district_recognizer": make_user("recognizer_admin", org_tree["lea1"]),
        "earner": make_user("earner", org_tree["school1"]),
        "anonymous": AnonymousUser(),
        "superuser": User.objects.create_superuser(email="root@example.org", password="x-1"),
    }


# (permission, object, who passes, who does not)
CASES = [
    ("catalog.access_authoring", None, ["author", "other_author", "superuser"],
     ["reviewer", "recognizer", "earner", "anonymous"]),
    ("catalog.author_in_provider", "provider", ["author", "reviewer_author", "superuser"],
     ["other_author", "reviewer", "recognizer", "earner", "anonymous"]),
    ("catalog.author_in_provider", "other_provider", ["other_author", "superuser"],
     ["author"]),
    ("catalog.start_new_version", "mc", ["author", "superuser"],
     ["other_author", "reviewer", "earner", "anonymous"]),
    ("catalog.edit_version", "draft", ["author", "superuser"],
     ["other_author", "reviewer", "recognizer", "earner", "anonymous"]),
    ("catalog.edit_version", "in_review", ["superuser"], ["author"]),
    ("catalog.edit_version", "published", ["superuser"], ["author"]),
    ("catalog.submit_version", "draft", ["author", "superuser"],
     ["other_author", "reviewer", "earner", "anonymous"]),
    ("catalog.submit_version", "in_review", ["superuser"], ["author"]),
    ("catalog.view_draft", "draft",
     ["author", "reviewer", "recognizer", "district_recognizer", "superuser"],
     ["other_author", "earner", "anonymous"]),
    ("catalog.review_version", "in_review", ["reviewer", "superuser"],
     ["author", "reviewer_author", "other_author", "recognizer", "earner", "anonymous"]),
    ("catalog.view_vetting_queue", None, ["reviewer", "reviewer_author", "superuser"],
     ["author", "recognizer", "earner", "anonymous"]),
    ("catalog.publish_version", "approved", ["author", "reviewer", "superuser"],
     ["other_author", "recognizer", "earner", "anonymous"]),
    ("catalog.publish_version", "in_review", ["superuser"], ["author", "reviewer"]),
    ("catalog.retire_version", "published", ["author", "superuser"],
     ["other_author", "reviewer", "recognizer", "earner", "anonymous"]),
    ("catalog.retire_version", "draft", ["superuser"], ["author"]),
    ("catalog.manage_approvals", None, ["recognizer", "district_recognizer", "superuser"],
     ["author", "reviewer", "earner", "anonymous"]),
    ("catalog.approve_for_use", "published", ["recognizer", "district_recognizer", "superuser"],
     ["author", "reviewer", "earner", "anonymous"]),
    ("catalog.approve_for_use", "approved", ["recognizer"], ["author"]),
    ("catalog.approve_for_use", "in_review", ["superuser"], ["recognizer"]),
    ("catalog.withdraw_approval", "approval", ["recognizer", "superuser"],
     ["district_recognizer", "author", "reviewer", "earner", "anonymous"]),
    ("catalog.manage_stack", "stack", ["author", "superuser"],
     ["other_author", "reviewer", "recognizer", "earner", "anonymous"]),
]  # fmt: skip


@pytest.mark.parametrize(("perm", "obj", "allowed", "refused"), CASES)
def test_permission(world, perm, obj, allowed, refused):
    target = world[obj] if obj else None
    for who in allowed:
        assert world[who].has_perm(perm, target), f"{who} should have {perm} on {obj}"
    for who in refused:
        assert not world[who].has_perm(perm, target), f"{who} should not have {perm} on {obj}"


def test_a_published_stack_is_no_longer_managed(world):
    stack: Stack = world["stack"]
    stack.status = Stack.Status.PUBLISHED
    stack.save()
    assert not world["author"].has_perm("catalog.manage_stack", stack)
    # ...but the author is told why rather than refused outright (see viewhelpers.refuse).
    assert catalog_rules.ROLE_ONLY["catalog.manage_stack"].test(world["author"], stack)


def test_role_only_rules_never_let_outsiders_in(world):
    """The explanation path must not open a door: without the role, no explanation either."""
    for perm, check in catalog_rules.ROLE_ONLY.items():
        for outsider in ("other_author", "earner", "anonymous"):
            obj = world["approved"] if "stack" not in perm else world["stack"]
            assert not check.test(world[outsider], obj), (perm, outsider)


def test_inactive_memberships_grant_nothing(world):
    Membership.objects.filter(user=world["author"]).update(active=False)
    author = User.objects.get(pk=world["author"].pk)  # a fresh request: no cached roles
    assert not author.has_perm("catalog.edit_version", world["draft"])
    assert not author.has_perm("catalog.access_authoring")


def test_editable_states_follow_the_model(world):
    version: MicroCredentialVersion = world["draft"]
    for status in MicroCredentialVersion.Status:
        version.status = status
        expected = status in MicroCredentialVersion.EDITABLE
        assert world["author"].has_perm("catalog.edit_version", version) is expected, status

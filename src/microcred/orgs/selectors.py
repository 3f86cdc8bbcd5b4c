"""Reads about people, organizations and roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from .models import Membership, Organization, Role


def active_memberships(user: Any) -> QuerySet[Membership]:
    if not getattr(user, "is_authenticated", False):
        return Membership.objects.none()
    return Membership.objects.filter(user=user, active=True).select_related("organization")


def roles_of(user: Any) -> set[str]:
    """The roles a user holds anywhere; cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_microcred_roles", None)
    if cached is None:
        cached = set(active_memberships(user).values_list("role", flat=True))
        user._microcred_roles = cached
    return cached


def has_role(user: Any, role: str) -> bool:
    return role in roles_of(user)


def organizations_where(user: Any, role: str) -> QuerySet[Organization]:
    """Organizations in which the user holds the role."""
    if not getattr(user, "is_authenticated", False):
        return Organization.objects.none()
    return Organization.objects.filter(
        memberships__user=user, memberships__role=role, memberships__active=True
    ).distinct()


def organization_subtree_ids(root_ids: set[int]) -> set[int]:
    """Ids of the given organizations and all below them (state -> LEA -> school: 3 levels)."""
    found = set(root_ids)
    frontier = set(root_ids)
    while frontier:
        frontier = set(
            Organization.objects.filter(parent_id__in=frontier).values_list("id", flat=True)
        ) - found
        found |= frontier
    return found


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str


# Menu entries by role, in the order they appear. One place decides what each role sees.
_NAV_BY_ROLE: list[tuple[str, str, str]] = [
    (Role.PROVIDER_AUTHOR, "My micro-credentials", "authoring:list"),
    (Role.VETTING_REVIEWER, "Vetting queue", "vetting:queue"),
    (Role.RECOGNIZER_ADMIN, "Approvals for use", "vetting:approvals"),
    (Role.PROGRAM_ADMIN, "Organizations and people", "orgs:manage"),
]


def navigation_for(user: Any) -> list[NavItem]:
    roles = roles_of(user)
    items = [NavItem(label, reverse(name)) for role, label, name in _NAV_BY_ROLE if role in roles]
    if getattr(user, "is_superuser", False) and not any(i.label.startswith("Org") for i in items):
        items.append(NavItem("Organizations and people", reverse("orgs:manage")))
    return items


@dataclass(frozen=True)
class NextStep:
    title: str
    text: str
    action: str
    url: str


def next_steps_for(user: Any) -> list[NextStep]:
    """What each of the user's roles should do next, shown on their dashboard."""
    roles = roles_of(user)
    steps: list[NextStep] = []
    if Role.PROVIDER_AUTHOR in roles:
        steps.append(NextStep(
            "Author micro-credentials",
            "Draft a micro-credential, preview it as a teacher will see it, and send it for vetting.",
            "Open my micro-credentials", reverse("authoring:list"),
        ))
    if Role.VETTING_REVIEWER in roles:
        steps.append(NextStep(
            "Review submitted micro-credentials",
            "Rate each quality criterion and decide: approve, request changes or reject.",
            "Open the vetting queue", reverse("vetting:queue"),
        ))
    if Role.RECOGNIZER_ADMIN in roles:
        steps.append(NextStep(
            "Approve micro-credentials for use",
            "Decide which vetted micro-credentials count for license renewal and other uses.",
            "Open approvals", reverse("vetting:approvals"),
        ))
    if Role.PROGRAM_ADMIN in roles or getattr(user, "is_superuser", False):
        steps.append(NextStep(
            "Run the program",
            "Manage districts, schools and people, or import them from a spreadsheet.",
            "Manage organizations", reverse("orgs:manage"),
        ))
    if Role.EARNER in roles or not steps:
        steps.append(NextStep(
            "Find a micro-credential",
            "Browse the catalog for a skill you want to demonstrate in your classroom.",
            "Browse the catalog", reverse("catalog:search"),
        ))
    return steps

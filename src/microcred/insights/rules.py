"""Who may see staff progress, as `rules` predicates.

A principal sees the staff of their own school; a district program admin, the staff of their
district; a state program admin, of any district of the state. Everything derives from the
user's active memberships (insights.staff.staff_units). Superusers pass everything.
"""

from __future__ import annotations

from typing import Any

import rules

from microcred.orgs.rules import is_active_superuser, no_object

from . import staff


@rules.predicate
def holds_staff_role(user: Any) -> bool:
    """A principal or a program admin: may open the staff progress page at all."""
    return staff.has_staff_role(user)


@rules.predicate
def oversees_unit(user: Any, organization: Any) -> bool:
    """The school or district is one whose staff the user may see."""
    return staff.oversees(user, organization)


# Without an object: may open the page; with a school or district: may see its staff.
rules.add_perm(
    "insights.view_staff_progress",
    is_active_superuser | (holds_staff_role & (no_object | oversees_unit)),
)

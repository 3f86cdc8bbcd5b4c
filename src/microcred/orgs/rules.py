"""Who may do what with organizations, people and the audit log, as `rules` predicates.

Every answer derives from the user's active memberships (see selectors.admin_scope), never
from anything the page sends. Superusers pass everything. Other apps reuse the predicates
(`is_program_admin`, `is_state_admin`, `manages_organization`) to build their own rules.
"""

from __future__ import annotations

from typing import Any

import rules

from . import selectors
from .models import Organization


@rules.predicate
def is_active_superuser(user: Any) -> bool:
    return selectors.is_active_superuser(user)


@rules.predicate
def is_program_admin(user: Any) -> bool:
    """A state or district program admin anywhere."""
    return selectors.is_program_admin(user)


@rules.predicate
def is_state_admin(user: Any) -> bool:
    """A program admin at a state agency."""
    return selectors.is_state_admin(user)


@rules.predicate
def manages_organization(user: Any, organization: Organization | None) -> bool:
    """The organization lies within the user's reach as a program admin."""
    return isinstance(organization, Organization) and selectors.can_manage_organization(
        user, organization
    )


@rules.predicate
def is_member_of(user: Any, organization: Organization | None) -> bool:
    """The user holds an active role at exactly this organization."""
    return isinstance(organization, Organization) and selectors.is_member_of(user, organization)


@rules.predicate
def may_create_under(user: Any, parent: Organization | None) -> bool:
    """The user may add an organization below `parent` (None: at the top level, which only
    superusers and state admins may do; the service also checks the kind)."""
    if parent is None:
        return selectors.is_state_admin(user)
    return selectors.can_manage_organization(user, parent)


@rules.predicate
def no_object(user: Any, obj: Any) -> bool:
    return obj is None


can_manage = is_active_superuser | manages_organization

# The management area: the organization list, the import page, the audit log.
rules.add_perm("orgs.access_management", is_active_superuser | is_program_admin)
rules.add_perm("orgs.add_organization", is_active_superuser | (is_program_admin & may_create_under))
rules.add_perm("orgs.manage_organization", can_manage)
rules.add_perm("orgs.view_organization", can_manage | is_member_of)
rules.add_perm("orgs.manage_memberships", can_manage)
rules.add_perm("orgs.import_people", can_manage)
# Without an object: may open the audit log at all; with an organization: may read its events.
rules.add_perm(
    "orgs.view_audit",
    is_active_superuser | (is_program_admin & (no_object | manages_organization)),
)


@rules.predicate
def owns_token(user: Any, token: Any) -> bool:
    return token is not None and getattr(token, "user_id", None) == user.pk


# Personal API tokens: the owner revokes their own; a superuser may stop a leaked one.
rules.add_perm("orgs.revoke_api_token", is_active_superuser | owns_token)

# Program roll-out (orgs.programs): any program admin may open the stage view (it shows only
# the districts they run); a district's settings change only within the admin's reach.
rules.add_perm("orgs.view_programs", is_active_superuser | is_program_admin)
rules.add_perm(
    "orgs.manage_program", is_active_superuser | (is_program_admin & manages_organization)
)

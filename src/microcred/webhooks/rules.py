"""Who may manage an organization's webhooks, as `rules` predicates.

The organization's administrators: a program admin whose reach covers it (a state's program
office runs its districts and the providers and issuers beside it; a district's runs its own),
and, for an issuer organization, its issuer admins. Superusers pass everything."""

from __future__ import annotations

from typing import Any

import rules

from . import selectors


@rules.predicate
def administers(user: Any, organization: Any) -> bool:
    return selectors.administers(user, organization)


@rules.predicate
def administers_any(user: Any) -> bool:
    return selectors.administrable_organizations(user).exists()


rules.add_perm("webhooks.view_webhooks", administers_any)
rules.add_perm("webhooks.manage_webhooks", administers)

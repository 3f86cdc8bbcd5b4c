"""Who may download research exports, as `rules` predicates: researchers and evaluators, who
hold the researcher role at a state agency (orgs.ROLE_ORG_KINDS allows it nowhere else).
Superusers pass. Everyone else (earners, principals, district and state program staff) gets
a 403: they have their own reports, with names, for the people they are responsible for."""

from __future__ import annotations

from typing import Any

import rules

from microcred.orgs.models import Role
from microcred.orgs.rules import is_active_superuser
from microcred.orgs.selectors import role_organization_ids


@rules.predicate
def is_researcher(user: Any) -> bool:
    return bool(role_organization_ids(user).get(Role.RESEARCHER))


rules.add_perm("insights.export_research", is_active_superuser | is_researcher)

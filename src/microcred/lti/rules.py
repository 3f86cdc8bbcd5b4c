"""Who may connect learning platforms: the program staff of the organization that owns the
registration (a state admin reaches every district's), and superusers."""

from __future__ import annotations

import rules

from microcred.orgs.rules import is_active_superuser, is_program_admin, manages_organization

rules.add_perm("lti.view_platforms", is_active_superuser | is_program_admin)
rules.add_perm(
    "lti.manage_platforms", is_active_superuser | (is_program_admin & manages_organization)
)

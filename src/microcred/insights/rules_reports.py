"""Who may read the program reports, as `rules` predicates.

A state program admin reads the whole state and any of its districts; a researcher at the state
agency reads the same aggregate reports; a district program admin reads their own district
only. Everything derives from the user's active memberships (insights.reports.report_access).
Superusers pass everything.
"""

from __future__ import annotations

from typing import Any

import rules

from microcred.orgs.models import Organization
from microcred.orgs.rules import is_active_superuser, no_object

from . import reports


@rules.predicate
def reads_some_report(user: Any) -> bool:
    """The state's or at least one district's reports are open to the user."""
    access = reports.report_access(user)
    return access.sees_state or bool(access.leas)


@rules.predicate
def reads_state_reports(user: Any) -> bool:
    return reports.report_access(user).sees_state


@rules.predicate
def reads_district_report(user: Any, lea: Any) -> bool:
    """The district is one whose report the user may read."""
    return isinstance(lea, Organization) and reports.report_access(user).lea(lea.pk) is not None


# Without an object: may open the reports at all; with a district: may read its report.
rules.add_perm(
    "insights.view_program_reports",
    is_active_superuser | (reads_some_report & (no_object | reads_district_report)),
)
# The whole state, every district side by side.
rules.add_perm("insights.view_state_report", is_active_superuser | reads_state_reports)

"""Who may do what with recognition policies and the ledger, as `rules` predicates.

A recognizer admin (an HR or PD office, the state's licensure office) acts for the
organizations where they hold that role: their policies, the entries those policies posted,
the external credentials brought to them. Every educator reads their own record."""

from __future__ import annotations

from typing import Any

import rules

from microcred.orgs.models import Organization, Role
from microcred.orgs.rules import is_active_superuser
from microcred.orgs.selectors import role_organization_ids


def recognizer_ids_of(user: Any) -> frozenset[int]:
    """Organizations the user acts for as a recognizer admin."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    return role_organization_ids(user).get(Role.RECOGNIZER_ADMIN, frozenset())


def _recognizer_id(obj: Any) -> int | None:
    """The recognizer an object belongs to: an organization, a policy, a rule, an entry, an
    external credential or a license (whose state is its recognizer)."""
    if isinstance(obj, Organization):
        return obj.pk
    for path in ("recognizer_id", "state_id"):
        if getattr(obj, path, None):
            return getattr(obj, path)
    policy = getattr(obj, "policy", None)
    return getattr(policy, "recognizer_id", None)


@rules.predicate
def is_recognizer_admin(user: Any) -> bool:
    return bool(recognizer_ids_of(user))


@rules.predicate
def acts_for_recognizer(user: Any, obj: Any) -> bool:
    recognizer = _recognizer_id(obj)
    return recognizer is not None and recognizer in recognizer_ids_of(user)


@rules.predicate
def is_own(user: Any, obj: Any) -> bool:
    return getattr(obj, "educator_id", None) == getattr(user, "pk", -1)


recognizer = is_active_superuser | is_recognizer_admin
for_recognizer = is_active_superuser | acts_for_recognizer

rules.add_perm("recognition.view_recognition", recognizer)
rules.add_perm("recognition.manage_policy", for_recognizer)
rules.add_perm("recognition.view_ledger", for_recognizer)
rules.add_perm("recognition.approve_entry", for_recognizer)
rules.add_perm("recognition.export_entries", for_recognizer)
rules.add_perm("recognition.import_licenses", for_recognizer)
rules.add_perm("recognition.decide_external", for_recognizer)
rules.add_perm("recognition.view_entry", for_recognizer | is_own)

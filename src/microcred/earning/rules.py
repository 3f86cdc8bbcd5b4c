"""Who may do what in the earning app, as `rules` predicates.

Uploads: only the person who started an upload may continue, complete, discard or see it.
Assessors and coaches will see evidence through the items that use an upload, not here.
"""

from __future__ import annotations

from typing import Any

import rules

from .models import Upload


@rules.predicate
def is_upload_owner(user: Any, upload: Upload | None) -> bool:
    return isinstance(upload, Upload) and user.is_authenticated and upload.owner_id == user.pk


rules.add_perm("earning.view_upload", is_upload_owner)
rules.add_perm("earning.change_upload", is_upload_owner)


# ---------------------------------------------------------------------------- attempts
# Appended by the earning (portfolio) side. The earner and active team members see and edit
# their attempt; nobody else does through these pages (assessors see frozen submissions).
@rules.predicate
def is_attempt_member(user: Any, attempt: Any) -> bool:
    from .models import Attempt
    from .selectors import is_attempt_member as member

    return isinstance(attempt, Attempt) and member(user, attempt)


@rules.predicate
def may_decide_preapproval(user: Any, preapproval: Any) -> bool:
    from .models import PreApproval
    from .selectors import can_decide_preapproval

    return isinstance(preapproval, PreApproval) and can_decide_preapproval(user, preapproval)


rules.add_perm("earning.view_attempt", is_attempt_member)
rules.add_perm("earning.change_attempt", is_attempt_member)
rules.add_perm("earning.decide_preapproval", may_decide_preapproval)


# --- Evidence access (DESIGN.md invariant 6; the reasons live in evidence_access) ----------
@rules.predicate
def can_see_evidence(user: Any, attempt: Any) -> bool:
    from .evidence_access import access_to
    from .models import Attempt

    return isinstance(attempt, Attempt) and access_to(user, attempt) is not None


rules.add_perm("earning.view_evidence", can_see_evidence)
# The earner and active team members decide which coaches see their evidence.
rules.add_perm("earning.share_evidence", is_attempt_member)

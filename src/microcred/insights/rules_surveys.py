"""Who may answer a survey, as a `rules` predicate: only the educator it was sent to."""

from __future__ import annotations

from typing import Any

import rules


@rules.predicate
def is_invited_educator(user: Any, invitation: Any) -> bool:
    return (
        invitation is not None
        and getattr(user, "is_authenticated", False)
        and getattr(invitation, "educator_id", None) == user.pk
    )


# Nobody else, not even a superuser: the answers are the educator's own.
rules.add_perm("insights.answer_survey", is_invited_educator)

"""Every action the integrations record reads as plain words in the audit log."""

from __future__ import annotations

import re
from pathlib import Path

from microcred.orgs.selectors import AUDIT_ACTIONS, describe_action

SRC = Path(__file__).resolve().parents[2] / "src" / "microcred"


def test_each_recorded_integration_action_has_words():
    recorded: set[str] = set()
    for path in [*SRC.glob("lti/*.py"), *SRC.glob("webhooks/*.py"), SRC / "orgs" / "sso.py"]:
        recorded |= set(re.findall(r'"((?:lti|webhook|sso)\.[a-z_]+)"', path.read_text()))
    # Rules, an event type and a signal receiver's id are not audit actions.
    recorded -= {"lti.manage_platforms", "lti.view_platforms", "webhook.test", "lti.grade_passback"}
    recorded |= {f"lti.account_{how}" for how in ("linked", "matched", "created")}
    assert recorded, "the integrations record actions"
    assert {action for action in recorded if action not in AUDIT_ACTIONS} == set()
    assert describe_action("webhook.deleted") == "Deleted a webhook endpoint"

"""Listening to the other apps' signals (connected in WebhooksConfig.ready). Each is sent once
the change is committed; a failure here is logged and never reaches the sender: issuing a
credential or posting the ledger must not fail because a webhook could not be stored."""

from __future__ import annotations

import logging
from typing import Any

from . import events

logger = logging.getLogger(__name__)


def _safely(what: str, action: Any, *args: Any) -> None:
    try:
        action(*args)
    except Exception:
        logger.exception("Could not store the webhook event for %s", what)


def on_credential_issued(sender: Any, credential: Any, **kwargs: Any) -> None:
    _safely(f"credential {credential.pk}", events.credential_issued, credential)


def on_credential_revoked(sender: Any, credential: Any, revocation: Any, **kwargs: Any) -> None:
    _safely(f"revocation of {credential.pk}", events.credential_revoked, credential, revocation)


def on_decision_made(sender: Any, decision: Any, **kwargs: Any) -> None:
    _safely(f"decision {decision.pk}", events.decision_made, decision)


def on_ledger_entries_posted(sender: Any, entries: list[Any], **kwargs: Any) -> None:
    for entry in entries:
        _safely(f"ledger entry {entry.pk}", events.ledger_entry_posted, entry)

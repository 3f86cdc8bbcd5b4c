"""The ledger listens to credentials: each issue and revocation is posted by a task once the
change is committed (and by the daily repair sweep, should that task be lost)."""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal, receiver

from microcred.credentials.signals import credential_issued, credential_revoked

# Sent once the entries are committed, with entries=<list of LedgerEntry> (grants and
# reversals alike): other apps (webhooks) react without the ledger knowing them.
ledger_entry_posted = Signal()


@receiver(credential_issued)
def _post_issued(sender: Any, credential: Any, **kwargs: Any) -> None:
    from .tasks import post_credential

    post_credential.enqueue(credential.pk)


@receiver(credential_revoked)
def _post_revoked(sender: Any, credential: Any, **kwargs: Any) -> None:
    from .tasks import post_revocation

    post_revocation.enqueue(credential.pk)

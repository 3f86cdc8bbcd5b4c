"""Background work of recognition: posting to the ledger, the repair sweep, renewal
reminders."""

from __future__ import annotations

from django.tasks import task


@task()
def post_credential(credential_id: int) -> int:
    """Post what an issued credential grants; the number of entries (0 on a retry)."""
    from .posting import post_issued

    return len(post_issued(credential_id))


@task()
def post_revocation(credential_id: int) -> int:
    """Post the reversing entries of a revoked credential; their number (0 on a retry)."""
    from .posting import post_revoked

    return len(post_revoked(credential_id))


@task()
def post_external_credential(external_id: int) -> int:
    from .posting import post_external

    return len(post_external(external_id))


@task()
def repair_ledger() -> int:
    """Daily: post what a crash or a lost task left unposted."""
    from .posting import repair

    return repair()

"""Background work of webhooks: one worker run per endpoint (see webhooks.delivery)."""

from __future__ import annotations

from django.tasks import task


@task()
def deliver(endpoint_id: int) -> int:
    """Send the endpoint's due deliveries in order; the number of attempts made."""
    from .delivery import deliver_endpoint

    return deliver_endpoint(endpoint_id)


@task()
def sweep() -> int:
    """Send whatever is due on every endpoint (lost tasks, backends without run_after)."""
    from .delivery import sweep as sweep_all

    return sweep_all()

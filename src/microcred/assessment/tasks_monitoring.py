"""Background work of reliability monitoring: the daily drift sweep."""

from __future__ import annotations

from dataclasses import asdict

from django.tasks import task


@task()
def sweep_drift() -> dict[str, int]:
    """Flag, pause and clear drift (see monitoring.sweep_drift); returns the counts."""
    from .monitoring import sweep_drift as sweep

    return asdict(sweep())

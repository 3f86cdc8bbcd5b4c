"""Background work of the LTI app: grade passbacks, and their retries."""

from __future__ import annotations

from django.tasks import task


@task()
def post_score(passback_id: int) -> str:
    from .grades import post_score as post

    return post(passback_id)


@task()
def retry_passbacks() -> int:
    """Run it every hour or so: send again what failed (up to grades.MAX_TRIES tries)."""
    from .grades import retry_ids

    ids = retry_ids()
    for passback_id in ids:
        post_score.enqueue(passback_id)
    return len(ids)

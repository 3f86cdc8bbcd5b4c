"""Run a background worker for whichever task queue the settings name.

    manage.py task_worker

The embedded setup keeps its queue in the database (django_tasks_db's db_worker); production
keeps it on Redis (RQ's worker, with its scheduler, so that tasks enqueued to run later, such
as webhook retries, start on time). Run as many as the work needs, on any machines that reach
the database and Redis; each task runs once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a background worker for the configured task queue (database or Redis)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.TASKS_ON_REDIS:
            call_command(
                "rqworker",
                "default",
                job_class="django_tasks_rq.Job",
                with_scheduler=True,
            )
        else:
            call_command("db_worker", reload=False)

"""Count the program reports people open most, so they find them counted: every state's report
by each breakdown and every district's own report. Run it every 10 minutes or so (cron, a
systemd timer, a Kubernetes CronJob); visits in between are served the kept copies and recount
them in the worker when the data moved on (insights.reports.cached_report)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from microcred.insights import reports
from microcred.orgs.models import Organization

Kind = Organization.Kind


class Command(BaseCommand):
    help = __doc__.split("\n\n")[0] if __doc__ else ""

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        counted = 0
        for state in Organization.objects.filter(kind=Kind.STATE_AGENCY, active=True):
            # The same districts, in the same order, as a state viewer's filters name them.
            leas = tuple(
                Organization.objects.filter(kind=Kind.LEA, active=True, parent=state)
                .order_by("name", "pk")
                .values_list("pk", flat=True)
            )
            for breakdown in reports.BREAKDOWNS.values():
                reports.recount(reports.ReportFilters(breakdown=breakdown, leas_of_state=leas))
                counted += 1
        default = reports.BREAKDOWNS[reports.DEFAULT_BREAKDOWN]
        for lea in Organization.objects.filter(kind=Kind.LEA, active=True):
            reports.recount(reports.ReportFilters(breakdown=default, lea=lea))
            counted += 1
        self.stdout.write(f"{counted} reports counted in {time.perf_counter() - started:.1f} s.")

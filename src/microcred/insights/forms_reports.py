"""The program report's choices: how to group it, which district, which micro-credential and
which period of attempt starts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from microcred.catalog.models import MicroCredential
from microcred.orgs.models import Organization

from . import reports

# Breakdowns that compare districts: a single district's report has one row for each of them.
STATE_ONLY = frozenset({"lea", "region", "locale", "low_wealth"})


class ReportForm(forms.Form):
    group = forms.ChoiceField(label="Group by", required=False)
    lea = forms.ChoiceField(label="District", required=False)
    mc = forms.ChoiceField(label="Micro-credential", required=False)
    started_from = forms.DateField(
        label="Attempts started on or after",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty to include every attempt from the start of the program.",
    )
    started_to = forms.DateField(
        label="Attempts started on or before",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date such as 2026-06-30."},
    )

    def __init__(
        self,
        *args: Any,
        access: reports.ReportAccess,
        titles: dict[int, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.access = access
        self.fields["started_from"].error_messages["invalid"] = "Enter a date such as 2026-01-31."
        groups = [
            (key, b.label)
            for key, b in reports.BREAKDOWNS.items()
            if access.sees_state or key not in STATE_ONLY
        ]
        group = self.fields["group"]
        group.choices = groups  # type: ignore[attr-defined]
        group.error_messages["invalid_choice"] = "Choose one of the listed ways to group."
        lea = self.fields["lea"]
        if access.sees_state:
            lea.choices = [("", "The whole state")] + [  # type: ignore[attr-defined]
                (str(o.pk), o.name) for o in access.leas
            ]
        elif len(access.leas) > 1:
            lea.choices = [(str(o.pk), o.name) for o in access.leas]  # type: ignore[attr-defined]
        else:
            del self.fields["lea"]
        mc = self.fields["mc"]
        listed = sorted(((str(pk), t) for pk, t in titles.items()), key=lambda c: c[1].lower())
        mc.choices = [("", "Every micro-credential"), *listed]  # type: ignore[attr-defined]
        mc.error_messages["invalid_choice"] = "Choose one of the listed micro-credentials."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("started_from"), data.get("started_to")
        if start and end and start > end:
            self.add_error(
                "started_to", "The last day comes before the first; swap them or change one."
            )
        return data

    def breakdown(self, lea: Organization | None) -> reports.Breakdown:
        key = (self.cleaned_data.get("group") if self.is_bound and self.is_valid() else "") or ""
        if lea is not None and key in STATE_ONLY:
            key = ""
        return reports.BREAKDOWNS[key or reports.DEFAULT_BREAKDOWN]

    def filters(self, lea: Organization | None) -> reports.ReportFilters:
        """The filters asked for; with errors, none but the district (the report then shows
        everything of its scope and says so)."""
        valid = self.is_bound and self.is_valid()
        data = self.cleaned_data if valid else {}
        mc_pk = data.get("mc") or ""
        return reports.ReportFilters(
            breakdown=self.breakdown(lea),
            lea=lea,
            micro_credential=MicroCredential(pk=int(mc_pk)) if mc_pk else None,
            starts_from=_day_start(data.get("started_from")),
            starts_before=_day_start(data["started_to"] + timedelta(days=1))
            if data.get("started_to")
            else None,
            leas_of_state=None
            if lea is not None or self.access.state is None
            else tuple(o.pk for o in self.access.leas),
        )


def _day_start(day: date | None) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min))

"""The form a scoring lead fills to set how one micro-credential is scored."""

from __future__ import annotations

from typing import Any

from django import forms

from microcred.orgs.models import Organization

from .models import ScoringPolicy


class PolicyForm(forms.ModelForm):
    class Meta:
        model = ScoringPolicy
        fields = [
            "second_read_percent",
            "second_read_first_year",
            "second_read_margin",
            "calibration_outcome_percent",
            "calibration_component_percent",
            "calibration_min_anchors",
            "recalibrate_every_days",
            "recalibrate_after_break_days",
            "anchor_percent",
            "drift_min_kappa",
            "drift_max_severity",
            "drift_min_pairs",
            "funding_organization",
        ]
        labels = {
            "second_read_percent": "Second reads: share of submissions drawn at random (%)",
            "second_read_first_year": "Second read for every submission in the MC's first year",
            "second_read_margin": "Second read when the first is this many points from the pass "
            "line or fewer",
            "calibration_outcome_percent": "Calibration: same outcome as the master on at least "
            "(%) of anchors",
            "calibration_component_percent": "Calibration: components within one point of the "
            "master on at least (%)",
            "calibration_min_anchors": "Anchors a calibration set needs",
            "recalibrate_every_days": "Recalibrate every (days)",
            "recalibrate_after_break_days": "Recalibrate after a break from scoring of (days)",
            "anchor_percent": "Drift checks: anchors mixed into live work (%)",
            "drift_min_kappa": "Drift: lowest quadratic-weighted kappa",
            "drift_max_severity": "Drift: largest severity (mean points from the reference)",
            "drift_min_pairs": "Drift: pairs needed before judging",
            "funding_organization": "Who pays for scoring this MC",
        }
        help_texts = {
            "second_read_margin": "With a pass line of 16 and 1 here, totals of 15 and 16 get a "
            "second read. 0 turns this rule off.",
            "anchor_percent": "At most 50. Assessors cannot tell these from live work.",
            "funding_organization": "Leave empty for the state program.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["funding_organization"].queryset = Organization.objects.filter(
            active=True
        ).order_by("kind", "name")
        self.fields["funding_organization"].required = False

    def clean_drift_min_kappa(self) -> Any:
        kappa = self.cleaned_data["drift_min_kappa"]
        if not -1 <= kappa <= 1:
            raise forms.ValidationError("Kappa runs from -1 to 1: enter a value in that range.")
        return kappa

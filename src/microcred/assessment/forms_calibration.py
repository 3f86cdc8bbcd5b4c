"""Forms of the calibration pages. They parse what was typed; anchors.py decides, and its
ValidationErrors, keyed by these field names, land next to the fields (forms.attach_errors)."""

from __future__ import annotations

from typing import Any

from django import forms

from microcred.catalog.models import MicroCredential, MicroCredentialVersion

from . import anchors
from .models import AssessorProfile, CalibrationSet

# The services name what is wrong in plain words; a stale choice (say, a set retired meanwhile)
# gets the same kind of sentence rather than Django's default.
STALE = "That choice is no longer available: choose again from the list."


class SetForm(forms.Form):
    title = forms.CharField(
        required=False,
        max_length=200,
        label="Title of the set",
        help_text="For example “Coaching anchors 2025”.",
    )
    version = forms.ModelChoiceField(
        queryset=MicroCredentialVersion.objects.none(),
        required=False,
        label="Micro-credential version",
        help_text="Anchors are scored against this version's rubric.",
        error_messages={"invalid_choice": STALE},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = anchors.publishable_versions()


class AnchorForm(forms.Form):
    """A consented submission (by its code) and the master's points per rubric component."""

    submission = forms.TypedChoiceField(
        coerce=int,
        required=False,
        label="Submission",
        help_text=(
            "Decided submissions of this version whose earners agreed to share them, and "
            "anchors written for calibration."
        ),
        error_messages={"invalid_choice": STALE},
    )
    rationale = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Why these points",
        help_text="Assessors read it beside their own points once their round is finished.",
    )

    def __init__(self, *args: Any, calibration_set: CalibrationSet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = {c.submission.pk: c for c in anchors.candidates(calibration_set)}
        self.fields["submission"].choices = [("", "Choose a submission")] + [
            (pk, c.label) for pk, c in self.candidates.items()
        ]
        self.components = anchors.rubric_components(calibration_set.version_id)
        for component in self.components:
            # Typed as text: the service says what is wrong in the component's own words.
            self.fields[f"component_{component.pk}"] = forms.CharField(
                required=False,
                label=f"Master points for “{component.title}” (0 to {component.max_points})",
                widget=forms.NumberInput(
                    attrs={"min": 0, "max": component.max_points, "inputmode": "numeric"}
                ),
            )

    def component_fields(self) -> list[forms.BoundField]:
        return [self[f"component_{c.pk}"] for c in self.components]

    def chosen_submission(self) -> Any:
        candidate = self.candidates.get(self.cleaned_data.get("submission") or 0)
        return candidate.submission if candidate else None

    def points(self) -> dict[int, Any]:
        return {c.pk: self.cleaned_data.get(f"component_{c.pk}") for c in self.components}


class StartRoundForm(forms.Form):
    calibration_set = forms.ModelChoiceField(
        queryset=CalibrationSet.objects.none(),
        required=False,
        label="Calibration set",
        help_text="Sets of micro-credentials this assessor is trained for, with enough anchors.",
        error_messages={"invalid_choice": STALE},
    )

    def __init__(self, *args: Any, profile: AssessorProfile, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ready = [s.pk for s in anchors.sets_to_start(profile)]
        field = self.fields["calibration_set"]
        field.queryset = CalibrationSet.objects.filter(pk__in=ready).select_related("version")
        field.label_from_instance = lambda s: f"{s.title} ({s.version.title})"

    @property
    def has_choices(self) -> bool:
        return self.fields["calibration_set"].queryset.exists()


class AttestForm(forms.Form):
    micro_credential = forms.ModelChoiceField(
        queryset=MicroCredential.objects.none(),
        required=False,
        label="Micro-credential",
        help_text="Only those without a calibration set ready: where one is, assessors calibrate.",
        error_messages={"invalid_choice": STALE},
    )
    note = forms.CharField(
        required=False,
        max_length=300,
        label="Why you vouch for this assessor",
        help_text="For example: scored the pilot with us and matched the masters.",
    )

    def __init__(self, *args: Any, profile: AssessorProfile, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["micro_credential"]
        field.queryset = MicroCredential.objects.filter(
            pk__in=[mc.pk for mc in anchors.attestable_mcs(profile)]
        ).order_by("slug")
        field.label_from_instance = lambda mc: anchors.mc_title(mc.pk)

    @property
    def has_choices(self) -> bool:
        return self.fields["micro_credential"].queryset.exists()

"""Forms of the survey and research-export pages: they parse and label input; surveys.py and
research.py decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms

from microcred.catalog.models import MicroCredential, MicroCredentialVersion

from . import research, surveys
from .models import COMMENT_MAX, Level

NOT_APPLICABLE = "na"


class SurveyForm(forms.Form):
    """One agreement choice per Guskey level (a radio group each), and an optional comment."""

    def __init__(self, *args: Any, wave: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(value), label) for value, label in surveys.SCALE]
        choices.append((NOT_APPLICABLE, surveys.DOES_NOT_APPLY))
        for level in Level.values:
            self.fields[f"level_{level}"] = forms.ChoiceField(
                label=f"{level}. {surveys.item(wave, level)}",
                choices=choices,
                widget=forms.RadioSelect(attrs={"class": "survey-scale"}),
                error_messages={
                    "required": "Choose how much you agree, or “Doesn't apply to me”.",
                    "invalid_choice": "Choose one of the answers listed.",
                },
            )
        self.fields["comment"] = forms.CharField(
            label="Anything else you want to tell us? (optional)",
            help_text=(
                "Please leave out the names of students and colleagues. Comments are never "
                "shown in reports or included in research exports."
            ),
            required=False,
            max_length=COMMENT_MAX,
            widget=forms.Textarea(attrs={"rows": 4}),
            error_messages={
                "max_length": f"Keep the comment under {COMMENT_MAX} characters "
                "(it has %(show_value)d)."
            },
        )

    def level_fields(self) -> list[forms.BoundField]:
        return [self[f"level_{level}"] for level in Level.values]

    def ratings(self) -> dict[int, int | None]:
        data = self.cleaned_data
        return {
            level: None if data[f"level_{level}"] == NOT_APPLICABLE else int(data[f"level_{level}"])
            for level in Level.values
        }


class ExportForm(forms.Form):
    dataset = forms.ChoiceField(
        label="Dataset",
        choices=[(name, dataset.title) for name, dataset in research.DATASETS.items()],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a dataset to download.",
            "invalid_choice": "Choose one of the datasets listed.",
        },
    )
    micro_credential = forms.ModelChoiceField(
        label="Micro-credential",
        # Only micro-credentials teachers could ever earn: a draft's name is its author's.
        queryset=MicroCredential.objects.filter(
            versions__status__in=[
                MicroCredentialVersion.Status.PUBLISHED,
                MicroCredentialVersion.Status.SUPERSEDED,
                MicroCredentialVersion.Status.RETIRED,
            ]
        )
        .distinct()
        .order_by("slug"),
        to_field_name="slug",
        required=False,
        empty_label="Every micro-credential",
        error_messages={"invalid_choice": "Choose one of the listed micro-credentials."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["micro_credential"]
        field.label_from_instance = lambda mc: mc.slug  # type: ignore[attr-defined]

    def filters(self) -> research.Filters:
        mc = self.cleaned_data.get("micro_credential")
        return research.Filters(micro_credential=mc.slug if mc else "")

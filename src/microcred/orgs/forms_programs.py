"""Forms of the roll-out pages: filters of the state view and one district's settings.

The forms check shapes (a known choice, a school of this district); what the settings may be
(a cohort only in the pilot stage, funding only for catalog micro-credentials) is decided once,
in programs.save_program, whose errors the view puts back on these fields.
"""

from __future__ import annotations

from typing import Any

from django import forms

from .models import LeaProgram, Organization
from .programs import ProgramFilters, ProgramSettings

Stage = LeaProgram.Stage


class ProgramFilterForm(forms.Form):
    stage = forms.ChoiceField(label="Stage", required=False)
    region = forms.ChoiceField(label="Region", required=False)
    locale = forms.ChoiceField(label="Locale", required=False)
    low_wealth = forms.ChoiceField(
        label="Low-wealth status",
        required=False,
        choices=[("", "Any"), ("yes", "Low-wealth districts"), ("no", "Other districts")],
    )

    def __init__(self, *args: Any, regions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["stage"].choices = [("", "Every stage"), *Stage.choices]
        fields["region"].choices = [("", "Every region")] + [(r, r) for r in regions]
        fields["locale"].choices = [("", "Every locale"), *Organization.Locale.choices]
        for field in fields.values():
            label = field.label.lower()
            field.error_messages["invalid_choice"] = f"Choose a {label} from the list."

    def filters(self) -> ProgramFilters:
        data = self.cleaned_data
        wealth = data.get("low_wealth") or ""
        return ProgramFilters(
            stage=data.get("stage") or "",
            region=data.get("region") or "",
            locale=data.get("locale") or "",
            low_wealth={"yes": True, "no": False}.get(wealth),
        )


class MicroCredentialChoices(forms.ModelMultipleChoiceField):
    """Shows each micro-credential by its title (the slug is its stable name, not its label)."""

    def __init__(self, *args: Any, titles: dict[int, str], **kwargs: Any) -> None:
        self.titles = titles
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return self.titles.get(obj.pk, obj.slug)


class ProgramForm(forms.Form):
    stage = forms.ChoiceField(
        label="Stage",
        choices=Stage.choices,
        widget=forms.RadioSelect,
        help_text="Only the pilot stage limits who may start: to the schools of the cohort.",
        error_messages={
            "required": "Choose the district's stage.",
            "invalid_choice": "Choose one of the stages listed.",
        },
    )
    pilot_schools = forms.ModelMultipleChoiceField(
        label="Pilot cohort",
        queryset=Organization.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=(
            "In the pilot stage, only educators of these schools can start a micro-credential; "
            "the others can browse the catalog. Clear them all when the district moves on."
        ),
    )
    funded = forms.Field(required=False)  # replaced in __init__, which knows the titles
    requires_preapproval = forms.BooleanField(
        label="Every start waits for the principal's pre-approval",
        required=False,
        help_text="The educator says why they want to earn it; their principal decides.",
    )
    # The settings' stamp when the page was opened: a later change by someone else is shown,
    # never overwritten unseen.
    seen = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        schools: Any,
        micro_credentials: Any,
        titles: dict[int, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["pilot_schools"].queryset = schools
        fields["pilot_schools"].error_messages["invalid_choice"] = (
            "Choose schools of this district only."
        )
        fields["funded"] = MicroCredentialChoices(
            label="Micro-credentials the district funds",
            queryset=micro_credentials,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            titles=titles,
            help_text="Its educators see “Funded by” and the district's name on these.",
            error_messages={"invalid_choice": "Choose micro-credentials from the list only."},
        )

    def settings(self) -> ProgramSettings:
        data = self.cleaned_data
        return ProgramSettings(
            stage=data["stage"],
            pilot_school_ids=frozenset(school.pk for school in data["pilot_schools"]),
            funded_ids=frozenset(mc.pk for mc in data["funded"]),
            requires_preapproval=data["requires_preapproval"],
        )


def initial_for(settings: ProgramSettings, stamp: str) -> dict[str, Any]:
    return {
        "stage": settings.stage,
        "pilot_schools": sorted(settings.pilot_school_ids),
        "funded": sorted(settings.funded_ids),
        "requires_preapproval": settings.requires_preapproval,
        "seen": stamp,
    }

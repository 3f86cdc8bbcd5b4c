"""Forms of the assessment pages. They parse what was typed; the services decide (and their
ValidationErrors, keyed by these field names, land next to the fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from microcred.catalog.models import MicroCredential, MicroCredentialVersion, Stack
from microcred.orgs.models import Organization, Role, User

from .models import AssessorProfile
from .selectors import ScoringSheet


class ProfileForm(forms.ModelForm):
    user = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label="Assessor",
        help_text="People who hold the assessor role and have no profile yet.",
    )
    weekly_capacity = forms.IntegerField(min_value=1, max_value=100, label="Submissions per week")
    pay_rate = forms.DecimalField(
        min_value=0,
        max_digits=7,
        decimal_places=2,
        label="Pay per hour of scoring (dollars)",
        help_text="Used unless a fixed fee is set below. A change applies to scores sent from "
        "now on; past pay never changes.",
    )
    fee_per_submission = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=7,
        decimal_places=2,
        label="Or a fixed fee per submission (dollars)",
        help_text="When set, every scored submission earns this fee instead of the hourly rate, "
        "however long it took. Leave empty to pay by the hour, from the minutes the assessor "
        "records.",
    )

    class Meta:
        model = AssessorProfile
        fields = [
            "user",
            "home_organization",
            "qualified_micro_credentials",
            "qualified_stacks",
            "weekly_capacity",
            "pay_rate",
            "fee_per_submission",
            "active",
        ]
        labels = {
            "qualified_micro_credentials": "Trained to score these micro-credentials",
            "qualified_stacks": "Trained for every micro-credential of these stacks",
            "active": "Active: takes new assignments",
        }
        help_texts = {
            "home_organization": "Where the assessor works; conflicts are checked against it.",
            "qualified_micro_credentials": "Hold Ctrl (or Cmd) to choose several.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The person is fixed once the profile exists.
            del self.fields["user"]
        else:
            self.fields["user"].queryset = (
                User.objects.filter(
                    memberships__role=Role.ASSESSOR, memberships__active=True, is_active=True
                )
                .exclude(assessor_profile__isnull=False)
                .distinct()
                .order_by("email")
            )
        self.fields["home_organization"].queryset = Organization.objects.filter(
            active=True
        ).order_by("kind", "name")
        self.fields["qualified_micro_credentials"].queryset = (
            MicroCredential.objects.filter(versions__status=MicroCredentialVersion.Status.PUBLISHED)
            .distinct()
            .order_by("slug")
        )
        self.fields["qualified_micro_credentials"].label_from_instance = _mc_label
        self.fields["qualified_stacks"].queryset = Stack.objects.filter(
            status=Stack.Status.PUBLISHED
        ).order_by("title")


def _mc_label(mc: MicroCredential) -> str:
    current = mc.versions.filter(status=MicroCredentialVersion.Status.PUBLISHED).first()
    return current.title if current else mc.slug


class ConflictForm(forms.Form):
    email = forms.EmailField(
        required=False,
        label="A person's email address",
        help_text="For example a relative, a former colleague or a friend.",
    )
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.filter(
            kind__in=[
                Organization.Kind.LEA,
                Organization.Kind.SCHOOL,
                Organization.Kind.PROVIDER,
            ],
            active=True,
        ).order_by("kind", "name"),
        required=False,
        label="Or an organization",
        help_text="A district also covers every school in it.",
    )
    reason = forms.CharField(max_length=200, label="Why", help_text="One short sentence.")


class DeclineForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        label="Why you decline",
        help_text="For example: I know this teacher, or I cannot score it in time.",
    )


class ScoreForm(forms.Form):
    """The rubric: per component the details checked (or the level chosen) and feedback."""

    overall_feedback = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Overall feedback for the earner",
        required=False,
    )
    minutes_spent = forms.IntegerField(
        label="Minutes spent scoring",
        help_text="Filled in from your time on this page; correct it if needed.",
        required=False,
    )

    def __init__(self, *args: Any, sheet: ScoringSheet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sheet = sheet
        for part in sheet.components:
            component = part.component
            choices = [(c.pk, c.text) for c in part.criteria]
            field_class = forms.TypedChoiceField if sheet.levels else forms.TypedMultipleChoiceField
            widget = forms.RadioSelect if sheet.levels else forms.CheckboxSelectMultiple
            self.fields[f"component_{component.pk}"] = field_class(
                choices=choices,
                coerce=int,
                required=False,
                widget=widget,
                label=component.title,
            )
            # Feedback is required; the service says so with the component's name.
            self.fields[f"feedback_{component.pk}"] = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 3}),
                required=False,
                label=f"Feedback on “{component.title}”",
            )

    def bound_parts(self) -> list[tuple[Any, Any, Any, set[str]]]:
        """(component, choices field, feedback field, ids checked) in rubric order."""
        parts = []
        for p in self.sheet.components:
            choices = self[f"component_{p.component.pk}"]
            value = choices.value()
            values = value if isinstance(value, list) else [value]
            checked = {str(v) for v in values if v not in (None, "")}
            parts.append((p, choices, self[f"feedback_{p.component.pk}"], checked))
        return parts

    def marks(self) -> dict[int, list[int]]:
        chosen: dict[int, list[int]] = {}
        for part in self.sheet.components:
            value = self.cleaned_data.get(f"component_{part.component.pk}")
            if value in (None, ""):
                chosen[part.component.pk] = []
            elif isinstance(value, list):
                chosen[part.component.pk] = [int(v) for v in value]
            else:
                chosen[part.component.pk] = [int(value)]
        return chosen

    def feedback(self) -> dict[int, str]:
        return {
            p.component.pk: self.cleaned_data.get(f"feedback_{p.component.pk}") or ""
            for p in self.sheet.components
        }


def attach_errors(form: forms.Form, error: ValidationError) -> None:
    """Place a service's refusal next to the fields it names (or above the form)."""
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)

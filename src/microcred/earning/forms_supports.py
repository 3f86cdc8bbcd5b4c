"""Forms of the earner-support pages (self-assessment, learning plan, sign-off). They parse
and label input; earning/supports.py decides what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms

from microcred.catalog.models import MicroCredentialVersion

from .models import LearningGoal, SelfAssessmentRating
from .supports import (
    COMMENT_MAX,
    GOAL_TEXT_MAX,
    NOTE_MAX,
    RatingRow,
    published_micro_credentials,
    published_stacks,
)


class SelfAssessmentForm(forms.Form):
    """One confidence choice (required) and one optional note per rubric component."""

    def __init__(self, *args: Any, rows: list[RatingRow], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            pk = row.component.pk
            self.fields[f"c{pk}-confidence"] = forms.ChoiceField(
                label=f"How confident are you about “{row.component.title}”?",
                choices=SelfAssessmentRating.Confidence.choices,
                widget=forms.RadioSelect,
                initial=row.confidence or None,
                error_messages={"required": "Choose one of the three answers."},
            )
            self.fields[f"c{pk}-note"] = forms.CharField(
                label="Your note (optional)",
                help_text="What you already do, or what you want to work on.",
                required=False,
                max_length=NOTE_MAX,
                initial=row.note,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def groups(self) -> list[tuple[RatingRow, forms.BoundField, forms.BoundField]]:
        return [
            (row, self[f"c{row.component.pk}-confidence"], self[f"c{row.component.pk}-note"])
            for row in self.rows
        ]

    def ratings(self) -> dict[int, tuple[str, str]]:
        data = self.cleaned_data
        return {
            row.component.pk: (
                data.get(f"c{row.component.pk}-confidence", ""),
                data.get(f"c{row.component.pk}-note", ""),
            )
            for row in self.rows
        }


class DateInput(forms.DateInput):
    input_type = "date"


class GoalForm(forms.Form):
    micro_credential = forms.ModelChoiceField(
        label="A micro-credential (optional)",
        queryset=published_micro_credentials(),
        required=False,
        empty_label="None",
    )
    stack = forms.ModelChoiceField(
        label="Or a stack of micro-credentials (optional)",
        queryset=published_stacks(),
        required=False,
        empty_label="None",
    )
    text = forms.CharField(
        label="The goal in your own words",
        help_text="Optional when you chose a micro-credential or a stack.",
        required=False,
        max_length=GOAL_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    target_date = forms.DateField(label="Target date (optional)", required=False, widget=DateInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Fresh querysets per form, and readable labels: each MC's current title, read in one
        # query rather than one per option.
        titles = dict(
            MicroCredentialVersion.objects.filter(status=MicroCredentialVersion.Status.PUBLISHED)
            .order_by("micro_credential_id", "number")
            .values_list("micro_credential_id", "title")
        )
        mc_field = self.fields["micro_credential"]
        mc_field.queryset = published_micro_credentials()  # type: ignore[attr-defined]
        mc_field.label_from_instance = lambda mc: titles.get(mc.pk, mc.slug)  # type: ignore[attr-defined]
        stack_field = self.fields["stack"]
        stack_field.queryset = published_stacks()  # type: ignore[attr-defined]
        stack_field.label_from_instance = lambda s: s.title  # type: ignore[attr-defined]


class GoalEditForm(forms.Form):
    text = forms.CharField(
        label="The goal in your own words",
        required=False,
        max_length=GOAL_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    target_date = forms.DateField(label="Target date (optional)", required=False, widget=DateInput)
    status = forms.ChoiceField(
        label="Where it stands",
        choices=LearningGoal.Status.choices,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, derived: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if derived:
            # Taken from the earner's attempts and credentials: not theirs to set.
            del self.fields["status"]


class SendForm(forms.Form):
    principal = forms.TypedChoiceField(
        label="Your principal",
        coerce=int,
        choices=(),
        error_messages={
            "required": "Choose a principal of your school.",
            "invalid_choice": "Choose a principal of your school.",
        },
    )

    def __init__(self, *args: Any, principals: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["principal"].choices = [  # type: ignore[attr-defined]
            (p.pk, p.get_full_name() or p.email) for p in principals
        ]


class SignOffForm(forms.Form):
    decision = forms.ChoiceField(
        label="Your decision",
        choices=[("sign_off", "Sign off the plan"), ("return", "Return it with a comment")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose to sign off the plan or return it."},
    )
    comment = forms.CharField(
        label="Comment for the earner",
        help_text="Required when you return the plan: say what to change.",
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

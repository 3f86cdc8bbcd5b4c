"""Forms for authoring stacks, vetting and approving micro-credentials, and the pieces every
form of the catalog shares (the micro-credential editor itself lives in editor.py).

Forms here only parse what was typed; the rules of a sound stack, review or approval live in
services.py, whose ValidationErrors the forms place next to the fields they name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.forms.formsets import BaseFormSet
from django.http import QueryDict

from . import selectors
from .models import (
    ApprovedUse,
    CriterionRating,
    MicroCredential,
    QualityCriterion,
    Stack,
    VettingReview,
)

# No section of a micro-credential or stack needs more rows; the cap keeps a forged post small.
MAX_ROWS = 100


def textarea(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class OpenMultipleChoiceField(forms.MultipleChoiceField):
    """Offers a list but leaves judging the values to content.check_content, so an unknown
    value gets the same plain message whether it came from this form, the API or an import."""

    def valid_value(self, value: Any) -> bool:
        return True


class RowFormSet(BaseFormSet):
    """Rows of a section. Rows the author added but left blank are ignored; a ticked "Remove"
    drops the row when the page is saved."""

    noun: ClassVar[str] = "Row"

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = f"Remove this {self.noun.lower()}"

    def kept_forms(self) -> Iterator[tuple[int, forms.Form]]:
        """(position, form) of the rows that make it into the content."""
        for i, form in enumerate(self.forms):
            if self.can_delete and self._should_delete_form(form):
                continue
            if i >= self.initial_form_count() and not form.has_changed():
                continue
            yield i, form


def row_formset(form: type[forms.Form], noun: str) -> type[RowFormSet]:
    return forms.formset_factory(
        form,
        formset=type(f"{form.__name__}Set", (RowFormSet,), {"noun": noun}),
        extra=1,
        can_delete=True,
        can_delete_extra=False,
        max_num=MAX_ROWS,
        absolute_max=MAX_ROWS,
    )


def with_extra_row(data: QueryDict, prefix: str) -> QueryDict | None:
    """A copy of the posted data with one more blank row in the formset `prefix` (how "add
    another" works without JavaScript), or None if the page has no such formset."""
    try:
        total = int(data.get(f"{prefix}-TOTAL_FORMS", ""))
    except ValueError:
        return None
    if total >= MAX_ROWS:
        return None
    grown = data.copy()
    grown[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
    return grown


def new_form_key(data: QueryDict | None) -> str:
    """The create form's token against double posts: kept across re-renders of the page."""
    posted = (data or {}).get("form_key", "")
    try:
        return str(uuid.UUID(posted))
    except ValueError:
        return str(uuid.uuid4())


def posted_form_key(data: QueryDict) -> uuid.UUID | None:
    try:
        return uuid.UUID(data.get("form_key", ""))
    except ValueError:
        return None


# ---------------------------------------------------------------------------- stacks
class StackForm(forms.Form):
    title = forms.CharField(max_length=200, required=False)
    description = forms.CharField(
        required=False, widget=textarea(4), help_text="What the pathway builds, and for whom."
    )
    target_role = forms.CharField(
        max_length=120,
        required=False,
        label="Who it is for",
        help_text="For example: instructional coaches, or beginning teachers.",
    )
    level = forms.ChoiceField(
        required=False, choices=[("", "Choose a level"), *Stack.Level.choices]
    )
    achievement_name = forms.CharField(
        max_length=200,
        required=False,
        label="Name of the stack credential",
        help_text="The credential earned by completing the stack.",
    )
    achievement_description = forms.CharField(
        required=False, widget=textarea(3), label="Description of the stack credential"
    )
    min_electives = forms.IntegerField(
        required=False,
        min_value=0,
        label="Electives the earner must complete",
        help_text="0 if every step is required.",
    )


class StackMemberForm(forms.Form):
    micro_credential = forms.ChoiceField(required=False, label="Micro-credential")
    required = forms.BooleanField(
        required=False, initial=True, label="Required (untick for an elective)"
    )


class BaseStackMemberFormSet(RowFormSet):
    noun = "Step"

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        self.choices = choices
        super().__init__(*args, **kwargs)

    def _construct_form(self, i: int, **kwargs: Any) -> forms.Form:
        form = super()._construct_form(i, **kwargs)
        form.fields["micro_credential"].choices = self.choices
        return form

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "ORDER" in form.fields:
            form.fields["ORDER"].label = "Position in the pathway"


StackMemberFormSet = forms.formset_factory(
    StackMemberForm,
    formset=BaseStackMemberFormSet,
    extra=2,
    can_order=True,
    can_delete=True,
    can_delete_extra=False,
    max_num=MAX_ROWS,
    absolute_max=MAX_ROWS,
)


@dataclass
class StackEditor:
    """The stack page: its fields and its ordered steps, chosen among the provider's MCs."""

    form: StackForm
    members: BaseStackMemberFormSet
    general_errors: list[str] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        provider_mcs: list[MicroCredential],
        data: QueryDict | None = None,
        stack: Stack | None = None,
    ) -> StackEditor:
        choices = [("", "Choose a micro-credential")] + [
            (str(mc.pk), _mc_label(mc)) for mc in provider_mcs
        ]
        initial_form: dict[str, Any] | None = None
        initial_members: list[dict[str, Any]] | None = None
        if stack is not None:
            initial_form = {name: getattr(stack, name) for name in StackForm.base_fields}
            initial_members = [
                {"micro_credential": str(mc.pk), "required": required, "ORDER": i}
                for i, (mc, required) in enumerate(selectors.stack_members(stack), start=1)
            ]
        return cls(
            form=StackForm(data, initial=initial_form),
            members=StackMemberFormSet(
                data, prefix="members", initial=initial_members, choices=choices
            ),
        )

    def is_valid(self) -> bool:
        return all([self.form.is_valid(), self.members.is_valid()])

    def data_and_members(
        self, provider_mcs: list[MicroCredential]
    ) -> tuple[dict[str, Any], list[tuple[MicroCredential, bool]]]:
        """The stack's fields and its steps in the order asked for (rows without a position
        come last, in the order shown; removed and blank rows are left out)."""
        by_pk = {str(mc.pk): mc for mc in provider_mcs}
        members = [
            (by_pk[form.cleaned_data["micro_credential"]], form.cleaned_data["required"])
            for form in self.members.ordered_forms
            if form.cleaned_data.get("micro_credential")
        ]
        return dict(self.form.cleaned_data), members

    def attach(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.general_errors.extend(error.messages)
            return
        for path, messages in error.message_dict.items():
            for message in messages:
                if path in self.form.fields:
                    self.form.add_error(path, message)
                else:
                    self.general_errors.append(message)


def _mc_label(mc: MicroCredential) -> str:
    title = getattr(mc, "latest_title", None) or mc.slug
    return title if getattr(mc, "is_published", False) else f"{title} (not published yet)"


# ---------------------------------------------------------------------------- vetting
class ReviewForm(forms.Form):
    """A rating (and optional comment) per active quality criterion, overall comments and the
    decision. Completeness is judged by services.record_review, one set of rules for all."""

    comments = forms.CharField(
        required=False,
        widget=textarea(6),
        label="Overall comments to the provider",
        help_text="Required when you ask for changes or reject: say what to change.",
    )
    decision = forms.ChoiceField(
        required=False,
        widget=forms.RadioSelect,
        choices=[
            (VettingReview.Decision.APPROVED, "Approve: it meets every quality criterion"),
            (
                VettingReview.Decision.CHANGES_REQUESTED,
                "Request changes: the provider revises and sends it again",
            ),
            (VettingReview.Decision.REJECTED, "Reject: it cannot become a micro-credential"),
        ],
        label="Your decision",
    )

    def __init__(self, *args: Any, criteria: list[QualityCriterion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            self.fields[f"rating_{criterion.pk}"] = forms.ChoiceField(
                required=False,
                widget=forms.RadioSelect,
                choices=CriterionRating.Rating.choices,
                label=criterion.title,
                help_text=criterion.guidance,
            )
            self.fields[f"comment_{criterion.pk}"] = forms.CharField(
                required=False,
                widget=textarea(2),
                label=f"Comment on {criterion.title.lower()}",
            )
        self.rating_errors: list[str] = []

    def criterion_fields(self) -> list[tuple[QualityCriterion, forms.BoundField, forms.BoundField]]:
        return [(c, self[f"rating_{c.pk}"], self[f"comment_{c.pk}"]) for c in self.criteria]

    def ratings(self) -> dict[int, tuple[str, str]]:
        """Criterion id -> (rating, comment) for the criteria rated."""
        data = self.cleaned_data
        return {
            c.pk: (data[f"rating_{c.pk}"], data[f"comment_{c.pk}"].strip())
            for c in self.criteria
            if data.get(f"rating_{c.pk}")
        }

    def attach(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for path, messages in error.message_dict.items():
            if path == "ratings":
                self.rating_errors.extend(messages)
            elif path in self.fields:
                for message in messages:
                    self.add_error(path, message)
            else:
                for message in messages:
                    self.add_error(None, message)


class UseRadios(forms.RadioSelect):
    """Radio buttons for the uses, each tied (aria-describedby) to the text that says what
    the office's policies grant for that use."""

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        option["attrs"]["aria-describedby"] = f"use-credit-{option['value']}"
        return option


class ApprovalForm(forms.Form):
    """Approve a version for one of the structured uses. Beside each use the page shows what
    the office's policies in force grant for it (`credit`), instead of a free-text note."""

    use = forms.ChoiceField(
        choices=ApprovedUse.choices,
        widget=UseRadios,
        label="Approve it for",
        error_messages={"required": "Choose what the micro-credential is approved for."},
    )
    requires_preapproval = forms.BooleanField(
        required=False,
        label="Educators need pre-approval before they start",
        help_text="Their district must approve their plan before the credential counts.",
    )

    def __init__(
        self,
        *args: Any,
        credit: dict[str, list[str]] | None = None,
        approved: set[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.credit = credit or {}
        self.approved = approved or set()

    def uses(self) -> list[tuple[forms.BoundWidget, list[str], bool]]:
        """(radio button, what the policies grant for its use, already approved) per use."""
        return [
            (radio, self.credit.get(radio.data["value"], []), radio.data["value"] in self.approved)
            for radio in self["use"]
        ]


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=1000,
        label="Why withdraw this approval",
        help_text="Kept in the audit log and shown to your colleagues.",
    )


class RetireForm(forms.Form):
    reason = forms.CharField(
        required=False,
        widget=textarea(3),
        label="Why retire it",
        help_text="Kept in the audit log. Credentials already earned stay valid.",
    )

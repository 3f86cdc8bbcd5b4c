"""Forms of the ledger pages: filtering entries, choosing entries to approve, the office an
export is for, and the skill whose holders to list."""

from __future__ import annotations

from typing import Any

from django import forms

from . import ledger
from .models import LedgerEntry, RecognitionRule

FILTER_KEYS = ("policy", "status", "kind", "q")


class LedgerFilterForm(forms.Form):
    policy = forms.TypedChoiceField(label="Policy", required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *LedgerEntry.Status.choices],
    )
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "Any kind"), *RecognitionRule.Kind.choices],
    )
    q = forms.CharField(
        label="Educator",
        required=False,
        max_length=200,
        help_text="Part of a name or email address.",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["policy"].choices = [("", "Every policy")] + [
            (p.pk, f"{ledger.policy_label(p)}, {p.recognizer.name}")
            for p in ledger.office_policies(user)
        ]

    def filters(self) -> ledger.EntryFilters:
        """The filters asked for; those that do not check out are left out (the form says
        which)."""
        data = self.cleaned_data if self.is_valid() else {}
        return ledger.EntryFilters(
            policy=data.get("policy"),
            status=data.get("status", ""),
            kind=data.get("kind", ""),
            q=(data.get("q") or "").strip(),
        )


class IdsField(forms.Field):
    """Entry ids posted as repeated fields (`entry=3&entry=5`)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        try:
            ids = [int(v) for v in value]
        except (TypeError, ValueError):
            raise forms.ValidationError(
                "Some of the entries sent are not entry numbers: reload the page and choose again."
            ) from None
        if any(i <= 0 for i in ids):
            raise forms.ValidationError("Entry numbers start at 1.")
        return list(dict.fromkeys(ids))


class ApproveForm(forms.Form):
    ACTIONS = (("selected", "Approve selected"), ("shown", "Approve all pending shown"))

    action = forms.ChoiceField(choices=ACTIONS)
    entry = IdsField(required=False)
    shown = IdsField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        chosen = data["entry"] if data.get("action") == "selected" else data.get("shown", [])
        if not chosen:
            raise forms.ValidationError(
                "Choose at least one pending entry to approve: nothing was changed."
                if data.get("action") == "selected"
                else "No pending entries were shown: nothing was changed."
            )
        data["ids"] = chosen
        return data


class ExportForm(forms.Form):
    recognizer = forms.TypedChoiceField(label="Office", coerce=int)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offices = {org.pk: org for org in ledger.offices(user)}
        self.fields["recognizer"].choices = [(pk, org.name) for pk, org in self.offices.items()]


class HoldersForm(forms.Form):
    micro_credential = forms.TypedChoiceField(
        label="Micro-credential", required=False, coerce=int, empty_value=None
    )
    stack = forms.TypedChoiceField(label="Stack", required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        titles = sorted(ledger.mc_titles().items(), key=lambda item: item[1])
        self.fields["micro_credential"].choices = [("", "Choose a micro-credential"), *titles]
        self.fields["stack"].choices = [("", "Choose a stack"), *ledger.stack_choices()]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and data.get("micro_credential") and data.get("stack"):
            raise forms.ValidationError("Choose a micro-credential or a stack, not both.")
        return data

    def label(self) -> str:
        data = self.cleaned_data
        if data.get("micro_credential"):
            return dict(self.fields["micro_credential"].choices)[data["micro_credential"]]
        if data.get("stack"):
            return dict(self.fields["stack"].choices)[data["stack"]]
        return ""

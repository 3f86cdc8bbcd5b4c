"""Forms of credentials from elsewhere: the educator's upload and the recognizer's decision.
They parse; `external.receive` and `external.decide` judge (and name the fields they fault)."""

from __future__ import annotations

from typing import Any

from django import forms

from microcred.catalog.models import ApprovedUse
from microcred.credentials.forms import VerifyForm
from microcred.orgs.models import Organization


class RecognizerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organization) -> str:
        if obj.kind == Organization.Kind.LEA:
            return f"{obj.name}: your district"
        return f"{obj.name}: the state, which renews your license"


class UploadForm(VerifyForm):
    """The verifier's form (pasted JSON, a .json file or a baked badge image), and who is
    asked to recognize the credential."""

    recognizer = RecognizerChoice(
        queryset=Organization.objects.none(),
        label="Who should recognize it",
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose who should recognize it: your district or the state.",
            "invalid_choice": "Choose your own district or your state.",
        },
    )

    field_order = ["file", "credential", "recognizer"]

    def __init__(self, *args: Any, recognizers: list[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recognizer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Organization.objects.filter(pk__in=[org.pk for org in recognizers])
        if recognizers:
            self.initial.setdefault("recognizer", recognizers[0].pk)
        self.fields["file"].label = (
            "Upload the credential file (.json, up to 1 MB), or a badge image with the "
            "credential baked in (.png or .svg)"
        )
        self.fields["credential"].label = "Or paste the credential (JSON)"


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label="Your decision",
        choices=[("accept", "Accept it"), ("decline", "Decline it")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether you accept or decline it."},
    )
    uses = forms.MultipleChoiceField(
        label="If you accept it: what it counts for",
        choices=ApprovedUse.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Your policies in force grant what they grant for each use you tick.",
        error_messages={"invalid_choice": "Choose among the uses listed."},
    )
    comment = forms.CharField(
        label="Comment for the educator",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when you decline: say why, and what they could bring instead.",
    )

    @property
    def accept(self) -> bool:
        return self.cleaned_data.get("decision") == "accept"

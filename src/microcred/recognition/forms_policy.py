"""Forms of the policy pages. They parse; services.create_policy, add_rule (through
check_rule), activate, new_version and retire decide, and their refusals come back onto the
form's fields in the services' own words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from microcred.catalog.models import MicroCredential
from microcred.orgs.models import Organization

from . import selectors_policies
from .models import RecognitionRule

Kind = RecognitionRule.Kind
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _date(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DATE,
        help_text=help_text,
        error_messages={"invalid": "Enter a date such as 2026-09-01.", "required": "Give a date."},
    )


class ServiceErrors:
    """Puts a service's ValidationError on the form: on a field it names, else on top."""

    field_of: dict[str, str] = {}

    def attach(self, error: ValidationError) -> None:
        form: Any = self
        if not hasattr(error, "error_dict"):
            form.add_error(None, error)
            return
        for name, messages in error.message_dict.items():
            field = self.field_of.get(name, name)
            form.add_error(field if field in form.fields else None, messages)


class PolicyForm(ServiceErrors, forms.Form):
    recognizer = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        label="Office",
        empty_label=None,
        help_text="The office whose policy this is.",
        error_messages={"invalid_choice": "Choose one of your offices."},
    )
    name = forms.CharField(
        max_length=200,
        label="Name",
        help_text="As HR and educators will read it, for example: Pine County pay for MCs.",
        error_messages={"required": "Give the policy a name."},
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Description (optional)",
        help_text="Who it is for and anything the rules do not say.",
    )
    effective_from = _date("First day it applies")
    effective_until = _date(
        "Last day it applies (optional)",
        required=False,
        help_text="Leave empty while it has no end.",
    )

    def __init__(self, *args: Any, offices: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recognizer"]
        field.queryset = offices  # type: ignore[attr-defined]
        if len(offices) == 1:
            field.initial = offices[0]


class MicroCredentialChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: MicroCredential) -> str:
        return getattr(obj, "title", None) or obj.slug


def _rule_field(name: str, label: str, help_text: str = "", **kwargs: Any) -> forms.Field:
    """The model's field as an optional form field: the service, not the form, says what a
    kind of rule needs (REQUIRED_FIELDS)."""
    field = RecognitionRule._meta.get_field(name).formfield(
        required=False, label=label, help_text=help_text, **kwargs
    )
    assert field is not None
    return field


class RuleForm(ServiceErrors, forms.Form):
    """One rule. Every kind's fields are on the page, grouped by kind (FIELDSETS); only the
    chosen kind's are read."""

    kind = forms.ChoiceField(
        choices=Kind.choices,
        widget=forms.RadioSelect,
        label="What the rule grants",
        error_messages={"required": "Choose what the rule grants."},
    )
    ceu_source = forms.ChoiceField(
        choices=RecognitionRule.CeuSource.choices,
        widget=forms.RadioSelect,
        required=False,
        label="Where the CEUs come from",
    )
    hours_per_ceu = _rule_field(
        "hours_per_ceu", "Hours that make one CEU", "10 in most states: 12 hours make 1.2 CEUs."
    )
    fixed_ceus = _rule_field("fixed_ceus", "CEUs per micro-credential, when fixed")
    mcs_required = _rule_field(
        "mcs_required", "Micro-credentials that renew a license", min_value=1
    )
    amount = _rule_field("amount", "Stipend per micro-credential, in dollars")
    budget = _rule_field(
        "budget", "Budget, in dollars", "Stipends stop, visibly, once it is spent."
    )
    funding_source = _rule_field("funding_source", "Funding source", "For example: Title II.")
    salary_foundational = _rule_field("salary_foundational", "Foundational, dollars a year")
    salary_intermediate = _rule_field("salary_intermediate", "Intermediate, dollars a year")
    salary_advanced = _rule_field("salary_advanced", "Advanced, dollars a year")
    mcs_per_credit = _rule_field(
        "mcs_per_credit", "Micro-credentials that make one credit", min_value=1
    )
    masters_cap = _rule_field(
        "cap", "Most credits one educator gets (optional)", "For example: 15 of 36."
    )
    units_per_hour = _rule_field("units_per_hour", "Contact units per hour")
    units_cap = _rule_field("cap", "Most contact units one educator gets (optional)")
    role_title = _rule_field("role_title", "Role", "For example: Multi-classroom leader.")
    stacks = forms.ModelMultipleChoiceField(
        queryset=selectors_policies.published_stacks(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Stacks the role needs (every one)",
    )
    micro_credentials = MicroCredentialChoice(
        queryset=selectors_policies.published_micro_credentials(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Micro-credentials the role counts",
    )
    mcs_needed = _rule_field(
        "mcs_needed",
        "How many of those micro-credentials (optional)",
        "Leave empty to need all of them.",
    )

    # The form's fields for each kind, in the order shown, and their fieldset's legend.
    FIELDSETS: dict[str, list[str]] = {
        Kind.CEU: ["ceu_source", "hours_per_ceu", "fixed_ceus"],
        Kind.RENEWAL_COUNT: ["mcs_required"],
        Kind.STIPEND: ["amount", "budget", "funding_source"],
        Kind.SALARY: ["salary_foundational", "salary_intermediate", "salary_advanced"],
        Kind.MASTERS: ["mcs_per_credit", "masters_cap"],
        Kind.CONTACT_UNITS: ["units_per_hour", "units_cap"],
        Kind.ROLE: ["role_title", "stacks", "micro_credentials", "mcs_needed"],
    }
    CAP_FIELD = {Kind.MASTERS: "masters_cap", Kind.CONTACT_UNITS: "units_cap"}

    @property
    def field_of(self) -> dict[str, str]:  # type: ignore[override]
        kind = self.data.get(self.add_prefix("kind"), "")
        return {"cap": self.CAP_FIELD.get(kind, "masters_cap")}

    def fieldsets(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(kind, legend, bound fields) for each kind of rule."""
        labels = dict(Kind.choices)
        return [
            (kind, labels[kind], [self[name] for name in names])
            for kind, names in self.FIELDSETS.items()
        ]

    def rule_fields(self) -> dict[str, Any]:
        """The chosen kind's fields, as services.add_rule takes them."""
        kind = self.cleaned_data["kind"]
        fields: dict[str, Any] = {"kind": kind}
        for name in self.FIELDSETS[kind]:
            value = self.cleaned_data.get(name)
            model_name = "cap" if name in self.CAP_FIELD.values() else name
            if name in ("stacks", "micro_credentials"):
                value = list(value or [])
            elif isinstance(value, str):
                value = value.strip()
            fields[model_name] = value
        return fields


class NewVersionForm(ServiceErrors, forms.Form):
    effective_from = _date(
        "First day of the new version",
        help_text="The version in force ends the day before, once you put the new one in force.",
    )


class RetireForm(ServiceErrors, forms.Form):
    field_of = {"effective_until": "last_day"}

    last_day = _date(
        "Last day it applies",
        help_text="Credentials earned after this day get nothing from this version.",
    )

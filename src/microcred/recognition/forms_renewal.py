"""Forms of the license pages: the CSV upload and the list's filter."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from microcred.orgs.imports import MAX_BYTES, MAX_ROWS
from microcred.orgs.models import Organization


class _OfficeField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organization) -> str:
        return obj.name


def _office_field(offices: list[Organization], label: str) -> forms.ModelChoiceField:
    field = _OfficeField(
        queryset=Organization.objects.filter(pk__in=[o.pk for o in offices]).order_by("name"),
        label=label,
        empty_label=None,
        initial=offices[0].pk if offices else None,
        error_messages={"invalid_choice": "Choose one of the offices you work for."},
    )
    if len(offices) == 1:
        field.widget = forms.HiddenInput()
        field.required = False  # the only office, taken when the field is left out
    return field


class _OfficeForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # A hidden field's error would show nowhere: it goes to the top of the form.
        if isinstance(self.fields["office"].widget, forms.HiddenInput) and "office" in self.errors:
            self.add_error(None, list(self.errors.pop("office")))
        return data


class LicenseImportForm(_OfficeForm):
    file = forms.FileField(
        label="CSV file of licenses",
        help_text=f"A spreadsheet saved as CSV UTF-8: at most 2 MB and {MAX_ROWS:,} rows.",
        error_messages={"required": "Choose the CSV file to check.", "empty": "The file is empty."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args: Any, offices: list[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offices = offices
        self.fields = {
            "office": _office_field(offices, "Import for which office?"),
            **self.fields,
        }

    def clean_office(self) -> Organization:
        return self.cleaned_data.get("office") or self.offices[0]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError("The file is larger than 2 MB. Split it into smaller files.")
        return upload


class LicenseFilterForm(_OfficeForm):
    ending_soon = forms.BooleanField(
        required=False, label="Only cycles ending within 12 months and not yet renewed"
    )

    def __init__(self, *args: Any, offices: list[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields = {"office": _office_field(offices, "Office"), **self.fields}
        self.fields["office"].required = False

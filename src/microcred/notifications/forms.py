from __future__ import annotations

from typing import Any

from django import forms

from .selectors import PreferenceRow


class EmailPreferencesForm(forms.Form):
    """One "Email me" checkbox per kind of notification."""

    def __init__(self, rows: list[PreferenceRow], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            self.fields[row.kind] = forms.BooleanField(
                required=False, initial=row.send_email, label=row.label
            )

    def emailed_kinds(self) -> set[str]:
        return {kind for kind, wanted in self.cleaned_data.items() if wanted}

    def checkboxes(self) -> list[tuple[PreferenceRow, forms.BoundField]]:
        return [(row, self[row.kind]) for row in self.rows]

"""Forms of the management pages. They only shape input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from . import selectors
from .imports import MAX_BYTES, MAX_ROWS, ImportKind
from .models import ROLE_ORG_KINDS, Organization, Role, with_article


def show_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's errors next to the fields they name; others go to the top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


class OrganizationForm(forms.Form):
    name = forms.CharField(
        max_length=200, label="Name", error_messages={"required": "Enter the organization's name."}
    )
    kind = forms.ChoiceField(
        choices=[("", "Choose one"), *Organization.Kind.choices],
        label="Kind of organization",
        error_messages={"required": "Choose the kind of organization."},
        help_text="A school sits in a district; a district in the state agency. Providers, "
        "issuers and assessment organizations stand beside them.",
    )
    parent = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label="Part of",
        empty_label="Nothing (a top-level organization)",
    )
    slug = forms.SlugField(
        max_length=80,
        required=False,
        label="Short name for links and spreadsheets (optional)",
        help_text="Lower-case letters, numbers and hyphens, for example pine-elementary. "
        "Left empty, it is made from the name. It cannot change later.",
    )
    code = forms.CharField(
        max_length=40,
        required=False,
        label="Code (optional)",
        help_text="The state or NCES number, used to match rows when you import a spreadsheet.",
    )
    region = forms.CharField(max_length=80, required=False, label="Region (optional)")
    locale = forms.ChoiceField(
        choices=[("", "Not set"), *Organization.Locale.choices],
        required=False,
        label="Locale (districts only)",
    )
    size = forms.ChoiceField(
        choices=[("", "Not set"), *Organization.Size.choices],
        required=False,
        label="Size (districts only)",
    )
    low_wealth = forms.BooleanField(required=False, label="Low-wealth district (districts only)")
    website = forms.URLField(required=False, label="Website (optional)", assume_scheme="https")

    def __init__(
        self, *args: Any, user: Any, instance: Organization | None = None, **kwargs: Any
    ) -> None:
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    name: getattr(instance, name)
                    for name in (
                        "name",
                        "parent",
                        "code",
                        "region",
                        "locale",
                        "size",
                        "low_wealth",
                        "website",
                    )
                },
            )
        super().__init__(*args, **kwargs)
        self.instance = instance
        if not selectors.is_active_superuser(user) and "kind" in self.fields:
            # Only superusers create state agencies; do not offer what would be refused.
            self.fields["kind"].choices = [
                choice
                for choice in self.fields["kind"].choices
                if choice[0] != Organization.Kind.STATE_AGENCY
            ]
        if not (selectors.is_active_superuser(user) or selectors.is_state_admin(user)):
            # District admins add organizations only inside their district.
            self.fields["parent"].required = True
            self.fields["parent"].empty_label = "Choose one"
            self.fields["parent"].error_messages["required"] = (
                "Choose what the organization is part of."
            )
        choices = selectors.parent_choices(user)
        if instance is not None:
            # Kind and short name are fixed once created: schools, roles and links depend on
            # them. The current parent stays selectable even if the user does not manage it.
            del self.fields["kind"], self.fields["slug"]
            choices = choices.exclude(pk=instance.pk)
            if instance.parent_id:
                choices = choices | Organization.objects.filter(pk=instance.parent_id)
        self.fields["parent"].queryset = choices.order_by("kind", "name")
        self.fields["parent"].label_from_instance = lambda org: (
            f"{org.name} ({org.get_kind_display()})"
        )

    def values(self) -> dict[str, Any]:
        """The cleaned values the services take."""
        data = dict(self.cleaned_data)
        data.pop("kind", None)
        data.pop("slug", None)
        return data


class MembershipForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        error_messages={
            "required": "Enter the person's email address.",
            "invalid": "Enter an email address like name@school.org.",
        },
    )
    role = forms.ChoiceField(choices=Role.choices, label="Role")
    first_name = forms.CharField(max_length=150, required=False, label="First name (optional)")
    last_name = forms.CharField(max_length=150, required=False, label="Last name (optional)")

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The list offers the roles that fit this kind of organization; the field accepts
        # any role so that the service, which checks, can say why another one does not fit.
        fitting = [
            (value, label)
            for value, label in Role.choices
            if organization.kind in ROLE_ORG_KINDS.get(value, set())
        ]
        self.fields["role"].widget.choices = fitting
        self.fields["role"].help_text = (
            f"Roles at {with_article(organization.get_kind_display())}: "
            + ", ".join(str(label) for _, label in fitting)
            + "."
        )
        self.fields["email"].help_text = (
            "If this person has no account yet, one is created and they get an email to "
            "choose a password."
        )


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(
        choices=ImportKind.choices,
        widget=forms.RadioSelect,
        label="What does the file list?",
        initial=ImportKind.PEOPLE,
    )
    file = forms.FileField(
        label="File",
        help_text=f"A spreadsheet saved as CSV UTF-8 (or a OneRoster zip): at most 2 MB and "
        f"{MAX_ROWS:,} rows.",
        error_messages={"required": "Choose the file to check.", "empty": "The file is empty."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,.zip,application/zip"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError("The file is larger than 2 MB. Split it into smaller files.")
        return upload


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What will use it, such as “grading spreadsheet script”, so you know which "
        "one to revoke later.",
    )

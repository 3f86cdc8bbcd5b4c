"""Forms of the LTI pages: a platform registered by hand, and the choice of an organization
for a dynamic registration."""

from __future__ import annotations

from typing import Any

from django import forms

from microcred.orgs.models import Organization

from .services import PLATFORM_OWNER_KINDS, PlatformFields


class PlatformForm(forms.Form):
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        label="Organization",
        help_text="The state agency or district whose educators launch microcred from it.",
        error_messages={"required": "Choose the organization this platform belongs to."},
    )
    name = forms.CharField(max_length=200, label="Name", help_text="For example “Pine Canvas”.")
    issuer = forms.CharField(
        max_length=500, label="Issuer", help_text="For Canvas: https://canvas.instructure.com"
    )
    client_id = forms.CharField(max_length=255, label="Client ID")
    auth_login_url = forms.CharField(max_length=500, label="Authentication request URL")
    auth_token_url = forms.CharField(max_length=500, label="Access token URL")
    key_set_url = forms.CharField(max_length=500, label="Public key set URL")
    auth_audience = forms.CharField(
        max_length=500,
        required=False,
        label="Token audience (optional)",
        help_text="Only if the platform names one (Moodle does not); else the token URL is used.",
    )
    deployment_ids = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Deployment IDs",
        help_text="One per line, as the platform shows them.",
        required=False,
    )

    def __init__(self, *args: Any, organizations: Any, editing: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = organizations.filter(kind__in=PLATFORM_OWNER_KINDS).order_by("name")
        if editing:
            del self.fields["organization"]
        for name, value in self.fields.items():
            if name != "deployment_ids" and value.required:
                value.error_messages["required"] = f"Enter the {value.label}."

    def fields_data(self) -> PlatformFields:
        data = self.cleaned_data
        return PlatformFields(
            name=data["name"],
            issuer=data["issuer"],
            client_id=data["client_id"],
            auth_login_url=data["auth_login_url"],
            auth_token_url=data["auth_token_url"],
            key_set_url=data["key_set_url"],
            auth_audience=data["auth_audience"],
            deployment_ids=data["deployment_ids"].splitlines(),
        )


class RegistrationForm(forms.Form):
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        label="Organization",
        help_text="Whose educators will launch microcred from this platform.",
        error_messages={"required": "Choose the organization this platform belongs to."},
    )
    openid_configuration = forms.CharField(widget=forms.HiddenInput)
    registration_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = organizations.filter(kind__in=PLATFORM_OWNER_KINDS).order_by("name")

"""The set-up form of an identity provider. It checks shapes; what an IdP may be (grantable
roles, required protocol settings) is decided once, in orgs.sso.save_identity_provider, whose
errors the view puts back on these fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from . import sso
from .models import SSO_GRANTABLE_ROLES, IdentityProvider, Role

Kind = IdentityProvider.Kind


class IdentityProviderForm(forms.Form):
    organization = forms.ModelChoiceField(
        label="Organization",
        queryset=None,  # type: ignore[arg-type]  # set in __init__
        help_text="The state agency or district whose people sign in with it.",
        error_messages={
            "required": "Choose the organization.",
            "invalid_choice": "Choose an organization you run from the list.",
        },
    )
    kind = forms.ChoiceField(
        label="Protocol",
        choices=Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose OpenID Connect or SAML 2.0."},
    )
    name = forms.CharField(
        label="Name on the button",
        max_length=80,
        help_text="People see “Sign in with” and this name, for example NCEdCloud.",
        error_messages={"required": "Enter the name people know the service by."},
    )
    organization_attribute = forms.CharField(
        label="Attribute with the district or school code",
        max_length=200,
        help_text="For example school_code, lea_code: the first one sent is used. Its value is "
        "matched to the codes of the districts and schools in microcred.",
        error_messages={"required": "Enter the attribute that holds the code."},
    )
    role_attribute = forms.CharField(label="Attribute with the person's roles", required=False)
    role_map = forms.CharField(
        label="Roles",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line: the IdP's value = the microcred role, for example "
        "“teacher = earner”. Roles: earner, coach, principal.",
    )
    default_role = forms.ChoiceField(
        label="Role when none of the above is sent",
        required=False,
        help_text="Leave empty to refuse people whose role is not in the list.",
    )
    email_domains = forms.CharField(
        label="Email domains of this IdP",
        required=False,
        help_text="For example wcpss.net. A microcred account with an address in these "
        "domains is signed into by this IdP; other existing accounts are never taken over.",
    )
    counts_as_second_factor = forms.BooleanField(
        label="The IdP already asks for a second factor",
        required=False,
        help_text="Admins and assessors who sign in with it are not asked again by microcred.",
    )
    active = forms.BooleanField(label="Show the button on the sign-in page", required=False)
    # OpenID Connect
    server_url = forms.CharField(
        label="IdP address (issuer)",
        required=False,
        help_text="microcred reads /.well-known/openid-configuration below it.",
    )
    client_id = forms.CharField(label="Client ID", required=False, max_length=191)
    client_secret = forms.CharField(
        label="Client secret",
        required=False,
        max_length=191,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Never shown again; leave empty to keep the saved one.",
    )
    # SAML 2.0
    idp_entity_id = forms.CharField(label="IdP entity ID", required=False, max_length=500)
    sso_url = forms.CharField(label="IdP sign-in address", required=False, max_length=500)
    x509_cert = forms.CharField(
        label="IdP signing certificate (PEM)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Leave empty to keep the saved one.",
    )
    email_attribute = forms.CharField(label="Email attribute", required=False, max_length=200)
    first_name_attribute = forms.CharField(
        label="First name attribute", required=False, max_length=200
    )
    last_name_attribute = forms.CharField(
        label="Last name attribute", required=False, max_length=200
    )

    OIDC_FIELDS = ("server_url", "client_id", "client_secret")
    SAML_FIELDS = (
        "idp_entity_id",
        "sso_url",
        "x509_cert",
        "email_attribute",
        "first_name_attribute",
        "last_name_attribute",
    )

    def __init__(self, *args: Any, organizations: Any, editing: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["organization"].queryset = organizations
        fields["default_role"].choices = [("", "None: refuse")] + [
            (r, Role(r).label) for r in SSO_GRANTABLE_ROLES
        ]
        fields["default_role"].error_messages["invalid_choice"] = "Choose a role from the list."
        if editing:
            # The protocol decides the URLs the IdP has registered: it never changes.
            fields["kind"].disabled = True

    def clean_role_map(self) -> dict[str, str]:
        try:
            return sso.parse_role_map(self.cleaned_data.get("role_map") or "")
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["role_map"]) from exc

    def settings(self) -> sso.IdpSettings:
        data = self.cleaned_data
        return sso.IdpSettings(
            organization=data["organization"],
            kind=data["kind"],
            name=data["name"],
            organization_attribute=data["organization_attribute"],
            role_attribute=data.get("role_attribute") or "",
            role_map=data.get("role_map") or {},
            default_role=data.get("default_role") or "",
            email_domains=sso.split_domains(data.get("email_domains") or ""),
            counts_as_second_factor=data.get("counts_as_second_factor", False),
            active=data.get("active", False),
            **{name: data.get(name) or "" for name in self.OIDC_FIELDS + self.SAML_FIELDS},
        )


def initial_for(idp: IdentityProvider) -> dict[str, Any]:
    """The form's values for an existing IdP: never its secret."""
    app = idp.social_app
    initial: dict[str, Any] = {
        "organization": idp.organization_id,
        "kind": idp.kind,
        "name": idp.name,
        "organization_attribute": idp.organization_attribute,
        "role_attribute": idp.role_attribute,
        "role_map": sso.format_role_map(idp.role_map),
        "default_role": idp.default_role,
        "email_domains": ", ".join(idp.email_domains),
        "counts_as_second_factor": idp.counts_as_second_factor,
        "active": idp.active,
    }
    if idp.kind == Kind.OIDC:
        initial.update(server_url=app.settings.get("server_url", ""), client_id=app.client_id)
    else:
        saml = app.settings.get("idp", {})
        mapping = app.settings.get("attribute_mapping", {})
        initial.update(idp_entity_id=saml.get("entity_id", ""), sso_url=saml.get("sso_url", ""))
        for key in ("email", "first_name", "last_name"):
            given = mapping.get(key, [])
            default = sso.SAML_DEFAULTS[key]
            initial[f"{key}_attribute"] = given[0] if len(given) > len(default) else ""
    return initial

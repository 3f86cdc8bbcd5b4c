"""Single sign-on set-up over the API (invariant 8): the identity providers a program office
runs, read and written through orgs.sso like the pages. Secrets are write-only: a read says
whether one is saved, never what it is."""

# No `from __future__ import annotations`: django-ninja reads these annotations at run time.
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from . import sso
from .api_auth import ApiTokenAuth
from .models import IdentityProvider

router = Router(tags=["Single sign-on"], auth=[ApiTokenAuth(), django_auth])


class IdentityProviderOut(Schema):
    id: int
    organization: str = Field(description="The state agency's or district's slug.")
    kind: str = Field(description="oidc or saml")
    name: str
    active: bool
    organization_attribute: str
    role_attribute: str
    role_map: dict[str, str]
    default_role: str
    email_domains: list[str]
    counts_as_second_factor: bool
    server_url: str = ""
    client_id: str = ""
    client_secret_saved: bool = False
    idp_entity_id: str = ""
    sso_url: str = ""
    service_provider: dict[str, str] = Field(description="What the IdP's administrators need.")


class IdentityProviderIn(Schema):
    organization: str
    kind: str
    name: str
    organization_attribute: str
    role_attribute: str = ""
    role_map: dict[str, str] = {}
    default_role: str = ""
    email_domains: list[str] = []
    counts_as_second_factor: bool = False
    active: bool = True
    server_url: str = ""
    client_id: str = ""
    client_secret: str = Field("", description="Empty keeps the saved secret.")
    idp_entity_id: str = ""
    sso_url: str = ""
    x509_cert: str = Field("", description="PEM; empty keeps the saved certificate.")
    email_attribute: str = ""
    first_name_attribute: str = ""
    last_name_attribute: str = ""


def _out(request: HttpRequest, idp: IdentityProvider) -> IdentityProviderOut:
    app = idp.social_app
    saml = app.settings.get("idp", {})
    return IdentityProviderOut(
        id=idp.pk,
        organization=idp.organization.slug,
        kind=idp.kind,
        name=idp.name,
        active=idp.active,
        organization_attribute=idp.organization_attribute,
        role_attribute=idp.role_attribute,
        role_map=idp.role_map,
        default_role=idp.default_role,
        email_domains=idp.email_domains,
        counts_as_second_factor=idp.counts_as_second_factor,
        server_url=app.settings.get("server_url", ""),
        client_id=app.client_id if idp.kind == IdentityProvider.Kind.OIDC else "",
        client_secret_saved=bool(app.secret),
        idp_entity_id=saml.get("entity_id", ""),
        sso_url=saml.get("sso_url", ""),
        service_provider=dict(sso.service_provider_details(idp, request.build_absolute_uri)),
    )


def _settings(request: HttpRequest, payload: IdentityProviderIn) -> sso.IdpSettings:
    organization = sso.idp_organizations(request.user).filter(slug=payload.organization).first()
    if organization is None:
        raise HttpError(400, f"You run no state agency or district {payload.organization}.")
    data = payload.dict()
    data["organization"] = organization
    data["role_map"] = {k.strip().lower(): v.strip().lower() for k, v in payload.role_map.items()}
    return sso.IdpSettings(**data)


def _mine(request: HttpRequest, pk: int) -> IdentityProvider:
    idp = sso.manageable_identity_providers(request.user).filter(pk=pk).first()
    if idp is None:
        raise Http404("There is no such identity provider among those you run.")
    return idp


@router.get("", response=list[IdentityProviderOut])
def identity_providers(request: HttpRequest) -> list[IdentityProviderOut]:
    """The sign-in services of the organizations I run."""
    return [_out(request, idp) for idp in sso.manageable_identity_providers(request.user)]


@router.get("/{pk}", response=IdentityProviderOut)
def identity_provider(request: HttpRequest, pk: int) -> IdentityProviderOut:
    return _out(request, _mine(request, pk))


@router.post("", response={201: IdentityProviderOut})
def create(request: HttpRequest, payload: IdentityProviderIn) -> tuple[int, IdentityProviderOut]:
    if not sso.idp_organizations(request.user).exists():
        raise HttpError(403, "Single sign-on is set up by the state's or a district's staff.")
    idp = sso.save_identity_provider(request.user, _settings(request, payload))
    return 201, _out(request, idp)


@router.put("/{pk}", response=IdentityProviderOut)
def change(request: HttpRequest, pk: int, payload: IdentityProviderIn) -> IdentityProviderOut:
    """Replace the settings (every field; empty secrets keep the saved ones)."""
    idp = _mine(request, pk)
    saved = sso.save_identity_provider(request.user, _settings(request, payload), existing=idp)
    return _out(request, saved)

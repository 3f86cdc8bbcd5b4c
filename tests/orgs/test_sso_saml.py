"""Single sign-on with SAML 2.0, against a test IdP made in the fixture: a key and a
self-signed certificate (cryptography) and a Response whose Assertion is signed with
python3-saml's xmlsec signer, posted to allauth's assertion consumer service in answer to the
AuthnRequest microcred sent (InResponseTo)."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
import zlib
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.urls import reverse
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from microcred.orgs import sso
from microcred.orgs.models import IdentityProvider, Membership, Organization, Role, User

IDP_ENTITY = "https://idp.oak.example/saml"
SSO_URL = "https://idp.oak.example/sso"


def _key_and_cert(common_name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def idp_keys() -> dict[str, tuple[str, str]]:
    return {"real": _key_and_cert("idp.oak.example"), "forger": _key_and_cert("forger")}


@pytest.fixture
def saml_idp(org_tree: dict[str, Organization], state_admin: User, idp_keys) -> IdentityProvider:
    """The state's IdP: lea_code; principal/teacher mapped."""
    Organization.objects.filter(pk=org_tree["lea2"].pk).update(code="320")
    Organization.objects.filter(pk=org_tree["school2"].pk).update(code="320-310")
    return sso.save_identity_provider(
        state_admin,
        sso.IdpSettings(
            organization=org_tree["state"],
            kind=IdentityProvider.Kind.SAML,
            name="NCEdCloud",
            organization_attribute="school_code",
            role_attribute="role",
            role_map={"teacher": Role.EARNER, "principal": Role.PRINCIPAL},
            email_domains=["oak.k12.example"],
            idp_entity_id=IDP_ENTITY,
            sso_url=SSO_URL,
            x509_cert=idp_keys["real"][1],
        ),
    )


HOST = "microcred.example.org"


@pytest.fixture
def client(settings) -> Any:
    """Browsers always send Host, which python3-saml reads (Django's test client sends none),
    and it refuses single-label hosts such as "testserver" in the SP's URLs."""
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]
    return Client(HTTP_HOST=HOST)


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_response(
    *,
    acs: str,
    audience: str,
    in_response_to: str,
    attributes: dict[str, list[str]],
    key_pem: str | None,
    cert_pem: str,
    expires_in: dt.timedelta = dt.timedelta(minutes=5),
) -> str:
    """A SAML Response (base64) with one Assertion, signed unless key_pem is None."""
    now = dt.datetime.now(dt.UTC)
    later = _iso(now + expires_in)
    values = "".join(
        f'<saml:Attribute Name="{name}">'
        + "".join(f"<saml:AttributeValue>{v}</saml:AttributeValue>" for v in vals)
        + "</saml:Attribute>"
        for name, vals in attributes.items()
    )
    assertion = (
        '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
        f'ID="_a{uuid.uuid4().hex}" Version="2.0" IssueInstant="{_iso(now)}">'
        f"<saml:Issuer>{IDP_ENTITY}</saml:Issuer>"
        "<saml:Subject>"
        '<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">'
        "oak-7781</saml:NameID>"
        '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
        f'<saml:SubjectConfirmationData NotOnOrAfter="{later}" Recipient="{acs}" '
        f'InResponseTo="{in_response_to}"/>'
        "</saml:SubjectConfirmation></saml:Subject>"
        f'<saml:Conditions NotBefore="{_iso(now - dt.timedelta(minutes=5))}" '
        f'NotOnOrAfter="{later}">'
        f"<saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience>"
        "</saml:AudienceRestriction></saml:Conditions>"
        f'<saml:AuthnStatement AuthnInstant="{_iso(now)}" SessionIndex="_s1">'
        "<saml:AuthnContext><saml:AuthnContextClassRef>"
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
        "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
        f"<saml:AttributeStatement>{values}</saml:AttributeStatement>"
        "</saml:Assertion>"
    )
    if key_pem is not None:
        signed = OneLogin_Saml2_Utils.add_sign(assertion, key_pem, cert_pem)
        assertion = signed.decode() if isinstance(signed, bytes) else signed
        assertion = assertion.removeprefix('<?xml version="1.0"?>').strip()
    response = (
        '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
        f'ID="_r{uuid.uuid4().hex}" Version="2.0" IssueInstant="{_iso(now)}" '
        f'Destination="{acs}" InResponseTo="{in_response_to}">'
        f"<saml:Issuer>{IDP_ENTITY}</saml:Issuer>"
        '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
        f"</samlp:Status>{assertion}</samlp:Response>"
    )
    return base64.b64encode(response.encode()).decode()


def start(client: Any, idp: IdentityProvider) -> str:
    """Press the sign-in button: returns the AuthnRequest's ID."""
    response = client.post(sso.login_url(idp))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == SSO_URL
    encoded = parse_qs(location.query)["SAMLRequest"][0]
    xml = zlib.decompress(base64.b64decode(encoded), -15)
    return ElementTree.fromstring(xml).attrib["ID"]


def post_assertion(client: Any, idp: IdentityProvider, saml_response: str) -> Any:
    slug = {"organization_slug": idp.social_app.client_id}
    response = client.post(reverse("saml_acs", kwargs=slug), {"SAMLResponse": saml_response})
    assert response.status_code == 302  # allauth moves on to finish with the session cookie
    return client.get(response["Location"])


def acs_and_audience(idp: IdentityProvider) -> dict[str, str]:
    slug = {"organization_slug": idp.social_app.client_id}
    return {
        "acs": f"http://{HOST}" + reverse("saml_acs", kwargs=slug),
        "audience": f"http://{HOST}" + reverse("saml_metadata", kwargs=slug),
    }


ATTRIBUTES = {
    "mail": ["grace@oak.k12.example"],
    "givenName": ["Grace"],
    "sn": ["Hopper"],
    "school_code": ["320-310"],
    "role": ["Principal", "Teacher"],
}


def sign_in(client: Any, idp: IdentityProvider, keys: tuple[str | None, str], **change: Any):
    request_id = start(client, idp)
    params: dict[str, Any] = {
        **acs_and_audience(idp),
        "in_response_to": request_id,
        "attributes": ATTRIBUTES,
        "key_pem": keys[0],
        "cert_pem": keys[1],
    }
    params.update(change)
    return post_assertion(client, idp, build_response(**params))


def signed_in_user(client: Any) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.filter(pk=user_id).first() if user_id else None


def test_a_signed_assertion_signs_a_principal_in_with_school_and_roles(client, saml_idp, idp_keys):
    response = sign_in(client, saml_idp, idp_keys["real"])

    assert response.status_code == 302, response.content.decode()[:500]
    user = signed_in_user(client)
    assert user is not None and user.email == "grace@oak.k12.example"
    assert user.full_name == "Grace Hopper"
    held = set(Membership.objects.filter(user=user).values_list("organization__code", "role"))
    assert held == {("320-310", Role.PRINCIPAL), ("320-310", Role.EARNER)}


def test_an_unknown_organization_gets_a_clear_message_and_nothing_is_created(
    client, saml_idp, idp_keys
):
    response = sign_in(
        client, saml_idp, idp_keys["real"], attributes={**ATTRIBUTES, "school_code": ["777"]}
    )

    assert response.status_code == 403
    page = response.content.decode()
    assert "code 777" in page and "not set up in microcred yet" in page
    assert "State DPI" in page  # whom to ask
    assert not User.objects.filter(email="grace@oak.k12.example").exists()
    assert signed_in_user(client) is None


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"key_pem": None}, id="unsigned"),
        pytest.param({"forged": True}, id="signed-by-another-key"),
        pytest.param({"audience": "https://someone-else.example/sp"}, id="wrong-audience"),
        pytest.param({"expires_in": dt.timedelta(minutes=-10)}, id="expired"),
    ],
)
def test_a_bad_assertion_is_refused_and_creates_nothing(client, saml_idp, idp_keys, change):
    change = dict(change)
    keys = idp_keys["real"]
    if change.pop("forged", False):
        keys = (idp_keys["forger"][0], idp_keys["forger"][1])

    response = sign_in(client, saml_idp, keys, **change)

    assert response.status_code == 401
    assert "could not confirm your sign-in with NCEdCloud" in response.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.filter(email="grace@oak.k12.example").exists()


def test_a_tampered_assertion_is_refused(client, saml_idp, idp_keys):
    request_id = start(client, saml_idp)
    good = base64.b64decode(
        build_response(
            **acs_and_audience(saml_idp),
            in_response_to=request_id,
            attributes=ATTRIBUTES,
            key_pem=idp_keys["real"][0],
            cert_pem=idp_keys["real"][1],
        )
    ).decode()
    # After signing, someone makes the principal a teacher elsewhere.
    tampered = good.replace("320-310", "320")

    response = post_assertion(client, saml_idp, base64.b64encode(tampered.encode()).decode())

    assert response.status_code == 401
    assert signed_in_user(client) is None


def test_an_assertion_answering_no_request_of_ours_is_refused(client, saml_idp, idp_keys):
    start(client, saml_idp)

    response = sign_in(client, saml_idp, idp_keys["real"], in_response_to="_not-our-request")

    assert response.status_code in {401, 403}
    assert signed_in_user(client) is None

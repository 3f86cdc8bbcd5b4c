"""Single sign-on with OpenID Connect, against a real (local) test OpenID provider.

The provider is an HTTP server on 127.0.0.1 in a thread: discovery, a token endpoint that
checks the code, the client secret and the redirect URI and returns an RS256 ID token, its JWKS
and userinfo. allauth's whole flow runs through the Django test client: the sign-in button's
POST, the redirect to the provider (with state and nonce), the callback with a code."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives.asymmetric import rsa
from django.urls import reverse

from microcred.orgs import sso
from microcred.orgs.models import (
    AuditEvent,
    IdentityProvider,
    Membership,
    Organization,
    Role,
    SsoMembershipGrant,
    User,
)

CLIENT_ID = "microcred-test"
CLIENT_SECRET = "s3cret-for-tests"
KID = "test-key-1"


@dataclass
class FakeOP:
    """The test OpenID provider's state, which tests adjust."""

    base: str = ""
    key: Any = None
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    # Sign ID tokens with this key instead (a forged token: the JWKS does not match it).
    forge_with: Any = None

    def issue_code(self, claims: dict[str, Any], *, nonce: str, redirect_uri: str) -> str:
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"claims": claims, "nonce": nonce, "redirect_uri": redirect_uri}
        return code

    def id_token(self, claims: dict[str, Any], nonce: str) -> str:
        now = int(time.time())
        payload = {
            "iss": self.base,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **claims,
        }
        key = self.forge_with or self.key
        return jwt.encode(payload, key, algorithm="RS256", headers={"kid": KID})


def _handler(op: FakeOP) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _json(self, body: Any, status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/.well-known/openid-configuration":
                self._json(
                    {
                        "issuer": op.base,
                        "authorization_endpoint": f"{op.base}/authorize",
                        "token_endpoint": f"{op.base}/token",
                        "userinfo_endpoint": f"{op.base}/userinfo",
                        "jwks_uri": f"{op.base}/jwks",
                        "token_endpoint_auth_methods_supported": ["client_secret_post"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                )
            elif path == "/jwks":
                jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(op.key.public_key()))
                self._json({"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]})
            elif path == "/userinfo":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                claims = op.tokens.get(token)
                if claims is None:
                    self._json({"error": "invalid_token"}, 401)
                else:
                    self._json(claims)
            else:
                self._json({"error": "not_found"}, 404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            op.token_requests.append(form)
            grant = op.codes.pop(form.get("code", ""), None)
            if (
                urlsplit(self.path).path != "/token"
                or grant is None
                or form.get("client_id") != CLIENT_ID
                or form.get("client_secret") != CLIENT_SECRET
                or form.get("redirect_uri") != grant["redirect_uri"]
            ):
                self._json({"error": "invalid_grant"}, 400)
                return
            access = secrets.token_urlsafe(16)
            op.tokens[access] = grant["claims"]
            self._json(
                {
                    "access_token": access,
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": op.id_token(grant["claims"], grant["nonce"]),
                }
            )

    return Handler


@pytest.fixture(scope="module")
def op() -> Iterator[FakeOP]:
    state = FakeOP(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _fresh_op(op: FakeOP) -> None:
    op.codes.clear()
    op.tokens.clear()
    op.token_requests.clear()
    op.forge_with = None


@pytest.fixture
def coded_tree(org_tree: dict[str, Organization]) -> dict[str, Organization]:
    Organization.objects.filter(pk=org_tree["lea1"].pk).update(code="920")
    Organization.objects.filter(pk=org_tree["school1"].pk).update(code="920-301")
    Organization.objects.filter(pk=org_tree["lea2"].pk).update(code="320")
    Organization.objects.filter(pk=org_tree["school2"].pk).update(code="320-310")
    for org in org_tree.values():
        org.refresh_from_db()
    return org_tree


@pytest.fixture
def idp(op: FakeOP, coded_tree: dict[str, Organization], lea_admin: User) -> IdentityProvider:
    """Pine County's IdP: school_code then lea_code; teacher -> earner, coach -> coach."""
    return sso.save_identity_provider(
        lea_admin,
        sso.IdpSettings(
            organization=coded_tree["lea1"],
            kind=IdentityProvider.Kind.OIDC,
            name="Pine Cloud",
            organization_attribute="school_code, lea_code",
            role_attribute="roles",
            role_map={"teacher": Role.EARNER, "coach": Role.COACH},
            email_domains=["pine.k12.example"],
            server_url=op.base,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
        ),
    )


def claims(**extra: Any) -> dict[str, Any]:
    return {
        "sub": "pine-0042",
        "email": "ada@pine.k12.example",
        "email_verified": True,
        "given_name": "Ada",
        "family_name": "Byron",
        "school_code": "920-301",
        "roles": ["Teacher"],
        **extra,
    }


def start(client: Any, idp: IdentityProvider, op: FakeOP) -> dict[str, str]:
    """Press the sign-in button: returns the authorization request's parameters."""
    response = client.post(sso.login_url(idp))
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{op.base}/authorize"
    return {k: v[0] for k, v in parse_qs(url.query).items()}


def finish(client: Any, params: dict[str, str], code: str) -> Any:
    callback = urlsplit(params["redirect_uri"]).path
    return client.get(callback, {"code": code, "state": params["state"]})


def sign_in(client: Any, idp: IdentityProvider, op: FakeOP, **extra: Any) -> Any:
    params = start(client, idp, op)
    code = op.issue_code(
        claims(**extra), nonce=params["nonce"], redirect_uri=params["redirect_uri"]
    )
    return finish(client, params, code)


def signed_in_user(client: Any) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.filter(pk=user_id).first() if user_id else None


def test_the_authorization_request_carries_state_nonce_and_pkce(client, idp, op):
    params = start(client, idp, op)
    assert params["client_id"] == CLIENT_ID
    assert params["response_type"] == "code"
    assert len(params["state"]) >= 12 and len(params["nonce"]) >= 32
    assert params["code_challenge_method"] == "S256"
    assert params["redirect_uri"] == "http://testserver" + reverse(
        "orgs:sso_oidc_callback", kwargs={"provider_id": idp.social_app.provider_id}
    )
    assert "openid" in params["scope"].split()


def test_a_new_teacher_is_signed_in_with_school_and_role_from_the_claims(client, idp, op):
    response = sign_in(client, idp, op)

    assert response.status_code == 302
    assert response["Location"] == reverse("web:dashboard")
    user = signed_in_user(client)
    assert user is not None and user.email == "ada@pine.k12.example"
    assert (user.first_name, user.last_name) == ("Ada", "Byron")
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert (membership.organization.code, membership.role) == ("920-301", Role.EARNER)
    assert SsoMembershipGrant.objects.get(membership=membership).identity_provider == idp
    assert SocialAccount.objects.get(user=user).uid == "pine-0042"
    # The token request sent the secret and the PKCE verifier.
    assert op.token_requests[-1]["client_secret"] == CLIENT_SECRET
    assert op.token_requests[-1]["code_verifier"]
    actions = set(AuditEvent.objects.filter(actor=user).values_list("action", flat=True))
    assert {"membership.added", "sso.signed_in"} <= actions


def test_an_existing_account_in_the_idps_domain_is_connected_and_keeps_local_roles(
    client, idp, op, coded_tree, make_user
):
    existing = make_user(Role.COACH, coded_tree["lea1"], email="ada@pine.k12.example")

    sign_in(client, idp, op, roles=["teacher"])

    assert signed_in_user(client) == existing
    assert SocialAccount.objects.filter(user=existing).count() == 1
    roles = set(
        Membership.objects.filter(user=existing, active=True).values_list("role", flat=True)
    )
    assert roles == {Role.COACH, Role.EARNER}  # the locally given coach role stays


def test_a_later_sign_in_takes_back_only_roles_the_idp_gave(client, idp, op, coded_tree):
    sign_in(client, idp, op)
    user = signed_in_user(client)
    # A local admin also makes them a coach of the district.
    Membership.objects.create(user=user, organization=coded_tree["lea1"], role=Role.COACH)
    client.logout()

    # They moved to the district office: the IdP now names the district, not the school.
    sign_in(client, idp, op, school_code=None, lea_code="920")

    active = set(
        Membership.objects.filter(user=user, active=True).values_list("organization__code", "role")
    )
    assert active == {("920", Role.EARNER), ("920", Role.COACH)}
    school = Membership.objects.get(user=user, organization__code="920-301")
    assert not school.active  # kept for history, inactive
    assert AuditEvent.objects.filter(
        action="membership.removed", target_id=str(school.pk), data__source="sso"
    ).exists()


def test_an_unknown_district_code_is_refused_plainly_and_nothing_is_created(client, idp, op):
    users = User.objects.count()

    response = sign_in(client, idp, op, school_code="999-999")

    assert response.status_code == 403
    page = response.content.decode()
    assert "code 999-999" in page and "not set up in microcred yet" in page
    assert "Nothing was created" in page
    assert User.objects.count() == users
    assert not SocialAccount.objects.exists()
    assert signed_in_user(client) is None


def test_a_code_of_another_district_is_refused(client, idp, op):
    # 320-310 is Oak Middle, in Oak City Schools: not Pine County's to vouch for.
    response = sign_in(client, idp, op, school_code="320-310")

    assert response.status_code == 403
    assert "code 320-310" in response.content.decode()
    assert not Membership.objects.filter(organization__code="320-310").exists()
    assert signed_in_user(client) is None


def test_a_person_with_no_mapped_role_is_refused(client, idp, op):
    response = sign_in(client, idp, op, roles=["janitor"])

    assert response.status_code == 403
    assert "janitor" in response.content.decode()
    assert not User.objects.filter(email="ada@pine.k12.example").exists()


def test_an_address_outside_the_idps_domains_never_takes_over_an_account(
    client, idp, op, make_user
):
    victim = make_user(Role.EARNER, None, email="boss@elsewhere.example")

    response = sign_in(client, idp, op, email="boss@elsewhere.example")

    assert response.status_code == 403
    assert "already exists" in response.content.decode()
    assert signed_in_user(client) is None
    assert not SocialAccount.objects.filter(user=victim).exists()
    assert victim.memberships.count() == 0


def test_an_id_token_signed_with_another_key_is_refused(client, idp, op):
    op.forge_with = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    response = sign_in(client, idp, op)

    assert response.status_code == 401
    assert "could not confirm your sign-in with Pine Cloud" in response.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.filter(email="ada@pine.k12.example").exists()


def test_an_id_token_with_the_wrong_nonce_is_refused(client, idp, op):
    params = start(client, idp, op)
    code = op.issue_code(claims(), nonce="not-the-nonce", redirect_uri=params["redirect_uri"])

    response = finish(client, params, code)

    assert response.status_code == 403
    assert "did not match the sign-in microcred started" in response.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.filter(email="ada@pine.k12.example").exists()


def test_a_callback_without_a_known_state_is_refused(client, idp, op):
    params = start(client, idp, op)
    code = op.issue_code(claims(), nonce=params["nonce"], redirect_uri=params["redirect_uri"])

    response = finish(client, {**params, "state": "forged-state"}, code)

    assert response.status_code == 401
    assert signed_in_user(client) is None


def test_a_switched_off_idp_refuses_the_sign_in(client, idp, op):
    IdentityProvider.objects.filter(pk=idp.pk).update(active=False)

    response = sign_in(client, idp, op)

    assert response.status_code == 403
    assert "switched off" in response.content.decode()
    assert signed_in_user(client) is None


def test_an_idp_set_up_as_second_factor_satisfies_the_mfa_rule(
    client, idp, op, coded_tree, make_user
):
    # A coach is not held by the MFA rule; a district program admin is. Sign one in.
    admin = make_user(Role.PROGRAM_ADMIN, coded_tree["lea1"], email="ada@pine.k12.example")
    IdentityProvider.objects.filter(pk=idp.pk).update(counts_as_second_factor=True)

    sign_in(client, idp, op)

    assert signed_in_user(client) == admin
    response = client.get(reverse("orgs:sso"))
    assert response.status_code == 200  # not sent to set up an authenticator


def test_without_the_second_factor_setting_an_admin_is_held_at_mfa_setup(
    client, idp, op, coded_tree, make_user
):
    make_user(Role.PROGRAM_ADMIN, coded_tree["lea1"], email="ada@pine.k12.example")

    sign_in(client, idp, op)

    response = client.get(reverse("orgs:sso"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index")


def test_local_password_sign_in_still_works_and_the_page_shows_the_button(client, idp, teacher):
    page = client.get(reverse("account_login"))
    assert "Sign in with Pine Cloud" in page.content.decode()
    assert sso.login_url(idp) in page.content.decode()

    response = client.post(
        reverse("account_login"), {"login": teacher.email, "password": "pw-for-tests-1"}
    )

    assert response.status_code == 302
    assert signed_in_user(client) == teacher

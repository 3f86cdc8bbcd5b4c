"""LTI fixtures: a test platform on a real local HTTP server, registered for Pine County
Schools, and helpers that walk the OpenID Connect login and launch as a browser would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from microcred.lti import services
from microcred.lti.models import LtiPlatform
from microcred.orgs.models import Role, User
from microcred.orgs.services import SYSTEM
from tests.credentials.awards import *  # noqa: F403  (award fixtures: make_award, version...)

from .platform import CLIENT_ID, DEPLOYMENT_ID, PlatformServer, SimulatedPlatform, new_key


@pytest.fixture(scope="session")
def platform_key():
    return new_key()


@pytest.fixture
def test_platform(platform_key) -> Iterator[SimulatedPlatform]:
    server = PlatformServer(platform_key)
    cache.clear()  # no key set cached from another test's platform
    yield server.platform
    server.stop()


@pytest.fixture
def registered(test_platform, org_tree) -> LtiPlatform:
    base = test_platform.base
    return services.save_platform(
        SYSTEM,
        org_tree["lea1"],
        services.PlatformFields(
            name="Pine Canvas",
            issuer=base,
            client_id=CLIENT_ID,
            auth_login_url=f"{base}/auth",
            auth_token_url=f"{base}/token",
            key_set_url=f"{base}/jwks",
            deployment_ids=[DEPLOYMENT_ID],
        ),
    )


@pytest.fixture
def pine_admin(make_user, org_tree) -> User:
    return make_user(Role.PROGRAM_ADMIN, org_tree["lea1"], email="pine-admin@example.org")


@pytest.fixture
def oak_admin(make_user, org_tree) -> User:
    return make_user(Role.PROGRAM_ADMIN, org_tree["lea2"], email="oak-admin@example.org")


def start_login(client: Client, platform: SimulatedPlatform, **params: str) -> tuple[str, str]:
    """Platform -> /lti/login/: returns (state, nonce) from the redirect to the platform."""
    data = {"iss": platform.issuer, "login_hint": "hint-1", "client_id": CLIENT_ID, **params}
    response = client.post(reverse("lti:login"), data)
    assert response.status_code == 302, response.content
    target = urlparse(response["Location"])
    assert target.path == "/auth"
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["redirect_uri"].endswith(reverse("lti:launch"))
    assert query["response_mode"] == "form_post" and query["client_id"] == CLIENT_ID
    return query["state"], query["nonce"]


@pytest.fixture
def launch(client, test_platform, registered) -> Callable[..., object]:
    """launch(**claims) -> the response to the id_token posted to /lti/launch/."""

    def go(headers: dict[str, str] | None = None, **claims: object):
        state, nonce = start_login(client, test_platform)
        token = test_platform.id_token(nonce, **claims)  # type: ignore[arg-type]
        return client.post(
            reverse("lti:launch"), {"id_token": token, "state": state}, headers=headers
        )

    return go

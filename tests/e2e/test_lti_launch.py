"""An LMS launches microcred in a browser: the test platform's login initiation, our
redirect to its authentication page, its auto-posted signed id_token, and the teacher lands
signed in on the micro-credential's page."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from microcred.lti import services
from microcred.orgs.models import Role
from microcred.orgs.services import SYSTEM
from tests.lti.platform import CLIENT_ID, DEPLOYMENT_ID, PlatformServer, SimulatedPlatform, new_key


@pytest.fixture
def lms(org_tree) -> Iterator[SimulatedPlatform]:
    server = PlatformServer(new_key())
    cache.clear()
    base = server.platform.base
    services.save_platform(
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
    yield server.platform
    server.stop()


def test_launch_from_the_lms_opens_the_micro_credential(
    page: Page, lms: SimulatedPlatform, version, make_user, org_tree
) -> None:
    make_user(Role.EARNER, org_tree["school1"], email="teacher@example.org", first_name="Tess")
    lms.next_launch = {"custom": {"mc": version.micro_credential.slug}}
    query = urlencode({"iss": lms.issuer, "login_hint": "u1", "client_id": CLIENT_ID})
    page.goto(f"/lti/login/?{query}")
    expect(page.get_by_role("heading", level=1)).to_have_text(version.title)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

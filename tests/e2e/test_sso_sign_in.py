"""The sign-in page with a district's single sign-on service: the IdP's button beside the
password form, both usable (axe runs on the page; the page fits a 360 px phone)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from microcred.orgs import sso
from microcred.orgs.models import IdentityProvider, Organization, Role
from microcred.orgs.services import SYSTEM


def test_the_sign_in_page_offers_the_districts_idp_and_the_password_form(
    page: Page, org_tree: dict[str, Organization]
) -> None:
    sso.save_identity_provider(
        SYSTEM,
        sso.IdpSettings(
            organization=org_tree["lea1"],
            kind=IdentityProvider.Kind.OIDC,
            name="Pine Cloud",
            organization_attribute="school_code",
            default_role=Role.EARNER,
            server_url="https://idp.pine.example",
            client_id="microcred",
            client_secret="secret-for-tests",
        ),
    )

    page.set_viewport_size({"width": 360, "height": 800})
    page.goto("/accounts/login/")

    expect(page.get_by_role("button", name="Sign in with Pine Cloud")).to_be_visible()
    expect(page.get_by_label("Email")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    page.axe.run()  # type: ignore[attr-defined]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360

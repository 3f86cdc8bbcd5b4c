"""Two-step sign-in (orgs/mfa.py with allauth's MFA): who must use it, how a person who must is
held until they set it up, the code at every sign-in, and the pages, in the site's layout.

These tests sign in through allauth's pages, as people do: `client.force_login` stands for a
finished sign-in (tests/conftest.py) and would skip what is tested here."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect

from microcred.orgs import demo, mfa
from microcred.orgs.models import ApiToken, AuditEvent, Membership, Role, User
from tests.e2e.helpers import (
    Account,
    expect_no_horizontal_scroll,
    sign_in_as,
    sign_out,
    totp_code,
)

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-1"
LOGIN = "/accounts/login/"
SETUP = "/accounts/2fa/"
AUTHENTICATE = "/accounts/2fa/authenticate/"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
HELD_ROLES = [
    Role.PROGRAM_ADMIN,
    Role.ISSUER_ADMIN,
    Role.RECOGNIZER_ADMIN,
    Role.SCORING_LEAD,
    Role.ASSESSOR,
]
FREE_ROLES = sorted(set(Role.values) - set(HELD_ROLES))


def org_for(org_tree, role: str):
    from microcred.orgs.models import ROLE_ORG_KINDS

    return next(org for org in org_tree.values() if org.kind in ROLE_ORG_KINDS[role])


def password_step(client: Client, email: str, password: str = PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


def browser_password_step(page: Page, email: str) -> None:
    """The first step of signing in through the page, leaving the browser at the second."""
    page.goto(LOGIN)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def assessor(org_tree, make_user) -> User:
    return make_user(Role.ASSESSOR, org_tree["assess"], email="assessor@example.org")


@pytest.fixture
def assessor_with_app(assessor) -> User:
    TOTP.activate(assessor, SECRET)
    return assessor


# ---------------------------------------------------------------------------- who
@pytest.mark.parametrize("role", HELD_ROLES)
def test_admins_issuers_scoring_leads_and_assessors_need_a_second_factor(role, org_tree, make_user):
    user = make_user(role, org_for(org_tree, role))
    assert mfa.requires_mfa(user)
    Membership.objects.filter(user=user).update(active=False)
    # As at the next request: the roles are read once per request (cached on request.user).
    user = User.objects.get(pk=user.pk)
    assert not mfa.requires_mfa(user), "a role no longer held asks nothing"


@pytest.mark.parametrize("role", FREE_ROLES)
def test_other_roles_may_opt_in_but_are_not_held(role, org_tree, make_user):
    assert not mfa.requires_mfa(make_user(role, org_for(org_tree, role)))


@pytest.mark.parametrize("flag", ["is_staff", "is_superuser"])
def test_staff_and_superusers_need_a_second_factor(flag, make_user):
    assert mfa.requires_mfa(make_user(**{flag: True}))


def test_the_rule_can_be_switched_off_where_single_sign_on_enforces_it(assessor, settings):
    settings.MICROCRED_MFA_REQUIRED = False
    assert not mfa.requires_mfa(assessor)


# ---------------------------------------------------------------------------- held until set up
def test_an_assessor_without_a_second_factor_is_held_at_the_setup_page(client, assessor):
    signed_in = password_step(client, assessor.email)
    assert signed_in.status_code == 302
    for path in ["/me/", "/assess/", "/manage/tokens/", "/admin/"]:
        held = client.get(path)
        assert (held.status_code, held["Location"]) == (302, SETUP), path
    # Nothing can be done meanwhile, a POST included.
    refused = client.post("/manage/tokens/", {"name": "sneaky"})
    assert refused.status_code == 302 and refused["Location"] == SETUP
    assert not ApiToken.objects.exists()
    api = client.get("/api/v1/assessment/assignments")
    assert api.status_code == 403 and "two-factor" in api.json()["detail"]
    assert api.json()["code"] == "mfa_required"
    # A made-up bearer token beside the session earns nothing.
    forged = client.get("/api/v1/assessment/assignments", HTTP_AUTHORIZATION="Bearer made-up")
    assert forged.status_code in (401, 403)
    assert client.get("/assess/", HTTP_AUTHORIZATION="Bearer made-up")["Location"] == SETUP

    page = client.get(SETUP)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Set up a second step to continue" in text and mfa.SETUP_MESSAGE in text
    assert 'aria-label="Main"' in text, "the MFA pages use the site's layout"

    # Signing out still works.
    out = client.post(reverse("account_logout"))
    assert out.status_code == 302
    assert "_auth_user_id" not in client.session


def test_setting_up_an_app_releases_the_hold_without_asking_the_password_again(
    transactional_db, client, assessor
):
    """Real commits here: allauth announces a new authenticator when its transaction commits,
    inside the request as in production, and that is when the session counts as confirmed."""
    password_step(client, assessor.email)
    form = client.get(reverse("mfa_activate_totp"))
    assert form.status_code == 200, "a fresh sign-in counts as recent: no second password"
    html = form.content.decode()
    assert '<label for="authenticator_secret">' in html
    assert '<label for="id_code">6-digit code from the app</label>' in html
    secret = client.session["mfa.totp.secret"]

    wrong = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert wrong.status_code == 200 and "Incorrect code" in wrong.content.decode()
    assert not Authenticator.objects.filter(user=assessor).exists()

    done = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert done.status_code == 302 and done["Location"] == reverse("mfa_view_recovery_codes")
    assert Authenticator.objects.filter(user=assessor, type=Authenticator.Type.TOTP).exists()
    codes = client.get(done["Location"])
    assert codes.status_code == 200 and '<label for="recovery_codes">' in codes.content.decode()
    assert client.get("/me/").status_code == 200
    added = AuditEvent.objects.filter(action="mfa.authenticator_added", actor=assessor)
    assert {event.data["type"] for event in added} == {"totp", "recovery_codes"}


def test_a_set_up_second_factor_is_asked_at_every_sign_in(client, assessor_with_app):
    step = password_step(client, assessor_with_app.email)
    assert step.status_code == 302 and step["Location"] == AUTHENTICATE
    assert client.get("/me/").status_code == 302, "not signed in after the password alone"

    page = client.get(AUTHENTICATE)
    assert page.status_code == 200
    assert "Code from your authenticator app, or a recovery code" in page.content.decode()
    wrong = client.post(AUTHENTICATE, {"code": "123456"})
    assert wrong.status_code == 200 and "Incorrect code" in wrong.content.decode()
    assert client.get("/me/").status_code == 302

    right = client.post(AUTHENTICATE, {"code": totp_code(SECRET, "unit-assessor")})
    assert right.status_code == 302
    assert client.get("/me/").status_code == 200
    assert client.get("/assess/").status_code == 200


def test_an_earner_signs_in_with_a_password_and_may_opt_in(client, org_tree, make_user):
    earner = make_user(Role.EARNER, org_tree["school1"])
    password_step(client, earner.email)
    assert client.get("/me/").status_code == 200
    page = client.get(SETUP)
    assert page.status_code == 200
    assert "Set up a second step to continue" not in page.content.decode()
    assert "Set up an authenticator app" in page.content.decode()


def test_a_session_without_the_second_step_is_asked_to_confirm_it(client, assessor):
    """An authenticator added behind the sign-in's back (or a session from before the rule):
    the person confirms with it before going on, then lands where they were going."""
    password_step(client, assessor.email)
    TOTP.activate(assessor, SECRET)
    held = client.get("/assess/")
    assert held.status_code == 302
    assert held["Location"] == f"{reverse('mfa_reauthenticate')}?next=%2Fassess%2F"
    confirmed = client.post(
        held["Location"], {"code": totp_code(SECRET, "unit-confirm"), "next": "/assess/"}
    )
    assert confirmed.status_code == 302 and confirmed["Location"] == "/assess/"
    assert client.get("/me/").status_code == 200


def test_someone_who_must_use_a_second_factor_cannot_switch_off_the_last_one(
    client, assessor_with_app
):
    client.force_login(assessor_with_app)
    refused = client.post(reverse("mfa_deactivate_totp"))
    assert refused.status_code == 200
    assert "needs two-step sign-in" in refused.content.decode()
    assert Authenticator.objects.filter(user=assessor_with_app).exists()


def test_removing_the_last_security_key_holds_the_person_at_once(client, assessor):
    """allauth lets a key go (it has no veto for keys): the session stops counting as
    confirmed, so the assessor is back at the setup page, not free until the next sign-in."""
    key = Authenticator.objects.create(
        user=assessor, type=Authenticator.Type.WEBAUTHN, data={"name": "Old key"}
    )
    client.force_login(assessor)
    assert client.get("/me/").status_code == 200
    removed = client.post(reverse("mfa_remove_webauthn", args=[key.pk]))
    assert removed.status_code == 302
    assert not Authenticator.objects.filter(pk=key.pk).exists()
    held = client.get("/me/")
    assert (held.status_code, held["Location"]) == (302, SETUP)


def test_an_earner_can_switch_their_own_off(client, org_tree, make_user):
    earner = make_user(Role.EARNER, org_tree["school1"])
    TOTP.activate(earner, SECRET)
    client.force_login(earner)
    assert client.post(reverse("mfa_deactivate_totp")).status_code == 302
    assert not Authenticator.objects.filter(user=earner).exists()
    event = AuditEvent.objects.get(action="mfa.authenticator_removed")
    assert (event.actor, event.target_id, event.data) == (earner, str(earner.pk), {"type": "totp"})


def test_new_recovery_codes_are_audited(
    client, assessor_with_app, django_capture_on_commit_callbacks
):
    """allauth announces new codes when its transaction commits."""
    client.force_login(assessor_with_app)
    with django_capture_on_commit_callbacks(execute=True):
        made = client.post(reverse("mfa_generate_recovery_codes"))
    assert made.status_code == 302
    event = AuditEvent.objects.get(action="mfa.authenticator_reset")
    assert (event.actor, event.data) == (assessor_with_app, {"type": "recovery_codes"})


def test_the_security_key_page_is_labelled_and_loads_its_scripts_from_static_files(
    client, assessor
):
    password_step(client, assessor.email)
    page = client.get(reverse("mfa_add_webauthn"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Add a security key" in html and mfa.SETUP_MESSAGE in html
    assert re.search(r'<script src="/static/mfa/js/webauthn\.js"', html)
    assert not re.search(r"<script(?![^>]*(src=|application/json))", html), "no inline script"
    assert " onclick=" not in html


# ---------------------------------------------------------------------------- demo accounts
def test_privileged_demo_accounts_come_with_the_published_authenticator(client):
    demo.load_organizations_and_people()
    demo.load_organizations_and_people()  # again: nothing added twice
    for account in {a.email: a for a in demo.ACCOUNTS}.values():
        user = User.objects.get(email=account.email)
        apps = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP)
        assert apps.count() == (1 if mfa.requires_mfa(user) else 0), account.email
    assessor = next(a for a in demo.ACCOUNTS if a.role == Role.ASSESSOR)
    step = password_step(client, assessor.email, assessor.password)
    assert step["Location"] == AUTHENTICATE
    code = totp_code(demo.DEMO_TOTP_SECRET, "unit-demo")
    assert code == demo.demo_totp_code()
    assert client.post(AUTHENTICATE, {"code": code}).status_code == 302
    assert client.get("/assess/").status_code == 200


# ---------------------------------------------------------------------------- in the browser
def test_an_assessor_sets_up_and_then_uses_an_authenticator_app_in_the_browser(
    page: Page, assessor
):
    """Held at the setup page after the password, sets up an app (the helper reads the secret
    off the page and types the app's code), then signs in again with a code; axe checks each
    page, at phone width too."""
    page.set_viewport_size({"width": 360, "height": 800})
    browser_password_step(page, assessor.email)
    expect(page.get_by_role("heading", name="Set up a second step to continue")).to_be_visible()
    expect_no_horizontal_scroll(page)
    page.get_by_role("link", name="Add a security key").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a security key")
    expect_no_horizontal_scroll(page)
    page.goto("/me/")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/$"))

    page.get_by_role("link", name="Set up an authenticator app").click()
    expect_no_horizontal_scroll(page)
    secret = page.get_by_label("Secret to type into the app").input_value()
    page.get_by_label("6-digit code from the app").fill(totp_code(secret))
    page.get_by_role("button", name="Turn on the authenticator app").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery codes")
    expect_no_horizontal_scroll(page)
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page).to_have_url(re.compile(r"/me/$"))
    page.goto(reverse("mfa_deactivate_totp"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    sign_out(page)
    browser_password_step(page, assessor.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in: second step")
    expect_no_horizontal_scroll(page)
    page.get_by_role("button", name="Cancel and sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    # The shared helper takes the same step (it reads the secret from the database).
    sign_in_as(page, Account(assessor.email, PASSWORD))
    page.goto("/assess/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_a_scoring_lead_uses_a_security_key_in_the_browser(page: Page, org_tree, make_user):
    """WebAuthn with Chromium's virtual authenticator (a security key the browser emulates):
    added from the page the person is held at, then asked for at the next sign-in."""
    lead = make_user(Role.SCORING_LEAD, org_tree["assess"], email="lead@example.org")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    browser_password_step(page, lead.email)
    page.get_by_role("link", name="Add a security key").click()
    page.get_by_label("Name").fill("Blue key")
    page.get_by_role("button", name="Add the key").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery codes")
    key = Authenticator.objects.get(user=lead, type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().name == "Blue key"
    # The other MFA pages, audited by axe on the way (allauth's own markup in the site layout).
    for name in ["mfa_index", "mfa_list_webauthn", "mfa_generate_recovery_codes"]:
        page.goto(reverse(name))
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect_no_horizontal_scroll(page)

    sign_out(page)
    browser_password_step(page, lead.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in: second step")
    page.get_by_role("button", name="Use a security key").click()
    expect(page).to_have_url(re.compile(r"/me/$"))
    page.goto("/assess/")
    expect(page).to_have_url(re.compile(r"/assess/$"))


def test_the_hold_adds_no_query_for_people_who_need_no_second_factor(
    rf, org_tree, make_user, django_assert_num_queries
):
    """Most requests are teachers': the middleware reads the roles the navigation reads anyway
    (cached on request.user), so it costs them no query of its own."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.http import HttpResponse

    from microcred.orgs.selectors import navigation_for

    earner = make_user(Role.EARNER, org_tree["school1"])
    request = rf.get("/me/")
    request.user, request.session = earner, SessionStore()
    navigation_for(earner)
    with django_assert_num_queries(0):
        assert mfa.MfaRequiredMiddleware(lambda r: HttpResponse())._hold(request) is None

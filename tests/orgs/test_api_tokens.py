"""Personal API tokens: the page that makes and revokes them, and Bearer auth on the earning
and assessment API (beside the session), with only a SHA-256 of each token stored."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from microcred.earning.models import Attempt, EvidenceItem
from microcred.orgs import tokens
from microcred.orgs.models import ApiToken, AuditEvent
from tests.earning.portfolio_helpers import signed_in
from tests.earning.portfolio_helpers import world_fixture as world_fixture  # the `world` fixture

pytestmark = pytest.mark.django_db
EARNING = "/api/v1/earning"
PAGE = "/manage/tokens/"


def bearer(secret: str) -> Client:
    """A client with no session and CSRF checks on, as a script calling the API is."""
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {secret}"})


def start(client: Client, world) -> object:
    slug = world.version.micro_credential.slug
    return client.post(
        f"{EARNING}/attempts", {"micro_credential": slug}, content_type="application/json"
    )


# ---------------------------------------------------------------------------- the API
def test_a_token_acts_for_its_user_on_both_routers_without_csrf(world):
    _, secret = tokens.create_token(world.earner, name="my script")
    api = bearer(secret)
    started = start(api, world)
    assert started.status_code == 201
    attempt = Attempt.objects.get()
    assert attempt.earner == world.earner
    text = api.put(
        f"{EARNING}/attempts/{attempt.uuid}/parts/{world.written.pk}/text",
        {"text": "We ask open questions."},
        content_type="application/json",
    )
    assert text.status_code == 200
    assert EvidenceItem.objects.get().text == "We ask open questions."
    assert api.get(f"{EARNING}/attempts/{attempt.uuid}").json()["id"] == str(attempt.uuid)
    assert api.get("/api/v1/assessment/assignments").status_code == 200
    assert ApiToken.objects.get().last_used is not None


@pytest.mark.parametrize("how", ["revoked", "wrong", "inactive user", "no token"])
def test_a_revoked_wrong_or_missing_token_gets_401_and_changes_nothing(world, how):
    token, secret = tokens.create_token(world.earner, name="my script")
    if how == "revoked":
        tokens.revoke_token(token, actor=world.earner)
    elif how == "wrong":
        secret = secret[:-2] + ("aa" if not secret.endswith("aa") else "bb")
    elif how == "inactive user":
        world.earner.is_active = False
        world.earner.save()
    client = Client() if how == "no token" else bearer(secret)
    assert start(client, world).status_code == 401
    assert client.get("/api/v1/assessment/assignments").status_code == 401
    assert not Attempt.objects.exists()


@pytest.mark.parametrize(
    ("header", "reads_as"),
    [
        ("Bearer {secret}", "token"),
        ("bearer   {secret}  ", "token"),  # ninja's own reading kept the spaces: 401
        ("BEARER {secret}", "token"),
        ("Bearer ", "bad token"),
        ("Bearer", "bad token"),
        ("Basic {secret}", "no token"),
    ],
)
def test_every_route_that_takes_a_token_reads_the_header_alike(world, header, reads_as):
    """The JSON API, the upload protocol and evidence links share one reading of the
    Authorization header (tokens.bearer_secret), so a client is never let in by one and
    turned away by another."""
    from django.test import RequestFactory

    _, secret = tokens.create_token(world.earner, name="my script")
    value = header.format(secret=secret)
    client = Client(enforce_csrf_checks=True, headers={"Authorization": value})
    api = client.get("/api/v1/assessment/assignments").status_code
    upload = client.get("/uploads/api/00000000-0000-0000-0000-000000000000/")
    read = tokens.bearer_secret(RequestFactory().get("/", headers={"Authorization": value}))
    if reads_as == "token":
        assert read == secret and api == 200 and upload.status_code == 404
    elif reads_as == "bad token":
        assert read == "" and api == 401 and upload.json()["code"] == "bad_token"
    else:
        assert read is None and api == 401 and upload.json()["code"] == "signed_out"


def test_a_token_cannot_reach_another_users_attempt(world):
    theirs = start(signed_in(world.colleague), world)
    assert theirs.status_code == 201
    attempt_id = theirs.json()["id"]
    _, secret = tokens.create_token(world.earner, name="my script")
    api = bearer(secret)
    assert api.get(f"{EARNING}/attempts/{attempt_id}").status_code == 404
    saved = api.put(
        f"{EARNING}/attempts/{attempt_id}/parts/{world.written.pk}/text",
        {"text": "Not mine to write."},
        content_type="application/json",
    )
    assert saved.status_code == 404
    assert not EvidenceItem.objects.filter(text="Not mine to write.").exists()


def test_the_session_still_works_and_keeps_its_csrf_check(world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.earner)
    assert start(browser, world).status_code == 403  # a cookie alone never writes
    assert start(signed_in(world.earner), world).status_code == 201


# ---------------------------------------------------------------------------- storage
def test_only_a_sha256_of_the_token_is_stored(world):
    token, secret = tokens.create_token(world.earner, name="my script")
    assert secret.startswith(tokens.PREFIX) and len(secret) > 40
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert row["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert not any(secret in str(value) for value in row.values())
    assert AuditEvent.objects.filter(action="api_token.created").count() == 1
    _, other = tokens.create_token(world.earner, name="another")
    assert other != secret


def test_a_blank_name_or_too_many_tokens_are_refused(world):
    with pytest.raises(tokens.ValidationError, match="Give the token a name"):
        tokens.create_token(world.earner, name="   ")
    for n in range(tokens.MAX_ACTIVE):
        tokens.create_token(world.earner, name=f"token {n}")
    with pytest.raises(tokens.ValidationError, match="revoke one"):
        tokens.create_token(world.earner, name="one more")
    assert ApiToken.objects.count() == tokens.MAX_ACTIVE


# ---------------------------------------------------------------------------- the page
def test_the_page_needs_a_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_making_a_token_shows_it_once(world):
    page = signed_in(world.earner)
    made = page.post(PAGE, {"name": "grading script"})
    assert made.status_code == 200
    secret = made.context["secret"]
    assert secret in made.content.decode()
    assert "Copy your new token “grading script” now" in made.content.decode()
    assert tokens.user_for_secret(secret) == world.earner
    again = page.get(PAGE).content.decode()
    assert "grading script" in again
    assert secret not in again


def test_a_blank_name_gets_a_message_naming_the_field(world):
    response = signed_in(world.earner).post(PAGE, {"name": ""})
    assert response.status_code == 400
    assert "Token name: This field is required." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_owner_revokes_a_token_and_it_stops_working(world):
    token, secret = tokens.create_token(world.earner, name="old laptop")
    response = signed_in(world.earner).post(f"{PAGE}{token.pk}/revoke/", follow=True)
    assert "Revoked “old laptop”: it no longer works." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert tokens.user_for_secret(secret) is None
    assert start(bearer(secret), world).status_code == 401


def test_someone_else_cannot_revoke_a_token(world):
    token, secret = tokens.create_token(world.earner, name="my script")
    response = signed_in(world.colleague).post(f"{PAGE}{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert tokens.user_for_secret(secret) == world.earner
    with pytest.raises(tokens.PermissionDenied):
        tokens.revoke_token(token, actor=world.colleague)


# ---------------------------------------------------------------------------- recent sign-in
def _age_session(client: Client, minutes: int) -> None:
    """The session's sign-in happened `minutes` ago (allauth keeps when each step was taken)."""
    session = client.session
    records = session["account_authentication_methods"]
    for record in records:
        record["at"] -= minutes * 60
    session["account_authentication_methods"] = records
    session.save()


def test_a_stale_session_must_confirm_the_password_before_a_token_is_made(world):
    page = signed_in(world.earner)
    _age_session(page, 30)
    assert page.get(PAGE).status_code == 200, "looking at the page needs no confirmation"

    refused = page.post(PAGE, {"name": "left open"})
    assert refused.status_code == 302
    assert refused["Location"].startswith("/accounts/reauthenticate/?next=")
    assert not ApiToken.objects.exists()

    asked = page.get(refused["Location"]).content.decode()
    assert "Confirm it is you" in asked and '<label for="id_password">' in asked
    wrong = page.post(refused["Location"], {"password": "not my password"})
    assert wrong.status_code == 200 and not ApiToken.objects.exists()

    # Confirming resumes the request that was held: the token is made and shown once.
    confirmed = page.post(
        refused["Location"], {"password": "pw-for-tests-1", "next": PAGE}, follow=True
    )
    assert ApiToken.objects.get().name == "left open"
    assert "Copy your new token “left open” now" in confirmed.content.decode()


def test_a_fresh_sign_in_makes_a_token_at_once(world):
    page = signed_in(world.earner)
    _age_session(page, 2)  # within ACCOUNT_REAUTHENTICATION_TIMEOUT (5 minutes)
    made = page.post(PAGE, {"name": "grading script"})
    assert made.status_code == 200
    assert ApiToken.objects.get().user == world.earner


def test_a_real_sign_in_counts_as_recent(client, world):
    """Signed in through allauth's page (no test shortcut), a token can be made right away."""
    signed = client.post(
        "/accounts/login/", {"login": world.earner.email, "password": "pw-for-tests-1"}
    )
    assert signed.status_code == 302
    assert client.post(PAGE, {"name": "from a real sign-in"}).status_code == 200
    assert ApiToken.objects.count() == 1

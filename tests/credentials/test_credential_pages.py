"""The credential's public page, its JSON, the earner's visibility switch and "My credentials"."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from microcred.credentials import selectors, services
from microcred.credentials.models import IssuedCredential
from microcred.orgs.models import AuditEvent, Role
from tests.assessment.conftest import PASSWORD
from tests.credentials.awards import *  # noqa: F403

pytestmark = pytest.mark.django_db


def _page(credential: IssuedCredential) -> str:
    return reverse("credentials:credential", args=[credential.uuid])


def _json_url(credential: IssuedCredential) -> str:
    return reverse("credentials:credential_json", args=[credential.uuid])


def _visibility(credential: IssuedCredential) -> str:
    return reverse("credentials:credential_visibility", args=[credential.uuid])


@pytest.fixture
def other_earner(make_user, org_tree):
    return make_user(Role.EARNER, org_tree["school2"])


@pytest.fixture
def private(credential):
    return services.set_public(credential.award.earner, credential, False)


def _as(client, user) -> None:
    if user is not None:
        client.login(email=user.email, password=PASSWORD)


def test_a_public_credential_page_shows_what_who_when_and_status(client, credential):
    response = client.get(_page(credential))
    assert response.status_code == 200
    text = response.content.decode()
    for expected in [
        "Collaborative Leadership Coaching",
        "Inez Earner",
        "State MC Issuer",
        "Yes: 18 points",
        "Status: Valid.",
        "Verify this credential",
        _json_url(credential),
    ]:
        assert expected in text, expected
    assert "Make it private" not in text and "Revoke this credential" not in text


def test_the_verify_button_shows_each_check(client, credential):
    text = client.get(_page(credential), {"verify": "1"}).content.decode()
    assert "Verified: the signature is genuine and every check passed." in text
    for label in ["Signature", "Issuer&#x27;s key", "Open Badges format", "Revocation"]:
        assert label in text, label


def test_the_json_is_the_signed_credential(client, credential):
    response = client.get(_json_url(credential))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc"
    assert json.loads(response.content) == credential.document


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 404),
        ("other_earner", 404),
        ("other_issuer_admin", 404),
        ("earner", 200),
        ("issuer_admin", 200),
    ],
)
def test_a_private_credential_is_hidden_from_everyone_but_its_earner_and_issuer(
    client, private, who, status, request
):
    if who == "earner":
        _as(client, private.award.earner)
    elif who != "anonymous":
        _as(client, request.getfixturevalue(who))
    assert client.get(_page(private)).status_code == status
    assert client.get(_json_url(private)).status_code == status


def test_the_earner_switches_visibility_and_it_is_audited(client, credential):
    earner = credential.award.earner
    _as(client, earner)
    page = client.get(_page(credential)).content.decode()
    assert "Make it private" in page
    response = client.post(_visibility(credential), {"public": "0"}, follow=True)
    assert "Only you can see this credential now" in response.content.decode()
    credential.refresh_from_db()
    assert credential.public is False
    assert AuditEvent.objects.filter(action="credential.made_private", actor=earner).count() == 1
    client.post(_visibility(credential), {"public": "1"})
    credential.refresh_from_db()
    assert credential.public is True
    assert AuditEvent.objects.filter(action="credential.made_public").count() == 1
    # Asking for what is already so writes nothing.
    client.post(_visibility(credential), {"public": "1"})
    assert AuditEvent.objects.filter(action__startswith="credential.made_").count() == 2


@pytest.mark.parametrize("who", ["other_earner", "issuer_admin"])
def test_only_the_earner_switches_visibility(client, credential, who, request):
    _as(client, request.getfixturevalue(who))
    assert client.post(_visibility(credential), {"public": "0"}).status_code == 403
    credential.refresh_from_db()
    assert credential.public is True


def test_anonymous_visitors_cannot_switch_visibility(client, credential):
    response = client.post(_visibility(credential), {"public": "0"})
    assert response.status_code == 302 and "login" in response["Location"]
    credential.refresh_from_db()
    assert credential.public is True


def test_switching_visibility_needs_a_post(client, credential):
    _as(client, credential.award.earner)
    assert client.get(_visibility(credential)).status_code == 405


def test_my_credentials_lists_only_my_own(client, make_award, make_earner, other_earner):
    mine = services.issue_for_award(make_award())
    theirs = services.issue_for_award(make_award(make_earner(email="other@example.org")))
    _as(client, mine.award.earner)
    text = client.get(reverse("credentials:mine")).content.decode()
    assert _page(mine) in text and _page(theirs) not in text
    assert "Yes (18 points)" in text
    _as(client, other_earner)
    empty = client.get(reverse("credentials:mine")).content.decode()
    assert "You have no credentials yet" in empty and "Find a micro-credential" in empty


def test_my_credentials_needs_a_login(client):
    response = client.get(reverse("credentials:mine"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_dashboard_points_earners_to_their_credentials(client, credential, other_earner):
    _as(client, credential.award.earner)
    assert reverse("credentials:mine") in client.get(reverse("web:dashboard")).content.decode()
    _as(client, other_earner)
    assert reverse("credentials:mine") not in client.get(reverse("web:dashboard")).content.decode()


def test_an_unknown_credential_is_not_found(client, db):
    address = reverse("credentials:credential", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(address).status_code == 404


def test_a_credential_past_its_valid_until_date_is_shown_expired(credential):
    assert selectors.credential_state(credential).state == "valid"
    credential.document = {**credential.document, "validUntil": "2020-01-01T00:00:00Z"}
    state = selectors.credential_state(credential)
    assert (state.state, state.detail) == ("expired", "It was valid until January 1, 2020.")

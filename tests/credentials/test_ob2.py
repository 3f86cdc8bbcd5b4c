"""Open Badges 2.0 hosted exports: stable, public documents that 1EdTech's validator accepts,
with the recipient's hashed email, revocation in OB 2.0 terms, and nothing for private ones."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse

from microcred.credentials import ob2, services
from tests.credentials.awards import *  # noqa: F403

from .ob2_validator import validate


def _get(client, name: str, *args):
    return client.get(reverse(f"ob2:{name}", args=args))


@pytest.mark.django_db
def test_the_assertion_links_its_badge_class_and_issuer(client, credential):
    response = _get(client, "assertion", credential.uuid)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json"
    assert response["Access-Control-Allow-Origin"] == "*"
    assertion = response.json()
    assert assertion["type"] == "Assertion" and assertion["verification"] == {"type": "hosted"}
    assert assertion["id"] == ob2.assertion_url(credential)
    assert assertion["issuedOn"] == credential.document["validFrom"]
    badge = client.get(assertion["badge"].removeprefix("http://127.0.0.1:8000")).json()
    assert badge["name"] == credential.document["name"]
    assert badge["criteria"]["narrative"]
    issuer = client.get(badge["issuer"].removeprefix("http://127.0.0.1:8000")).json()
    assert issuer["type"] == "Issuer" and issuer["name"] == credential.issuer.name
    assert issuer["revocationList"] == ob2.revocations_url(credential.issuer)


@pytest.mark.django_db
def test_the_recipient_is_the_earners_email_salted_and_hashed(client, credential):
    recipient = _get(client, "assertion", credential.uuid).json()["recipient"]
    assert recipient["hashed"] is True and recipient["type"] == "email"
    email = credential.earner.email
    digest = hashlib.sha256((email + recipient["salt"]).encode()).hexdigest()
    assert recipient["identity"] == f"sha256${digest}"
    assert email not in str(recipient)
    # Stable: the same document every time it is fetched.
    assert _get(client, "assertion", credential.uuid).json()["recipient"] == recipient


@pytest.mark.django_db
def test_a_private_credential_has_no_hosted_assertion(client, credential):
    services.set_public(credential.earner, credential, False)
    assert _get(client, "assertion", credential.uuid).status_code == 404
    assert _get(client, "badge", credential.uuid).status_code == 404
    client.force_login(credential.earner)  # hosted means public: not even for the earner
    assert _get(client, "assertion", credential.uuid).status_code == 404


@pytest.mark.django_db
def test_a_revoked_assertion_is_gone_and_listed(client, credential, issuer_admin):
    services.revoke(issuer_admin, credential, "Issued in error.")
    response = _get(client, "assertion", credential.uuid)
    assert response.status_code == 410
    assert response.json()["revoked"] is True
    assert response.json()["revocationReason"] == "Issued in error."
    listed = _get(client, "revocations", credential.issuer.slug).json()
    assert listed["revokedAssertions"] == [
        {"id": ob2.assertion_url(credential), "revocationReason": "Issued in error."}
    ]


@pytest.mark.django_db
def test_unknown_addresses_answer_404(client, db):
    assert _get(client, "issuer", "no-such-issuer").status_code == 404
    assert client.get("/ob2/assertions/not-a-uuid").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_1edtech_validator_accepts_our_hosted_assertions(
    live_server, settings, seeded_db, make_award
):
    settings.SITE_URL = live_server.url  # the documents name the server the validator reads
    credential = services.issue_for_award(make_award())
    url = ob2.assertion_url(credential)
    report = validate(url, credential.earner.email)
    assert report["valid"] is True, report["messages"]
    assert report["errorCount"] == 0 and report["warningCount"] == 0
    # The validator checks the hashed recipient: another address does not match.
    other = validate(url, "someone-else@example.org")
    assert other["valid"] is False
    assert any(m["name"] == "VERIFY_RECIPIENT_IDENTIFIER" for m in other["messages"])

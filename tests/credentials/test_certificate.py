"""The printable certificate (with its QR code to the credential's page) and the "add to
LinkedIn" link: shown to whoever may see the credential, LinkedIn only when it can be followed."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from microcred.credentials import issuing, services
from tests.credentials.awards import *  # noqa: F403

pytestmark = pytest.mark.django_db


def _certificate(credential) -> str:
    return reverse("credentials:credential_certificate", args=[credential.uuid])


def _page(credential) -> str:
    return reverse("credentials:credential", args=[credential.uuid])


def test_the_certificate_names_who_earned_what_from_whom_with_a_qr_code(client, credential):
    response = client.get(_certificate(credential))
    text = response.content.decode()
    assert response.status_code == 200
    assert credential.document["name"] in text
    assert credential.issuer.name in text
    assert credential.earner.full_name == "Inez Earner" and "Inez Earner" in text
    assert credential.earner.email not in text  # a public page names, never emails
    assert "Yes: 18 of 20 points" in text
    assert "<svg" in text and 'role="img" aria-label="QR code leading to' in text
    assert issuing.credential_url(credential.uuid) in text  # the address, printed as text too


def test_a_private_credential_has_no_certificate_for_others(client, credential, make_earner):
    services.set_public(credential.earner, credential, False)
    assert client.get(_certificate(credential)).status_code == 404
    client.force_login(make_earner(email="someone@example.org"))
    assert client.get(_certificate(credential)).status_code == 404
    client.force_login(credential.earner)
    assert client.get(_certificate(credential)).status_code == 200


def test_the_certificate_of_a_revoked_credential_says_so(client, credential, issuer_admin):
    services.revoke(issuer_admin, credential, "Issued in error.")
    text = client.get(_certificate(credential)).content.decode()
    assert "Revoked" in text


def test_linkedin_gets_the_credential_page_when_it_is_public_and_valid(client, credential):
    client.force_login(credential.earner)
    text = client.get(_page(credential)).content.decode()
    start = text.index("https://www.linkedin.com/profile/add?")
    link = text[start : text.index('"', start)].replace("&amp;", "&")
    query = parse_qs(urlsplit(link).query)
    assert query["startTask"] == ["CERTIFICATION_NAME"]
    assert query["name"] == [credential.document["name"]]
    assert query["organizationName"] == [credential.issuer.name]
    assert query["certUrl"] == [issuing.credential_url(credential.uuid)]
    assert query["issueYear"] == [str(credential.issued_at.year)]


def test_no_linkedin_link_for_a_private_or_revoked_credential(client, credential, issuer_admin):
    client.force_login(credential.earner)
    services.set_public(credential.earner, credential, False)
    text = client.get(_page(credential)).content.decode()
    assert "linkedin.com" not in text
    assert "first make this page public" in text
    services.set_public(credential.earner, credential, True)
    services.revoke(issuer_admin, credential, "Issued in error.")
    assert "linkedin.com" not in client.get(_page(credential)).content.decode()

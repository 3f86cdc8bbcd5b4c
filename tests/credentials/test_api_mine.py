"""GET /api/v1/credentials/mine: the caller's own credentials, for scripts and integrations."""

from __future__ import annotations

import json

from django.test import Client

from microcred.credentials import services
from microcred.orgs.tokens import create_token
from tests.credentials.awards import *  # noqa: F403

URL = "/api/v1/credentials/mine"


def test_an_earner_with_a_token_lists_their_credentials_with_state_and_links(
    credential, issuer_admin
):
    earner = credential.earner
    _token, secret = create_token(earner, name="Wallet sync")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    [row] = api.get(URL).json()
    assert row["id"] == str(credential.uuid)
    assert row["kind"] == "Micro-credential" and row["state"] == "valid"
    assert row["credential_url"].endswith(f"/credentials/{credential.uuid}.json")
    document = json.loads(api.get(row["credential_url"]).content)
    assert document["id"] == credential.document["id"]

    services.revoke(issuer_admin, credential, "Evidence was not the earner's own.")
    assert [r["state"] for r in api.get(URL).json()] == ["revoked"]


def test_another_person_sees_none_of_them_and_a_stranger_is_refused(credential, issuer_admin):
    client = Client()
    client.force_login(issuer_admin)
    assert client.get(URL).json() == []
    assert Client().get(URL).status_code == 401

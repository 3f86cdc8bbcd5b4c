"""The educator's whole record as a signed CLR 2.0: every credential that counts, exactly as
signed, with their achievements and stack links; verifiable here and by Digital Bazaar's."""

from __future__ import annotations

import copy
import json

import pytest
from django.urls import reverse

from microcred.credentials import clr, interop, selectors, services
from microcred.credentials.verification import Status
from microcred.orgs.services import SYSTEM
from tests.credentials.awards import *  # noqa: F403
from tests.credentials.test_stack_credentials import (  # fixtures, re-used as they are
    earn,
    inez,
    people,
    stack,
    versions,
)

__all__ = ["earn", "inez", "people", "stack", "versions"]
pytestmark = pytest.mark.django_db
RECORD = reverse("credentials:my_record")


def _failed(report) -> list:
    return [check for check in report.checks if check.status is Status.FAILED]


@pytest.fixture
def record_of_inez(earn, inez, versions, stack):
    """Inez holds three micro-credentials and the stack they complete."""
    parts = [earn(inez, version) for version in versions[:3]]
    (stack_credential,) = services.issue_completed_stacks(inez)
    return parts, stack_credential, services.whole_record(inez)


def test_the_record_holds_every_credential_as_signed(record_of_inez):
    parts, stack_credential, record = record_of_inez
    assert record["type"] == ["VerifiableCredential", "ClrCredential"]
    assert record["@context"][:2] == [
        "https://www.w3.org/ns/credentials/v2",
        clr.CLR_CONTEXT,
    ]
    subject = record["credentialSubject"]
    assert subject["type"] == ["ClrSubject"]
    assert subject["identifier"][0]["hashed"] is True
    embedded = subject["verifiableCredential"]
    assert embedded == [c.document for c in [*parts, stack_credential]]
    names = [achievement["name"] for achievement in subject["achievement"]]
    assert names == [c.document["name"] for c in [*parts, stack_credential]]


def test_the_stack_is_linked_to_its_micro_credentials(record_of_inez):
    parts, stack_credential, record = record_of_inez
    stack_id = stack_credential.document["credentialSubject"]["achievement"]["id"]
    links = record["credentialSubject"]["association"]
    assert {link["associationType"] for link in links} == {"isParentOf"}
    assert {link["sourceId"] for link in links} == {stack_id}
    assert [link["targetId"] for link in links] == [
        p.document["credentialSubject"]["achievement"]["id"] for p in parts
    ]


def test_the_record_verifies_and_a_tampered_copy_does_not(record_of_inez):
    *_, record = record_of_inez
    report = selectors.verify(record)
    assert report.verified, _failed(report)
    tampered = copy.deepcopy(record)
    tampered["credentialSubject"]["verifiableCredential"].pop()
    assert not selectors.verify(tampered).verified


def test_revoked_credentials_are_left_out(earn, inez, versions, issuer_admin):
    kept = earn(inez, versions[0])
    revoked = earn(inez, versions[1])
    services.revoke(issuer_admin, revoked, "Issued in error.")
    record = services.whole_record(inez)
    assert record["credentialSubject"]["verifiableCredential"] == [kept.document]


def test_the_earner_downloads_only_their_own_record(client, credential, make_earner):
    client.force_login(credential.earner)
    response = client.get(RECORD)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    record = json.loads(response.content)
    assert record["credentialSubject"]["verifiableCredential"] == [credential.document]
    mine = client.get(reverse("credentials:mine")).content.decode()
    assert "Download my whole record (CLR 2.0)" in mine

    client.force_login(make_earner(email="nobody@example.org"))
    response = client.get(RECORD, follow=True)
    assert response.redirect_chain[-1][0] == reverse("credentials:mine")
    assert "Your record has no credentials yet" in response.content.decode()


def test_signing_in_comes_first(client, db):
    response = client.get(RECORD)
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.skipif(
    interop.unavailable_reason() is not None, reason=interop.unavailable_reason() or ""
)
def test_digital_bazaar_verifies_the_record(earn, inez, versions, stack, org_tree):
    # The reference resolves keys offline only from did:key, so this issuer uses did:key.
    profile = services.create_issuer_profile(SYSTEM, org_tree["issuer"])
    services.update_issuer_profile(SYSTEM, profile, identifier_method="did:key")
    for version in versions[:3]:
        earn(inez, version)
    services.issue_completed_stacks(inez)
    record = services.whole_record(inez)
    tampered = copy.deepcopy(record)
    tampered["name"] = "Another record"
    run = interop.verify([record, tampered])
    assert [result["verified"] for result in run.results] == [True, False]

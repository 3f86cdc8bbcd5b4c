"""An earner's own DID: strict checks, the page that sets it, and new credentials naming it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from microcred.credentials import did_key_for, generate_key, services
from microcred.credentials.keys import base58_encode
from microcred.credentials.schema import check_schema
from microcred.credentials.selectors import verify
from microcred.credentials.verification import Status, VerificationReport
from microcred.orgs import earner_did
from microcred.orgs.models import AuditEvent, User
from tests.credentials.awards import *  # noqa: F403

pytestmark = pytest.mark.django_db

URL = reverse("orgs:my_did")
DID_KEY = did_key_for(generate_key())


@pytest.fixture
def earner(make_user) -> User:
    return make_user(first_name="Inez")


# ---------------------------------------------------------------------------- checking
@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (DID_KEY, DID_KEY),
        (f"  {DID_KEY}\n", DID_KEY),
        ("did:web:example.org", "did:web:example.org"),
        ("did:web:Example.ORG:people:inez", "did:web:example.org:people:inez"),
        (
            "did:web:school.k12.nc.us%3a8443:staff:j.doe",
            "did:web:school.k12.nc.us%3A8443:staff:j.doe",
        ),
        ("did:web:example.org:u:%7Einez", "did:web:example.org:u:%7Einez"),
        ("", ""),
    ],
)
def test_good_dids_are_accepted_as_stored(given, stored):
    assert earner_did.check_did(given) == stored


# A 32-byte key under the X25519 prefix (0xec 0x01), not Ed25519's.
X25519 = "did:key:z" + base58_encode(b"\xec\x01" + bytes(range(32)))
# The right prefix, one byte short.
SHORT = "did:key:z" + base58_encode(b"\xed\x01" + bytes(31))


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("https://example.org/me", "starts with “did:key:” or “did:web:”"),
        ("did:example:123", "starts with “did:key:” or “did:web:”"),
        ("did:key:", "starts “did:key:z6Mk”"),
        (X25519, "starts “did:key:z6Mk”"),
        (SHORT, "Ed25519"),
        (DID_KEY[:-3], "does not decode to an Ed25519 public key"),
        (DID_KEY[:-1] + "0", "does not decode"),  # 0 is not a base58 character
        (DID_KEY + "#" + DID_KEY.removeprefix("did:key:"), "Enter the DID alone"),
        ("did:web:", "comes a domain name"),
        ("did:web:localhost", "comes a domain name"),
        ("did:web:127.0.0.1", "comes a domain name"),
        ("did:web:-bad.example.org", "comes a domain name"),
        ("did:web:example.org%3A", "comes a domain name"),
        ("did:web:example.org%3A99999", "port in this did:web is too large"),
        ("did:web:example.org%2Fpath", "comes a domain name"),
        ("did:web:example.org::x", "no empty parts"),
        ("did:web:example.org:a b", "Enter the DID alone"),
        ("did:web:example.org/people", "Enter the DID alone"),
        ("did:web:example.org:<script>", "plain name"),
        ("did:web:" + "a" * 500 + ".org", "at most 500 characters"),
    ],
)
def test_bad_dids_are_refused_with_a_reason(given, words):
    with pytest.raises(ValidationError) as refused:
        earner_did.check_did(given)
    assert words in " ".join(refused.value.messages)


def test_setting_is_audited_once_and_only_by_the_earner(earner, make_user):
    assert earner_did.set_did(earner, DID_KEY, actor=earner) is True
    assert earner_did.set_did(earner, DID_KEY, actor=earner) is False  # a second post
    earner.refresh_from_db()
    assert earner.did == DID_KEY
    [event] = AuditEvent.objects.filter(action="orgs.user.did_set")
    assert event.actor == earner and event.data == {"did": DID_KEY, "previous": ""}
    with pytest.raises(ValidationError, match="Only the earner"):
        earner_did.set_did(earner, "did:web:example.org", actor=make_user(is_superuser=True))
    earner.refresh_from_db()
    assert earner.did == DID_KEY
    assert earner_did.set_did(earner, "", actor=earner) is True
    assert AuditEvent.objects.filter(action="orgs.user.did_removed").count() == 1


# ---------------------------------------------------------------------------- the page
def test_the_page_explains_sets_and_removes_the_did(client, earner):
    assert client.get(URL).status_code == 302  # signing in first
    client.force_login(earner)
    page = client.get(URL).content.decode()
    assert "<h1>My DID (decentralized identifier)</h1>" in page
    assert "issued <strong>from now on</strong>" in page
    assert '<label for="id_did">Your DID</label>' in page
    done = client.post(URL, {"did": DID_KEY}, follow=True)
    assert "Credentials issued from now on name this DID." in done.content.decode()
    earner.refresh_from_db()
    assert earner.did == DID_KEY
    removed = client.post(URL, {"remove": "1"}, follow=True)
    assert "Your DID is removed from new credentials." in removed.content.decode()
    earner.refresh_from_db()
    assert earner.did == ""


def test_a_bad_did_is_shown_next_to_the_field_and_changes_nothing(client, earner):
    earner_did.set_did(earner, "did:web:example.org", actor=earner)
    client.force_login(earner)
    answer = client.post(URL, {"did": "did:key:z6MkNotAKey"})
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "There is a problem" in text and 'href="#id_did"' in text
    assert "does not decode to an Ed25519 public key" in text
    empty = client.post(URL, {"did": "  "})
    assert empty.status_code == 400 and "Enter your DID" in empty.content.decode()
    earner.refresh_from_db()
    assert earner.did == "did:web:example.org"
    assert AuditEvent.objects.filter(action__startswith="orgs.user.did").count() == 1


def test_one_earner_cannot_set_another_earners_did(client, earner, make_user):
    other = make_user()
    client.force_login(other)
    client.post(URL, {"did": DID_KEY, "user": earner.pk})
    earner.refresh_from_db()
    other.refresh_from_db()
    assert earner.did == "" and other.did == DID_KEY  # the page only ever acts for its visitor


# ---------------------------------------------------------------------------- credentials
def _schema_passes(document: dict) -> bool:
    report = VerificationReport([])
    check_schema(document, report)
    return [check.status for check in report.checks] == [Status.PASSED]


@pytest.mark.parametrize("did", [DID_KEY, "did:web:example.org%3A8443:people:inez"])
def test_a_new_credential_names_the_earners_did_and_still_verifies(make_award, make_earner, did):
    earner = make_earner()
    earner_did.set_did(earner, did, actor=earner)
    credential = services.issue_for_award(make_award(earner))
    subject = credential.document["credentialSubject"]
    assert subject["id"] == did
    assert subject["identifier"][0]["identityType"] == "emailAddress"  # still there
    assert _schema_passes(credential.document)
    report = verify(credential.document)
    assert report.verified, [c for c in report.checks if c.status is Status.FAILED]


def test_a_credential_issued_before_the_did_keeps_its_signed_subject(make_award, make_earner):
    earner = make_earner()
    before = services.issue_for_award(make_award(earner))
    assert "id" not in before.document["credentialSubject"]
    earner_did.set_did(earner, DID_KEY, actor=earner)
    before.refresh_from_db()
    assert "id" not in before.document["credentialSubject"]
    assert verify(before.document).verified

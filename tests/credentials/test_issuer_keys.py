"""Issuer keys: sealed at rest, rotatable, and old keys keep verifying what they signed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from microcred.credentials import keystore, selectors, services
from microcred.credentials.keys import generate_key, resolve_offline
from microcred.credentials.models import IssuerKey, IssuerProfile
from microcred.credentials.verification import Status
from microcred.orgs.models import AuditEvent, Role

from .helpers import DURING, set_up_issuer, signed_by, statuses


@pytest.fixture
def issuer(org_tree) -> IssuerProfile:
    return set_up_issuer(org_tree["issuer"])


def _open(key: IssuerKey):
    return keystore.unseal(key.encrypted_seed, key.public_key_multibase, key.wrapping_key_id)


def test_a_sealed_seed_opens_to_the_same_key_and_does_not_contain_it():
    key = generate_key()
    sealed, sealed_with = keystore.seal(key)
    assert key.seed not in sealed
    assert keystore.unseal(sealed, key.public_key_multibase, sealed_with) == key
    # Sealing twice gives different ciphertexts (fresh nonce each time).
    assert keystore.seal(key)[0] != sealed


def test_the_database_holds_only_the_encrypted_seed(issuer):
    (row,) = issuer.keys.all()
    stored = bytes(IssuerKey.objects.get(pk=row.pk).encrypted_seed)
    key = _open(row)
    assert key.seed not in stored
    assert key.seed.hex().encode() not in stored
    assert key.public_key_multibase == row.public_key_multibase


def test_a_changed_master_key_is_named_and_signing_stops(issuer, settings):
    settings.MICROCRED_CREDENTIAL_KEY = "a-different-master-key-for-this-test"
    (row,) = issuer.keys.all()
    with pytest.raises(keystore.KeystoreError, match="another MICROCRED_CREDENTIAL_KEY"):
        _open(row)
    with pytest.raises(services.SigningUnavailable, match="key-1"):
        signed_by(issuer)


def test_a_sealed_seed_only_opens_for_its_own_public_key(issuer):
    first = issuer.keys.get()
    other = generate_key()
    with pytest.raises(keystore.KeystoreError, match="does not decrypt"):
        keystore.unseal(first.encrypted_seed, other.public_key_multibase, first.wrapping_key_id)


def test_production_refuses_to_derive_the_master_key_from_secret_key(settings, monkeypatch):
    monkeypatch.delenv(keystore.SETTING, raising=False)
    settings.MICROCRED_CREDENTIAL_KEY = ""
    settings.PRODUCTION = True
    with pytest.raises(ImproperlyConfigured, match="MICROCRED_CREDENTIAL_KEY"):
        keystore.seal(generate_key())


def test_the_master_key_comes_from_the_environment_when_not_in_settings(settings, monkeypatch):
    settings.MICROCRED_CREDENTIAL_KEY = ""
    default_id = keystore.wrapping_key_id()
    monkeypatch.setenv(keystore.SETTING, "from-the-environment")
    assert keystore.wrapping_key_id() != default_id


def test_setting_up_an_issuer_makes_one_active_key_and_audits_it(issuer, org_tree):
    (key,) = issuer.keys.all()
    assert key.active and key.fragment == "key-1"
    event = AuditEvent.objects.get(action="issuer.created")
    assert event.organization == org_tree["issuer"]
    assert event.data["public_key"] == key.public_key_multibase
    with pytest.raises(ValidationError, match="already set up"):
        set_up_issuer(org_tree["issuer"])
    with pytest.raises(ValidationError, match="not an issuer"):
        set_up_issuer(org_tree["provider"])


def test_rotation_retires_the_old_key_and_keeps_it_in_the_did_document(issuer):
    old = issuer.keys.get()
    new = services.rotate_key(issuer, reason="Yearly rotation")
    old.refresh_from_db()
    assert old.retired_at is not None and new.active and new.fragment == "key-2"
    document = selectors.did_document(issuer)
    ids = [method["id"] for method in document["verificationMethod"]]
    assert ids == [f"{document['id']}#key-1", f"{document['id']}#key-2"]
    assert document["assertionMethod"] == ids
    keys = {m["publicKeyMultibase"] for m in document["verificationMethod"]}
    assert keys == {old.public_key_multibase, new.public_key_multibase}
    event = AuditEvent.objects.get(action="issuer.key_rotated")
    assert event.reason == "Yearly rotation"
    assert event.data["retired"] == "key-1" and event.data["new"] == "key-2"


def test_a_credential_signed_with_a_retired_key_still_verifies(issuer):
    before = signed_by(issuer, 1)
    services.rotate_key(issuer, reason="Yearly rotation")
    after = signed_by(issuer, 2)
    assert before["proof"][0]["verificationMethod"].endswith("#key-1")
    assert after["proof"][0]["verificationMethod"].endswith("#key-2")
    for credential in (before, after):
        report = selectors.verify(credential, now=DURING)
        assert report.verified, report.checks
        assert statuses(report, "key") == [Status.PASSED]
    assert "retired" in selectors.verify(before, now=DURING).check("key")[0].message


def test_rotation_needs_a_reason_and_an_issuer_admin(issuer, org_tree, make_user):
    with pytest.raises(ValidationError, match="Say why"):
        services.rotate_key(issuer, reason="  ")
    other_admin = make_user(Role.ISSUER_ADMIN)
    with pytest.raises(PermissionDenied):
        services.rotate_key(issuer, other_admin, reason="Not mine to rotate")
    assert issuer.keys.count() == 1
    admin = make_user(Role.ISSUER_ADMIN, org_tree["issuer"])
    assert services.rotate_key(issuer, admin, reason="Staff change").fragment == "key-2"
    assert AuditEvent.objects.get(action="issuer.key_rotated").actor == admin


def test_the_rotate_command_rotates_and_names_unknown_issuers(issuer):
    call_command("rotate_issuer_key", issuer.slug, reason="Suspected leak")
    assert issuer.keys.filter(retired_at__isnull=True).get().fragment == "key-2"
    event = AuditEvent.objects.get(action="issuer.key_rotated")
    assert event.actor is None and event.reason == "Suspected leak"
    with pytest.raises(CommandError, match=f"Issuers: {issuer.slug}"):
        call_command("rotate_issuer_key", "nobody")


def test_a_did_key_issuer_signs_as_its_key_and_verifies_offline(issuer):
    issuer = services.update_issuer_profile(
        services.SYSTEM, issuer, identifier_method=IssuerProfile.Method.DID_KEY
    )
    key = issuer.keys.get()
    assert selectors.identifier(issuer) == f"did:key:{key.public_key_multibase}"
    credential = signed_by(issuer)
    method = credential["proof"][0]["verificationMethod"]
    assert resolve_offline(method).controller == credential["issuer"]["id"]
    assert selectors.verify(credential, now=DURING).verified
    services.rotate_key(issuer, reason="Yearly rotation")
    # A did:key is the key itself: the identifier moves with the key; old credentials verify.
    assert selectors.identifier(issuer) != credential["issuer"]["id"]
    assert selectors.verify(credential, now=DURING).verified

"""Credentials from elsewhere: verified, matched to the catalog or kept as external, refused
in plain words when a recognizer could not rely on them, and counted by a recognizer's
policies once that recognizer accepts them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from microcred.credentials.issuing import achievement_url
from microcred.credentials.keys import did_key_for, did_key_verification_method
from microcred.credentials.keys import generate_key as new_key
from microcred.credentials.proofs import sign_credential
from microcred.notifications.models import Notification
from microcred.orgs.models import AuditEvent
from microcred.recognition import external
from microcred.recognition.models import ExternalCredential, LedgerEntry

from .conftest import CEU_RULE
from .helpers import foreign

pytestmark = pytest.mark.django_db

NEW = reverse("recognition:external_new")
MINE = reverse("recognition:external_mine")
QUEUE = reverse("recognition:external_queue")


def decide_url(item: ExternalCredential) -> str:
    return reverse("recognition:external_decide", args=[item.pk])


@pytest.fixture
def teacher(make_earner):
    """A Pine Elementary teacher: Pine County Schools and the state recognize for her."""
    return make_earner(first_name="Tess", last_name="Teacher", email="tess@pine.example.org")


def refused(educator, document: dict | str, recognizer) -> external.Refused:
    raw = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(external.Refused) as error:
        external.receive(educator, raw, recognizer)
    assert not ExternalCredential.objects.exists()
    return error.value


# ---------------------------------------------------------------------------- receiving


def test_a_verified_credential_of_another_issuer_is_kept_as_external(teacher, org_tree):
    item = external.receive(teacher, json.dumps(foreign(teacher.email)), org_tree["lea1"])
    assert item.status == ExternalCredential.Status.WAITING
    assert item.matched_version is None
    assert (item.name, item.issuer_name) == ("Restorative Circles", "Coastal University")
    assert item.issuer_id.startswith("did:key:z6Mk")
    assert item.hours == D("12.0")
    assert item.issued_on == (datetime.now(UTC) - timedelta(days=30)).date()
    assert item.recognizer == org_tree["lea1"]
    assert AuditEvent.objects.filter(action="recognition.external.received").count() == 1


def test_an_achievement_naming_our_catalog_page_is_matched_with_its_own_hours(
    teacher, org_tree, version
):
    document = foreign(
        teacher.email, name="Coaching (Coastal)", achievement_id=achievement_url(version)
    )
    item = external.receive(teacher, json.dumps(document), org_tree["state"])
    assert item.matched_version == version
    assert item.hours == D("12.0")  # the achievement says so


def test_an_achievement_with_the_same_name_is_matched_and_takes_the_mcs_hours(
    teacher, org_tree, version
):
    document = foreign(teacher.email, name=version.title.upper(), credits=None)
    item = external.receive(teacher, json.dumps(document).encode("utf-8"), org_tree["state"])
    assert item.matched_version == version
    assert item.hours == version.estimated_hours == D("15.0")


def test_a_subject_named_by_the_educators_did_is_theirs(teacher, org_tree):
    teacher.did = did_key_for(new_key())
    teacher.save(update_fields=["did"])
    document = foreign("someone-else@example.org", subject={"id": teacher.did})
    assert external.receive(teacher, json.dumps(document), org_tree["lea1"]).pk


def test_a_changed_name_after_signing_is_refused_with_the_verifiers_message(teacher, org_tree):
    document = foreign(teacher.email)
    document["name"] = "Restorative Circles (Distinguished)"
    error = refused(teacher, document, org_tree["lea1"])
    assert "did not pass verification" in error.messages[0]
    assert "changed after signing" in error.messages[0]
    assert error.summary is not None and not error.summary.verified


def test_text_that_is_not_json_is_refused(teacher, org_tree):
    error = refused(teacher, "{ this is not json", org_tree["lea1"])
    assert "This is not valid JSON" in error.messages[0]


def test_an_expired_credential_is_refused(teacher, org_tree):
    key = new_key()
    document = foreign(teacher.email, key=key)
    del document["proof"]
    document["validUntil"] = "2025-01-01T00:00:00Z"
    document = sign_credential(
        document, key, did_key_verification_method(key), datetime(2024, 1, 1, tzinfo=UTC)
    )
    assert "expired" in refused(teacher, document, org_tree["lea1"]).messages[0]


def test_someone_elses_credential_is_refused(teacher, org_tree):
    error = refused(teacher, foreign("omar@oak.example.org"), org_tree["lea1"])
    assert "issued to someone else" in error.messages[0]
    assert teacher.email in error.messages[0]


def test_a_credential_naming_nobody_is_refused(teacher, org_tree):
    document = foreign(teacher.email)
    key = new_key()
    del document["proof"]
    del document["credentialSubject"]["identifier"]
    document["issuer"]["id"] = did_key_for(key)
    document = sign_credential(document, key, did_key_verification_method(key), datetime.now(UTC))
    assert "does not say who earned it" in refused(teacher, document, org_tree["lea1"]).messages[0]


def test_the_same_credential_twice_is_refused(teacher, org_tree):
    document = foreign(teacher.email)
    external.receive(teacher, json.dumps(document), org_tree["lea1"])
    # Spaced and ordered differently: still the same credential.
    again = json.dumps(document, indent=4, sort_keys=True)
    with pytest.raises(external.Refused, match="already added this credential"):
        external.receive(teacher, again, org_tree["state"])
    assert ExternalCredential.objects.count() == 1


def test_a_credential_issued_here_is_already_in_the_record(credential, org_tree):
    earner = credential.award.earner
    error = refused(earner, json.dumps(credential.document), org_tree["lea1"])
    assert "this one is already in your record" in error.messages[0]
    assert "State MC Issuer" in error.messages[0]


def test_a_credential_revoked_here_is_refused_as_revoked(credential, org_tree, issuer_admin):
    from microcred.credentials import services as credentials

    credentials.revoke(issuer_admin, credential, "Evidence was not the earner's own.")
    error = refused(credential.award.earner, json.dumps(credential.document), org_tree["lea1"])
    assert "revoked this credential" in error.messages[0]


def test_only_the_educators_own_district_or_state_may_be_chosen(teacher, org_tree):
    assert external.recognizers_for(teacher) == [org_tree["lea1"], org_tree["state"]]
    for elsewhere in (org_tree["lea2"], org_tree["school1"], org_tree["issuer"]):
        error = refused(teacher, foreign(teacher.email), elsewhere)
        assert "recognizer" in error.message_dict


# ---------------------------------------------------------------------------- over HTTP


def test_the_educator_uploads_a_file_and_follows_it(client, teacher, org_tree):
    client.force_login(teacher)
    page = client.get(NEW).content.decode()
    assert "Pine County Schools: your district" in page and "State DPI: the state" in page
    upload = SimpleUploadedFile(
        "badge.json", json.dumps(foreign(teacher.email)).encode(), "application/json"
    )
    response = client.post(NEW, {"file": upload, "recognizer": org_tree["lea1"].pk})
    assert response.status_code == 302 and response["Location"] == MINE
    page = client.get(MINE).content.decode()
    assert "Verified and sent to Pine County Schools" in page
    assert "Restorative Circles" in page and "Waiting for a recognizer" in page


def test_a_refused_upload_shows_why_and_the_report(client, teacher, org_tree):
    client.force_login(teacher)
    document = foreign(teacher.email)
    document["name"] = "Changed"
    response = client.post(
        NEW, {"credential": json.dumps(document), "recognizer": org_tree["lea1"].pk}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "did not pass verification" in page and "What the check found" in page
    assert not ExternalCredential.objects.exists()


def test_an_empty_upload_says_what_to_do(client, teacher, org_tree):
    client.force_login(teacher)
    response = client.post(NEW, {"recognizer": org_tree["lea1"].pk})
    assert "Paste a credential into the box, or choose a credential file" in (
        response.content.decode()
    )


def test_someone_without_a_school_is_told_what_to_do_next(client, make_user):
    client.force_login(make_user())
    page = client.get(NEW).content.decode()
    assert (
        "not yet a member of a school or district" in page
        and '<form method="post" enctype' not in page
    )


# ---------------------------------------------------------------------------- deciding


@pytest.fixture
def waiting(teacher, org_tree) -> ExternalCredential:
    return external.receive(teacher, json.dumps(foreign(teacher.email)), org_tree["state"])


def test_the_state_accepts_it_for_license_renewal_and_its_ceu_policy_posts(
    client, waiting, licensure, org_tree, make_policy, teacher, django_capture_on_commit_callbacks
):
    make_policy(licensure, org_tree["state"], CEU_RULE, name="Renewal")
    client.force_login(licensure)
    page = client.get(QUEUE).content.decode()
    assert "Restorative Circles" in page and teacher.email in page
    assert "1 waiting" in page and ">Verified</span>" in page  # verified again for the queue
    page = client.get(decide_url(waiting)).content.decode()
    assert "Verified: the signature is genuine" in page
    assert "Your policies in force today count: license renewal" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            decide_url(waiting), {"decision": "accept", "uses": ["license_renewal"]}
        )
    assert response.status_code == 302 and response["Location"] == QUEUE
    waiting.refresh_from_db()
    assert waiting.status == ExternalCredential.Status.ACCEPTED
    assert waiting.accepted_uses == ["license_renewal"] and waiting.decided_by == licensure
    [entry] = LedgerEntry.objects.filter(educator=teacher)
    assert (entry.kind, entry.quantity, entry.external, entry.credential) == (
        "ceu",
        D("1.20"),  # 12 hours at 10 hours per CEU
        waiting,
        None,
    )
    note = Notification.objects.get(user=teacher)
    assert "accepted" in note.title and "license renewal" in note.body
    assert AuditEvent.objects.filter(action="recognition.external.accepted").exists()


def test_declining_needs_a_reason_then_tells_the_educator(client, waiting, licensure, teacher):
    client.force_login(licensure)
    response = client.post(decide_url(waiting), {"decision": "decline", "comment": "  "})
    assert "Say why it is declined" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == ExternalCredential.Status.WAITING
    client.post(
        decide_url(waiting),
        {"decision": "decline", "comment": "Not a licensure-area credential."},
    )
    waiting.refresh_from_db()
    assert waiting.status == ExternalCredential.Status.DECLINED
    assert waiting.comment == "Not a licensure-area credential." and waiting.accepted_uses == []
    assert not LedgerEntry.objects.exists()
    assert "declined" in Notification.objects.get(user=teacher).title
    client.force_login(teacher)
    assert "Not a licensure-area credential." in client.get(MINE).content.decode()


def test_accepting_needs_a_use(waiting, licensure):
    with pytest.raises(ValidationError) as error:
        external.decide(licensure, waiting, accept=True, uses=[])
    assert "uses" in error.value.message_dict
    with pytest.raises(ValidationError):
        external.decide(licensure, waiting, accept=True, uses=["a bonus"])
    waiting.refresh_from_db()
    assert waiting.status == ExternalCredential.Status.WAITING


def test_a_decision_is_made_once(client, waiting, licensure, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        external.decide(licensure, waiting, accept=True, uses=["license_renewal"])
    with pytest.raises(ValidationError, match="already accepted"):
        external.decide(licensure, waiting, accept=False, comment="Changed my mind")
    client.force_login(licensure)
    response = client.post(decide_url(waiting), {"decision": "decline", "comment": "No"})
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == ExternalCredential.Status.ACCEPTED
    page = client.get(decide_url(waiting)).content.decode()
    assert "It counts for: License renewal." in page and "Save the decision" not in page


def test_another_office_cannot_see_or_decide_it(client, waiting, hr, make_user, org_tree, teacher):
    oak_hr = make_user("recognizer_admin", org_tree["lea2"])
    for outsider in (hr, oak_hr):  # Pine's HR: it was sent to the state, not to Pine
        client.force_login(outsider)
        assert client.get(decide_url(waiting)).status_code == 404
        response = client.post(decide_url(waiting), {"decision": "accept", "uses": ["stipend"]})
        assert response.status_code == 404
        assert "Restorative Circles" not in client.get(QUEUE).content.decode()
        with pytest.raises(PermissionDenied):
            external.decide(outsider, waiting, accept=True, uses=["stipend"])
    client.force_login(teacher)
    assert client.get(decide_url(waiting)).status_code == 404
    assert client.get(QUEUE).status_code == 403
    waiting.refresh_from_db()
    assert waiting.status == ExternalCredential.Status.WAITING

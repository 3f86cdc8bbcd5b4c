"""The events: an earned decision, its credential, the ledger entries it grants and a
revocation reach the receiver signed and in order, with minimal personal data, and only the
organizations that may see them."""

from __future__ import annotations

import pytest

from microcred.orgs.models import Role
from microcred.webhooks import events
from microcred.webhooks.models import EventType, WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.django_db
UNREACHABLE = "http://127.0.0.1:9/hooks"  # nothing listens: refused at once


@pytest.fixture
def earned(make_award, django_capture_on_commit_callbacks):
    """earned() -> the award of a real scored submission, with everything that follows on
    commit run as in production: decision, credential, ledger."""

    def do(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return make_award(**kwargs)

    return do


def test_a_decision_its_credential_and_ledger_entries_reach_the_district_in_order(
    receiver, lea_endpoint, pine_pay, earned
):
    award = earned()
    credential = award.credential
    assert receiver.accepted_types() == [
        "decision.made",
        "credential.issued",
        "ledger_entry.posted",
        "ledger_entry.posted",
    ]
    assert all(r.signature_ok and r.answered == 200 for r in receiver.requests)
    decision, issued, *entries = receiver.accepted
    assert decision["data"]["decision"]["outcome"] == "earned"
    assert decision["data"]["earners"] == [{"email": award.earner.email}]
    assert issued["data"]["credential"]["id"] == str(credential.uuid)
    assert issued["data"]["credential"]["url"] == (
        f"https://microcred.example.org/credentials/{credential.uuid}"
    )
    assert issued["data"]["earner"] == {"email": award.earner.email}
    assert sorted(e["data"]["entry"]["kind"] for e in entries) == ["salary", "stipend"]
    assert {e["data"]["credential"]["id"] for e in entries} == {str(credential.uuid)}
    assert {e["data"]["policy"]["recognizer"] for e in entries} == {"pine"}


def test_the_decision_payload_does_not_reveal_the_assessor_or_the_scores(
    receiver, lea_endpoint, earned
):
    award = earned()
    [request] = [r for r in receiver.requests if r.json["type"] == "decision.made"]
    body = request.body.decode()
    assessor = award.decision.score.assignment.assessor.user
    for secret in (assessor.email, assessor.last_name, "assessor", "points", "feedback"):
        assert secret.lower() not in body.lower()
    # Nor the earner's name: their email is what a district system matches on.
    assert award.earner.last_name not in body


def test_a_not_yet_decision_is_sent_without_a_credential(receiver, lea_endpoint, earned):
    from microcred.assessment.models import Award

    with pytest.raises(Award.DoesNotExist):
        earned(total=12)  # "Not yet": no award
    assert receiver.accepted_types() == ["decision.made"]
    assert receiver.accepted[0]["data"]["decision"]["outcome"] == "not_yet"


def test_a_revocation_and_its_reversals_reach_the_district(
    receiver, lea_endpoint, pine_pay, earned, revoke
):
    credential = earned().credential
    before = len(receiver.accepted)
    revoke(credential, "Evidence was not the earner's own.")
    later = receiver.accepted[before:]
    assert [e["type"] for e in later] == [
        "credential.revoked",
        "ledger_entry.posted",
        "ledger_entry.posted",
    ]
    revoked = later[0]["data"]
    assert revoked["credential"]["id"] == str(credential.uuid)
    assert revoked["credential"]["revoked_at"]
    assert "not the earner's own" not in receiver.requests[before].body.decode()  # no reason
    reversals = [e["data"]["entry"] for e in later[1:]]
    assert all(r["reverses"] and r["amount"].startswith("-") for r in reversals)


def test_each_organization_hears_only_what_it_may_see(
    make_endpoint, make_user, org_tree, lea_admin, other_lea_admin, pine_pay, earned
):
    state_admin = make_user(Role.PROGRAM_ADMIN, org_tree["state"])
    issuer_admin = make_user(Role.ISSUER_ADMIN, org_tree["issuer"])
    pine = make_endpoint(lea_admin, org_tree["lea1"], url=UNREACHABLE)
    oak = make_endpoint(other_lea_admin, org_tree["lea2"], url=UNREACHABLE)
    state = make_endpoint(state_admin, org_tree["state"], url=UNREACHABLE)
    issuer = make_endpoint(issuer_admin, org_tree["issuer"], url=UNREACHABLE)
    provider = make_endpoint(state_admin, org_tree["provider"], url=UNREACHABLE)
    earned()

    def heard(endpoint):
        return sorted(
            WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event__type", flat=True)
        )

    chain = ["credential.issued", "decision.made"]
    assert heard(pine) == chain + ["ledger_entry.posted"] * 2  # the earner's district pays
    assert heard(state) == chain  # above the district; the district's pay is its own
    assert heard(issuer) == chain  # it signs the credential
    assert heard(oak) == [] and heard(provider) == []


def test_an_endpoint_hears_only_the_events_it_chose(make_endpoint, lea_admin, org_tree, earned):
    endpoint = make_endpoint(
        lea_admin, org_tree["lea1"], events=(EventType.CREDENTIAL_REVOKED,), url=UNREACHABLE
    )
    earned()
    assert not WebhookDelivery.objects.filter(endpoint=endpoint).exists()
    assert not WebhookEvent.objects.exists()  # nobody listened: nothing is stored


def test_a_signal_sent_twice_stores_and_delivers_the_event_once(
    receiver, lea_endpoint, earned, django_capture_on_commit_callbacks
):
    credential = earned().credential
    with django_capture_on_commit_callbacks(execute=True):
        again = events.credential_issued(credential)
    assert WebhookEvent.objects.filter(type="credential.issued").get() == again
    assert WebhookDelivery.objects.filter(event=again).count() == 1
    assert receiver.accepted_types().count("credential.issued") == 1


def test_a_webhook_failure_never_breaks_issuing(monkeypatch, lea_endpoint, earned):
    def broken(*args, **kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(events, "record_event", broken)
    award = earned()
    assert award.credential is not None  # issued all the same; the failure was logged

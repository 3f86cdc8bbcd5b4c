"""Revocation: an issuer admin of the issuing organization revokes with a reason, for good."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from microcred.credentials import selectors, services
from microcred.credentials.models import IssuedCredential, Revocation, StatusList
from microcred.credentials.status_list import bit_is_set
from microcred.credentials.verification import Status
from microcred.orgs.models import AuditEvent
from tests.assessment.conftest import PASSWORD
from tests.credentials.awards import *  # noqa: F403

pytestmark = pytest.mark.django_db


def _bit(credential: IssuedCredential) -> bool:
    bits = StatusList.objects.get(pk=credential.status_list_id).bits
    return bit_is_set(bytes(bits), credential.status_index)


def _revoke_url(credential: IssuedCredential) -> str:
    return reverse("credentials:credential_revoke", args=[credential.uuid])


def test_revoking_sets_the_bit_keeps_the_credential_and_is_audited(credential, issuer_admin):
    assert selectors.verify(credential.document).verified
    revocation = services.revoke(issuer_admin, credential, "  Evidence was not the earner's own. ")
    assert revocation.reason == "Evidence was not the earner's own."
    assert revocation.revoked_by == issuer_admin
    assert _bit(credential)
    assert IssuedCredential.objects.filter(pk=credential.pk).exists()
    event = AuditEvent.objects.get(action="credential.revoked")
    assert event.actor == issuer_admin and event.reason == revocation.reason
    report = selectors.verify(IssuedCredential.objects.get(pk=credential.pk).document)
    assert not report.verified
    [status] = report.check("status")
    assert status.status is Status.FAILED and "revoked" in status.message
    assert selectors.credential_state(selectors.issued_credential(credential.uuid)).state == (
        "revoked"
    )


def test_revoking_twice_says_so_and_changes_nothing(credential, issuer_admin):
    services.revoke(issuer_admin, credential, "First reason")
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match="already revoked"):
        services.revoke(issuer_admin, credential, "Second reason")
    assert Revocation.objects.get().reason == "First reason"
    assert AuditEvent.objects.count() == events


def test_a_reason_is_required(credential, issuer_admin):
    with pytest.raises(ValidationError) as error:
        services.revoke(issuer_admin, credential, "   ")
    assert "reason" in error.value.message_dict
    assert not Revocation.objects.exists() and not _bit(credential)


@pytest.mark.parametrize("who", ["earner", "other_issuer_admin"])
def test_only_the_issuing_organizations_admin_may_revoke(credential, who, request):
    actor = credential.award.earner if who == "earner" else request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        services.revoke(actor, credential, "Not mine to revoke")
    assert not Revocation.objects.exists() and not _bit(credential)


def test_issuing_for_a_revoked_award_returns_the_revoked_credential(credential, issuer_admin):
    services.revoke(issuer_admin, credential, "Withdrawn by the state")
    again = services.issue_for_award(credential.award)
    assert again.pk == credential.pk
    assert IssuedCredential.objects.count() == 1
    assert selectors.credential_state(selectors.issued_credential(again.uuid)).state == "revoked"


# ---------------------------------------------------------------------------- over HTTP


def test_issuer_admin_revokes_through_the_page(client, credential, issuer_admin):
    client.login(email=issuer_admin.email, password=PASSWORD)
    page = client.get(_revoke_url(credential))
    assert page.status_code == 200
    assert b'<label for="id_reason"' in page.content
    blank = client.post(_revoke_url(credential), {"reason": ""})
    assert blank.status_code == 200
    assert "Say why the credential is revoked" in blank.content.decode()
    assert not Revocation.objects.exists()
    done = client.post(_revoke_url(credential), {"reason": "Plagiarised evidence"}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("credentials:credential", args=[credential.uuid])
    text = done.content.decode()
    assert "Status: Revoked." in text and "Plagiarised evidence" in text
    again = client.post(_revoke_url(credential), {"reason": "Twice"}, follow=True)
    assert "already revoked" in again.content.decode()
    assert Revocation.objects.get().reason == "Plagiarised evidence"
    assert "cannot be revoked twice" in client.get(_revoke_url(credential)).content.decode()


@pytest.mark.parametrize("who", ["earner", "other_issuer_admin"])
def test_others_cannot_open_or_post_the_revoke_page(client, credential, who, request):
    user = credential.award.earner if who == "earner" else request.getfixturevalue(who)
    client.login(email=user.email, password=PASSWORD)
    assert client.get(_revoke_url(credential)).status_code == 403
    assert client.post(_revoke_url(credential), {"reason": "x"}).status_code == 403
    assert not Revocation.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client, credential):
    response = client.post(_revoke_url(credential), {"reason": "x"})
    assert response.status_code == 302 and "login" in response["Location"]
    assert not Revocation.objects.exists()

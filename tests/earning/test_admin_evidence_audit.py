"""The superuser is an admin like any other before evidence (issue 8, finding 3): reading
someone's portfolio, page or API, leaves an audit event (DESIGN.md invariant 6), and an
upload in progress is its owner's alone, superuser or not."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from microcred.earning.evidence_access import ADMIN_ACTION
from microcred.earning.models import Attempt, Upload
from microcred.earning.uploads import selectors
from microcred.earning.uploads.errors import UploadError
from microcred.orgs import tokens
from microcred.orgs.models import AuditEvent

from . import test_evidence_access
from .test_evidence_access import client_for
from .test_upload_views import half_done
from .uploading import Protocol, padded_mp4

pytestmark = pytest.mark.django_db

world = test_evidence_access.world


@pytest.fixture
def in_progress(world) -> Attempt:
    """The earner still collecting evidence: nobody but the team has any reason to look."""
    Attempt.objects.filter(pk=world.attempt.pk).update(status=Attempt.Status.IN_PROGRESS)
    world.attempt.refresh_from_db()
    return world.attempt


def portfolio_reads(user) -> list[AuditEvent]:
    return [
        e
        for e in AuditEvent.objects.filter(action=ADMIN_ACTION, actor=user)
        if e.data == {"what": "portfolio"}
    ]


@pytest.mark.parametrize("how", ["page", "api_session", "api_token"])
def test_the_superuser_reading_a_portfolio_is_audited(world, in_progress, how):
    admin = world.superuser
    if how == "page":
        response = client_for(admin).get(reverse("earning:attempt", args=[in_progress.uuid]))
    else:
        if how == "api_session":
            client = client_for(admin)
        else:
            client = Client(
                headers={"Authorization": f"Bearer {tokens.create_token(admin, name='x')[1]}"}
            )
        response = client.get(f"/api/v1/earning/attempts/{in_progress.uuid}")
    assert response.status_code == 200
    [event] = portfolio_reads(admin)
    assert event.target_id == str(in_progress.pk)
    assert event.organization == in_progress.school


def test_the_superuser_cannot_ask_for_an_upload_policy_on_someone_elses_attempt(world, in_progress):
    """Reading is audited admin access; changing someone's evidence is the team's alone."""
    requirement = world.attempt.evidence.first().requirement
    url = f"/api/v1/earning/attempts/{in_progress.uuid}/parts/{requirement.pk}/upload-policy"
    assert client_for(world.superuser).post(url).status_code == 404
    assert not AuditEvent.objects.filter(action=ADMIN_ACTION).exists()
    assert client_for(world.earner).post(url).status_code in (201, 400)


def test_the_earner_and_team_reading_their_own_portfolio_leave_no_admin_audit(world, in_progress):
    for user in (world.earner, world.teammate):
        page = client_for(user).get(reverse("earning:attempt", args=[in_progress.uuid]))
        api = client_for(user).get(f"/api/v1/earning/attempts/{in_progress.uuid}")
        assert page.status_code == 200 and api.status_code == 200
    assert not AuditEvent.objects.filter(action=ADMIN_ACTION).exists()


def test_other_people_still_get_404_and_leave_nothing(world, in_progress):
    for user in (world.other_earner, world.state_admin, world.assessor):
        page = client_for(user).get(reverse("earning:attempt", args=[in_progress.uuid]))
        assert page.status_code == 404
    assert not AuditEvent.objects.filter(action=ADMIN_ACTION).exists()


# ------------------------------------------------------------------------ uploads in progress
@pytest.fixture
def unfinished(world) -> Upload:
    browser = client_for(world.earner)
    upload_id = half_done(browser, world.earner, padded_mp4(6 * 1024 * 1024))
    return Upload.objects.get(pk=upload_id)


def test_the_superuser_cannot_sign_complete_or_discard_someone_elses_upload(world, unfinished):
    admin = client_for(world.superuser)
    api = Protocol(admin)
    refused = [
        api.sign(str(unfinished.pk), 2),
        api.parts(str(unfinished.pk)),
        api.detail(str(unfinished.pk)),
        api.complete(str(unfinished.pk), [{"PartNumber": 1, "ETag": '"x"'}]),
        api.abort(str(unfinished.pk)),
    ]
    for response in refused:
        assert response.status_code == 404
        answer = response.json()
        assert (answer["error"], answer["code"]) == ("There is no such upload.", "not_found")
    assert admin.post(reverse("uploads:discard", args=[unfinished.pk])).status_code == 404
    unfinished.refresh_from_db()
    assert unfinished.status == Upload.Status.UPLOADING  # nothing changed
    with pytest.raises(UploadError, match="no such upload"):
        selectors.upload_for(world.superuser, unfinished.pk)
    # The owner carries on as before.
    assert Protocol(client_for(world.earner)).sign(str(unfinished.pk), 2).status_code == 200

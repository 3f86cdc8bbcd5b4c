"""The earners' public evidence page: text of the earning submission only, published and
unpublished by its earners, 404 for everyone else until published; credentials link to it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from microcred.assessment import services as assessment
from microcred.assessment.models import Award
from microcred.credentials import services as credentials
from microcred.credentials.selectors import verify
from microcred.earning import public_evidence
from microcred.earning.models import PublicEvidence, Submission
from microcred.orgs.models import AuditEvent
from tests.assessment.helpers import feedback_for_all, marks_for
from tests.credentials.awards import *  # noqa: F403

pytestmark = pytest.mark.django_db

# What fill_portfolio (tests/assessment/helpers.py) writes and attaches.
WRITTEN = "I coached my mentee weekly."
NOTES = ["Outcome-based talk", "Feedback with data"]


def _page(submission: Submission) -> str:
    return reverse("evidence:public", args=[submission.uuid])


def _publish(submission: Submission) -> str:
    return reverse("evidence:publish", args=[submission.uuid])


def _score(submission: Submission, total: int = 18) -> None:
    assignment = assessment.assign(submission)
    assessment.submit_score(
        assignment,
        assessor=assignment.assessor.user,
        component_points=marks_for(submission.attempt.version, total),
        feedback=feedback_for_all(submission.attempt.version),
        overall_feedback="Clear.",
        minutes_spent=30,
    )


@pytest.fixture
def earned(award) -> Submission:
    return award.decision.submission


@pytest.fixture
def team(make_award, make_submission, make_earner):
    """A team of two whose one submission earned; returns (submission, lead, teammate)."""
    lead, teammate = make_earner(), make_earner()
    submission = make_submission(lead, team=[teammate])
    _score(submission)
    assert Award.objects.filter(attempt=submission.attempt).count() == 2
    return submission, lead, teammate


def _published(submission: Submission) -> bool:
    return PublicEvidence.objects.filter(submission=submission, published=True).exists()


# ---------------------------------------------------------------------------- the address
def test_credentials_name_the_page_before_it_is_published_and_still_verify(award, client):
    credential = credentials.issue_for_award(award)
    [entry] = credential.document["evidence"]
    submission = award.decision.submission
    assert entry["id"] == public_evidence.page_url(submission)
    assert entry["id"].endswith(f"/evidence/public/{submission.uuid}/")
    assert verify(credential.document).verified
    # The route exists from the start; it shows nothing until the earner publishes.
    answer = client.get(_page(submission))
    assert answer.status_code == 404
    assert WRITTEN not in answer.content.decode()


def test_never_published_is_404_for_strangers_and_a_preview_for_the_earner(
    earned, client, make_earner
):
    client.force_login(make_earner())
    stranger = client.get(_page(earned))
    assert stranger.status_code == 404
    for private in [WRITTEN, *NOTES, earned.attempt.version.title]:
        assert private not in stranger.content.decode()
    client.force_login(earned.attempt.earner)
    preview = client.get(_page(earned))
    assert preview.status_code == 200
    assert "it is not published" in preview.content.decode()
    assert preview["Cache-Control"] == "private, no-store"


def test_an_address_that_did_not_earn_is_404_even_for_its_earner(
    make_award, make_submission, client
):
    not_yet = make_submission()  # submitted, not scored
    client.force_login(not_yet.attempt.earner)
    assert client.get(_page(not_yet)).status_code == 404
    with pytest.raises(ValidationError, match="Only the submission that earned"):
        public_evidence.set_published(not_yet, user=not_yet.attempt.earner, published=True)
    assert not PublicEvidence.objects.exists()


# ---------------------------------------------------------------------------- publishing
def test_the_earner_publishes_and_anyone_reads_text_but_no_files(earned, client):
    earner = earned.attempt.earner
    client.force_login(earner)
    attempt_page = client.get(reverse("earning:attempt", args=[earned.attempt.uuid]))
    text = attempt_page.content.decode()
    assert 'id="public-evidence"' in text
    assert "<strong>Your videos and files are never shown</strong>: they show students." in text
    done = client.post(_publish(earned), {"published": "yes"}, follow=True)
    assert "Your evidence page is public" in done.content.decode()
    assert _published(earned)
    [event] = AuditEvent.objects.filter(action="earning.evidence.published")
    assert event.actor == earner

    client.logout()
    page = client.get(_page(earned))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"Evidence for “{earned.attempt.version.title}”" in html
    assert WRITTEN in html
    for note in NOTES:
        assert note in html
    assert "3:15" in html and "7:00" in html  # the notes' time stamps
    assert "kept private" in html
    # Never the video or files: no file name, no link or player for them.
    for snapshot_part in earned.snapshot["items"]:
        for artifact in snapshot_part["artifacts"]:
            assert artifact["filename"] not in html
            assert artifact["upload"] not in html
    assert "<video" not in html and "/evidence/files/" not in html
    assert earner.email not in html
    assert page["Cache-Control"] == "no-cache"


def test_unpublishing_hides_the_page_again_and_double_posts_change_nothing(earned, client):
    earner = earned.attempt.earner
    client.force_login(earner)
    client.post(_publish(earned), {"published": "yes"})
    again = client.post(_publish(earned), {"published": "yes"}, follow=True)
    assert "Nothing changed" in again.content.decode()
    assert AuditEvent.objects.filter(action="earning.evidence.published").count() == 1
    client.post(_publish(earned), {"published": "no"})
    client.post(_publish(earned), {"published": "no"})
    assert not _published(earned)
    assert AuditEvent.objects.filter(action="earning.evidence.unpublished").count() == 1
    assert PublicEvidence.objects.count() == 1
    client.logout()
    hidden = client.get(_page(earned))
    assert hidden.status_code == 404 and WRITTEN not in hidden.content.decode()


def test_a_bad_choice_changes_nothing(earned, client):
    client.force_login(earned.attempt.earner)
    answer = client.post(_publish(earned), {"published": "maybe"}, follow=True)
    assert "nothing changed" in answer.content.decode()
    assert not PublicEvidence.objects.exists()
    assert client.get(_publish(earned)).status_code == 405


def test_someone_else_cannot_publish_or_unpublish(earned, client, make_earner, make_user):
    earner = earned.attempt.earner
    public_evidence.set_published(earned, user=earner, published=True)
    for outsider in [make_earner(), make_user(is_superuser=True, is_staff=True)]:
        client.force_login(outsider)
        assert client.post(_publish(earned), {"published": "no"}).status_code == 404
        with pytest.raises(PermissionDenied):
            public_evidence.set_published(earned, user=outsider, published=False)
    assert _published(earned)
    assert AuditEvent.objects.filter(action__startswith="earning.evidence.").count() == 1
    client.logout()
    assert client.post(_publish(earned), {"published": "no"}).status_code == 302  # to sign in
    assert _published(earned)


def test_a_teammate_may_publish_and_the_lead_unpublish(team, client):
    submission, lead, teammate = team
    client.force_login(teammate)
    client.post(_publish(submission), {"published": "yes"})
    assert _published(submission)
    assert AuditEvent.objects.get(action="earning.evidence.published").actor == teammate
    client.force_login(lead)
    client.post(_publish(submission), {"published": "no"})
    assert not _published(submission)
    # Both teammates' credentials point at the one page of their one submission.
    ids = {
        credentials.issue_for_award(award).document["evidence"][0]["id"]
        for award in Award.objects.filter(attempt=submission.attempt)
    }
    assert ids == {public_evidence.page_url(submission)}

"""After "not yet" (issue 11): the latest decision's feedback sits at the top of the attempt
page, per rubric component, saying which details were met and which were not, as stacked
cards (no table); the "Ready to submit" box stays away until the earner changes something."""

from __future__ import annotations

import pytest
from django.test import Client

from microcred.assessment import services as assessment
from microcred.assessment.models import Assignment
from microcred.catalog.models import EvidenceRequirement, RubricComponent
from microcred.earning import selectors, services
from microcred.earning.api import DecisionOut
from microcred.earning.models import Attempt, Submission
from tests.assessment.conftest import (  # fixtures
    make_assessor,  # noqa: F401
    make_earner,  # noqa: F401
    make_submission,  # noqa: F401
    version,  # noqa: F401
)
from tests.assessment.helpers import feedback_for_all, marks_for

pytestmark = pytest.mark.django_db


def _decide(submission: Submission, total: int) -> None:
    assignment = Assignment.objects.filter(submission=submission).first() or assessment.assign(
        submission
    )
    assert assignment is not None
    pinned = submission.attempt.version
    assessment.submit_score(
        assignment,
        assessor=assignment.assessor.user,
        component_points=marks_for(pinned, total),
        feedback=feedback_for_all(pinned),
        overall_feedback="Your reflection needs data from your coaching.",
        minutes_spent=30,
    )


@pytest.fixture
def not_yet(make_assessor, make_submission) -> Submission:  # noqa: F811
    make_assessor()
    submission = make_submission()
    _decide(submission, total=10)  # first two components full, the others empty
    submission.attempt.refresh_from_db()
    assert submission.attempt.status == Attempt.Status.NOT_YET
    return submission


def _page(user, attempt: Attempt) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/earn/{attempt.uuid}/")
    assert response.status_code == 200
    return response.content.decode()


def _text_part(attempt: Attempt) -> EvidenceRequirement:
    return attempt.version.evidence_requirements.filter(
        kind__in=EvidenceRequirement.TEXT_KINDS
    ).first()


def test_the_selector_says_which_details_were_met_per_component(not_yet, version):  # noqa: F811
    feedback = selectors.feedback_for(not_yet)
    components = list(RubricComponent.objects.filter(rubric__version=version).order_by("order"))
    assert [c.title for c in feedback.components] == [c.title for c in components]
    first, last = feedback.components[0], feedback.components[-1]
    assert first.not_met == [] and len(first.met) == first.points
    assert last.met == [] and len(last.not_met) == components[-1].criteria.count()
    assert first.feedback == f"Clear evidence for {components[0].title}."
    assert not feedback.earned and feedback.not_yet
    assert feedback.revised is False


def test_the_api_decision_still_reads_from_the_same_selector(not_yet):
    decision = DecisionOut.model_validate(selectors.feedback_for(not_yet))
    assert decision.outcome == "not_yet"
    assert decision.components[0].feedback.startswith("Clear evidence for")


def test_feedback_is_at_the_top_as_cards_with_met_and_not_met_details(not_yet, version):  # noqa: F811
    attempt = not_yet.attempt
    page = _page(attempt.earner, attempt)
    top = page.index('id="feedback"')
    assert top < page.index("part-")  # above every evidence part
    assert top < page.index('id="history-heading"')
    section = page[top : page.index("</section>", top)]
    assert "<table" not in section
    components = list(RubricComponent.objects.filter(rubric__version=version).order_by("order"))
    assert section.count('class="card feedback-component"') == len(components)
    unmet = components[-1].criteria.order_by("order").first()
    met = components[0].criteria.order_by("order").first()
    assert f"Not met yet: {unmet.text}" in section
    assert f"Met: {met.text}" in section
    assert "Your reflection needs data from your coaching." in section
    assert f"Clear evidence for {components[-1].title}." in section


def test_no_ready_to_submit_box_while_not_yet_and_unchanged(not_yet):
    attempt = not_yet.attempt
    page = _page(attempt.earner, attempt)
    assert "Ready to submit" not in page
    assert "Next: revise your evidence" in page
    assert f'action="/earn/{attempt.uuid}/submit/"' not in page

    # The earner revises a written part: now the box offers the submission again.
    requirement = _text_part(attempt)
    item = attempt.evidence.get(requirement=requirement)
    services.save_text(attempt, requirement, user=attempt.earner, text=item.text + " More data.")
    page = _page(attempt.earner, attempt)
    assert "Ready to submit" in page
    assert "Next: revise your evidence" not in page
    assert f'action="/earn/{attempt.uuid}/submit/"' in page

    # Undoing the change makes it the same portfolio again.
    services.save_text(attempt, requirement, user=attempt.earner, text=item.text)
    assert "Next: revise your evidence" in _page(attempt.earner, attempt)


def test_after_resubmitting_the_old_feedback_stays_below_not_on_top(not_yet):
    attempt = not_yet.attempt
    requirement = _text_part(attempt)
    services.save_text(attempt, requirement, user=attempt.earner, text="A revised answer.")
    services.submit(attempt, user=attempt.earner)
    page = _page(attempt.earner, attempt)
    assert 'id="feedback"' not in page
    assert 'id="feedback-1"' in page  # the first decision, in the history
    assert "Next: revise your evidence" not in page


def test_an_earned_attempt_shows_the_feedback_that_supports_it_on_top(
    make_assessor,  # noqa: F811
    make_submission,  # noqa: F811
):
    make_assessor()
    submission = make_submission()
    _decide(submission, total=18)
    attempt = submission.attempt
    page = _page(attempt.earner, attempt)
    assert "Feedback on submission 1: earned" in page and ": not yet" not in page
    assert "Revise the parts" not in page
    assert page.count('id="feedback"') == 1 and 'id="feedback-1"' not in page
    assert "You earned this micro-credential" in page


def test_someone_else_cannot_read_the_feedback(not_yet, make_earner):  # noqa: F811
    stranger = make_earner(email="stranger@example.org")
    client = Client()
    client.force_login(stranger)
    assert client.get(f"/earn/{not_yet.attempt.uuid}/").status_code == 404

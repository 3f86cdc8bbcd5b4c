"""The two stories of issue 3, end to end in Chromium with axe on every page.

Inez, alone: she starts a micro-credential, writes, uploads a real short video, notes a moment
of it against a rubric component and submits; an assessor who never learns who she is scores it
"not yet" with feedback; she revises, resubmits, and a second assessor scores it earned.

Michelle, with her PLC: she starts it, makes a team and invites two colleagues from her school,
who accept; one of them writes a part; Michelle submits once; the score credits all three."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from microcred.assessment.models import Assignment, Award
from microcred.earning.models import Attempt, Submission
from microcred.orgs.models import Role
from tests.assessment.helpers import component_ids, marks_for
from tests.catalog.factories import catalog_people
from tests.earning.portfolio_helpers import small_content, video_bytes

from .helpers import (
    Account,
    accept_invitation,
    add_video_note,
    create_team,
    evidence_part,
    expect_attempt_status,
    expect_blind,
    invite_colleague,
    open_first_assignment,
    open_my_attempt,
    score_in_browser,
    sign_in_as,
    sign_out,
    start_micro_credential,
    submission_row,
    submit_portfolio,
    upload_video,
    write_part,
)

PASSWORD = "pw-for-tests-1"  # what make_user gives everyone
PLAN, VIDEO, REFLECTION = "Part 1. Your plan", "Part 2. Classroom video", "Part 3. Reflection"
NOT_YET_POINTS, PASSING_POINTS = 10, 17  # the coaching rubric: Yes from 16 of 20, Almost 13


@pytest.fixture
def version(seeded_db, org_tree, make_user):
    """A published MC with a 20-word written part, a 2 to 4 second video needing one note,
    and a 10-word reflection, scored with the coaching rubric."""
    return catalog_people(org_tree, make_user).publish(small_content())


@pytest.fixture
def assessors(make_assessor):
    """Two qualified assessors from the assessment organization (no conflict with any school):
    a resubmission goes to the one who has not read the attempt yet."""
    return [Account(make_assessor().user.email, PASSWORD) for _ in range(2)]


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "lesson.mp4"
    path.write_bytes(video_bytes(3))
    return path


def earner(make_user, school, first: str, last: str):
    return make_user(Role.EARNER, school, first_name=first, last_name=last)


def account(user) -> Account:
    return Account(user.email, PASSWORD)


def holder() -> Account:
    """Whoever the planner gave the open read to (its jitter makes ties unpredictable)."""
    assignment = Assignment.objects.select_related("assessor__user").get(
        status=Assignment.Status.ASSIGNED
    )
    return account(assignment.assessor.user)


def score(page: Page, assessor: Account, version, points: int, overall: str, *traces: str):
    """The assessor opens the submission waiting in their queue, blind, and scores it."""
    sign_in_as(page, assessor)
    open_first_assignment(page)
    expect_blind(page, *traces)
    feedback = {
        c.title: f"About {c.title.lower()}: name the step you took." for c in component_ids(version)
    }
    score_in_browser(page, marks_for(version, points), feedback, overall)
    sign_out(page)


def test_inez_alone_gets_not_yet_then_earns_it_on_resubmission(
    page: Page, version, assessors, clip: Path, make_user, org_tree
):
    inez = earner(make_user, org_tree["school1"], "Inez", "Ruiz")
    slug, title = version.micro_credential.slug, version.title
    first_component = component_ids(version)[0].title
    who = ("Inez", "Ruiz", inez.email, "Pine Elementary", "Pine County")

    sign_in_as(page, account(inez))
    start_micro_credential(page, slug, title)
    write_part(page, PLAN, "We ask open questions and wait.")
    upload_video(page, VIDEO, clip)
    expect(evidence_part(page, VIDEO)).to_contain_text("3 s long")
    add_video_note(page, VIDEO, "0:02", first_component, "A student explains her thinking.")
    write_part(page, REFLECTION, "Wait time matters.")
    submit_portfolio(page, 1)
    sign_out(page)

    first_reader = holder()
    score(page, first_reader, version, NOT_YET_POINTS, "Show more of the conversation.", *who)

    sign_in_as(page, account(inez))
    open_my_attempt(page, title)
    expect_attempt_status(page, "Not yet: revise and resubmit")
    first = submission_row(page, 1)
    expect(first).to_contain_text("Not yet")
    feedback = page.get_by_role("region", name="Feedback on submission 1: not yet")
    expect(feedback).to_contain_text("Show more of the conversation.")
    expect(feedback).to_contain_text(f"About {first_component.lower()}: name the step you took.")
    write_part(page, REFLECTION, "Wait time and open questions matter.")
    submit_portfolio(page, 2)
    sign_out(page)

    second_reader = holder()
    assert second_reader != first_reader and second_reader in assessors  # fresh eyes
    score(page, second_reader, version, PASSING_POINTS, "Clear, specific evidence.", *who)

    sign_in_as(page, account(inez))
    open_my_attempt(page, title)
    expect_attempt_status(page, "Earned")
    expect(submission_row(page, 2)).to_contain_text("Earned")
    expect(submission_row(page, 1)).to_contain_text("Not yet")  # the history stays
    page.get_by_role("link", name="See and share my credentials").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My credentials")
    expect(page.get_by_role("main")).to_contain_text(title)
    page.goto("/me/")
    expect(page.get_by_role("row", name=title)).to_contain_text("Earned")

    attempt = Attempt.objects.get()
    assert attempt.status == Attempt.Status.EARNED
    assert list(attempt.submissions.order_by("number").values_list("number", flat=True)) == [1, 2]
    assert list(Award.objects.values_list("earner", flat=True)) == [inez.pk]


def test_michelle_and_two_colleagues_submit_once_and_all_earn_it(
    page: Page, version, assessors, clip: Path, make_user, org_tree
):
    school = org_tree["school1"]
    michelle = earner(make_user, school, "Michelle", "Lee")
    colleagues = [
        earner(make_user, school, "Dana", "Cole"),
        earner(make_user, school, "Raj", "Iyer"),
    ]
    slug, title = version.micro_credential.slug, version.title
    first_component = component_ids(version)[0].title

    sign_in_as(page, account(michelle))
    start_micro_credential(page, slug, title)
    create_team(page, "Grade 4 PLC")
    for colleague in colleagues:
        invite_colleague(page, colleague.name, colleague.email)
    sign_out(page)

    for colleague in colleagues:
        sign_in_as(page, account(colleague))
        accept_invitation(page, title)
        sign_out(page)
    sign_in_as(page, account(colleagues[0]))
    open_my_attempt(page, title)
    write_part(page, PLAN, "Our PLC plans questions together.")
    sign_out(page)

    sign_in_as(page, account(michelle))
    open_my_attempt(page, title)
    expect(evidence_part(page, PLAN).get_by_label("Your answer")).to_have_value(
        "Our PLC plans questions together."
    )
    upload_video(page, VIDEO, clip)
    add_video_note(page, VIDEO, "0:01", first_component, "The class discusses a question.")
    write_part(page, REFLECTION, "Planning together helps.")
    submit_portfolio(page, 1)
    sign_out(page)

    names = [p.first_name for p in (michelle, *colleagues)]
    assert holder() in assessors
    score(page, holder(), version, PASSING_POINTS, "Strong team evidence.", *names)

    for person in (michelle, *colleagues):
        sign_in_as(page, account(person))
        page.goto("/me/")
        expect(page.get_by_role("row", name=title)).to_contain_text("Earned")
        sign_out(page)

    assert Submission.objects.count() == 1
    assert sorted(Award.objects.values_list("earner", flat=True)) == sorted(
        p.pk for p in (michelle, *colleagues)
    )

"""A coach comments on shared draft evidence (issue 11), in a real browser.

A teacher asks a coach of her school for coaching and shares her draft with him from the
attempt page; the coach finds her on his caseload, opens the shared draft and comments on one
evidence requirement; the teacher reads the comment on her attempt page and marks it resolved.
Every coaching page is also opened at 360 px wide: nothing scrolls sideways."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from microcred.earning import services as earning
from microcred.earning.models import DraftComment
from microcred.orgs.models import Role
from tests.assessment.helpers import fill_portfolio
from tests.e2e.harness import sign_in, sign_out
from tests.e2e.helpers import expect_message, expect_no_horizontal_scroll

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"
PHONE_360 = {"width": 360, "height": 740}
COACH_FIELD = re.compile(r"^Coach:?$")  # the share page's label ends with Django's colon


def fits_a_phone(page: Page) -> None:
    """The page as it is, at 360 px wide: nothing wider than the window."""
    size = page.viewport_size
    page.set_viewport_size(PHONE_360)
    expect_no_horizontal_scroll(page)
    if size:
        page.set_viewport_size(size)


def test_a_coach_comments_on_a_shared_draft_and_the_teacher_resolves_it(
    page: Page, seeded_db, version, make_user, org_tree
):
    school = org_tree["school1"]
    teacher = make_user(Role.EARNER, school, first_name="Inez", last_name="Earner")
    coach = make_user(Role.COACH, school, first_name="Cole", last_name="Coach")
    attempt, _ = earning.start_attempt(version, user=teacher)
    fill_portfolio(attempt, teacher)
    requirement = version.evidence_requirements.order_by("order").first()

    # The teacher asks for coaching, then shares her draft from its page.
    sign_in(page, teacher.email, PASSWORD)
    page.goto("/earn/coaching/my-coach/")
    page.get_by_label(COACH_FIELD).select_option(label=f"Cole Coach ({coach.email})")
    page.get_by_role("button", name="Ask for coaching").click()
    expect_message(page, "Cole Coach is now your coach")
    fits_a_phone(page)

    page.goto(f"/earn/{attempt.uuid}/")
    page.get_by_role("link", name="Share with my coach").click()
    expect(page.get_by_role("heading", name="Who can see your evidence")).to_be_visible()
    page.get_by_label(COACH_FIELD).select_option(label=f"Cole Coach ({coach.email})")
    page.get_by_role("button", name="Share my evidence").click()
    expect_message(page, "Cole Coach can now see this evidence.")
    sign_out(page)

    # The coach finds her on his caseload and comments on one requirement of the draft.
    sign_in(page, coach.email, PASSWORD)
    page.goto("/earn/coaching/")
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    expect(page.get_by_text("You coach 1 teacher")).to_be_visible()
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Inez Earner"))
    expect(card.get_by_text("Shared with you", exact=True)).to_be_visible()
    fits_a_phone(page)
    card.get_by_role("link", name=re.compile("^Read the draft and comment")).click()
    expect(page.get_by_role("heading", name=version.title, level=1)).to_be_visible()
    expect(page.get_by_text("I coached my mentee weekly.").first).to_be_visible()
    fits_a_phone(page)
    part = page.get_by_role("region", name=requirement.title)
    part.get_by_label("Your comment on this part").fill("Name the coaching protocol you used.")
    part.get_by_role("button", name="Send the comment").click()
    expect_message(page, "Your comment was sent to the teacher.")
    expect(part.get_by_text("Name the coaching protocol you used.")).to_be_visible()
    fits_a_phone(page)
    sign_out(page)

    # The teacher reads it on her attempt page and marks it resolved.
    sign_in(page, teacher.email, PASSWORD)
    page.goto(f"/earn/{attempt.uuid}/")
    comments = page.get_by_role("region", name="Your coach's comments (1 open)")
    expect(comments.get_by_text("Name the coaching protocol you used.")).to_be_visible()
    expect(comments.get_by_role("link", name=f"On “{requirement.title}”")).to_be_visible()
    fits_a_phone(page)
    comments.get_by_role("button", name="Mark resolved").click()
    expect_message(page, "Marked resolved.")
    expect(page.get_by_role("region", name="Your coach's comments")).to_contain_text(
        "Resolved by Inez Earner"
    )
    comment = DraftComment.objects.get()
    assert comment.resolved_by == teacher and comment.requirement == requirement


def test_a_principal_assigns_a_coach_who_follows_the_teacher_and_ends_it(
    page: Page, seeded_db, version, make_user, org_tree
):
    school = org_tree["school1"]
    teacher = make_user(Role.EARNER, school, first_name="Tess", last_name="Teacher")
    coach = make_user(Role.COACH, org_tree["lea1"], first_name="Dana", last_name="District")
    principal = make_user(Role.PRINCIPAL, school, first_name="Pam", last_name="Principal")
    earning.start_attempt(version, user=teacher)

    sign_in(page, principal.email, PASSWORD)
    page.goto("/earn/coaching/assign/")
    page.get_by_label("Teacher's email address").fill(teacher.email)
    page.get_by_label(COACH_FIELD).select_option(label=f"Dana District ({coach.email})")
    page.get_by_role("button", name="Assign the coach").click()
    expect_message(page, "Dana District now coaches Tess Teacher.")
    fits_a_phone(page)
    sign_out(page)

    sign_in(page, coach.email, PASSWORD)
    page.goto("/earn/coaching/")
    page.get_by_role("link", name="Tess Teacher").click()
    expect(page.get_by_role("heading", name="Tess Teacher", level=1)).to_be_visible()
    expect(page.get_by_text("No learning plan yet.")).to_be_visible()
    expect(page.get_by_text("Not shared with you.")).to_be_visible()
    fits_a_phone(page)
    page.get_by_role("button", name="End coaching Tess Teacher").click()
    expect_message(page, "The coaching with Tess Teacher has ended.")
    expect(page.get_by_text("You have no coachees yet.")).to_be_visible()
    fits_a_phone(page)

"""Evaluation in the browser (issue 11): a teacher earns a micro-credential, finds the
after-award survey in her notifications and answers it with the keyboard; a researcher at the
state agency downloads de-identified exports, and the files hold none of the teacher's direct
identifiers; the survey and research pages fit a 360 px phone."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from microcred.credentials.models import IssuedCredential
from microcred.insights import research, surveys
from microcred.insights.models import SurveyAnswer, SurveyInvitation, SurveyResponse
from microcred.orgs.models import Role
from microcred.recognition.models import License
from tests.e2e.helpers import Account, expect_page, group, sign_in_as, sign_out

from .test_phone_layout import PHONE_360, expect_fits_360

pytestmark = pytest.mark.e2e
PASSWORD = "pw-for-tests-1"
TEACHER = {
    "first_name": "Philippa",
    "last_name": "Wrenfeather",
    "email": "philippa.wrenfeather@distinct.example",
}
LICENSE_NUMBER = "NC-778899-PW"
COMMENT = "My coach Mr Abernathy-Quill helped a lot."


def account(user) -> Account:
    return Account(user.email, PASSWORD)


def answer_survey_with_the_keyboard(page: Page) -> None:
    """Each statement is a radio group: Tab into it, arrows move the choice."""
    for n, key_presses in ((1, 4), (2, 3), (3, 2), (4, 3), (5, 5)):
        legend = re.compile(rf"^{n}\. ")
        question = page.get_by_role("group", name=legend)
        first = question.get_by_role("radio").first
        first.focus()
        page.keyboard.press("Space")
        for _ in range(key_presses):
            page.keyboard.press("ArrowDown")
        expect(question.get_by_role("radio").nth(key_presses)).to_be_checked()


def test_a_teacher_answers_the_after_award_survey_from_her_notification(
    page: Page, version, make_earner, make_award
):
    teacher = make_earner(**TEACHER)
    make_award(teacher)  # committed: the credential is issued, then the survey is sent
    credential = IssuedCredential.objects.get(award__earner=teacher)
    invitation = SurveyInvitation.objects.get(credential=credential)
    assert invitation.sent_at is not None

    sign_in_as(page, account(teacher))
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile(r"^Notifications")
    ).click()
    expect_page(page, "Notifications")
    title = f"Five questions about “{version.title}”"
    page.get_by_role("link", name=re.compile(rf"^Open\W*{re.escape(title)}$")).click()
    expect_page(page, f"Survey: {version.title}")

    # Sending without answering says what is missing and keeps nothing.
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose how much you agree")
    assert not SurveyResponse.objects.exists()

    answer_survey_with_the_keyboard(page)
    page.get_by_label(re.compile("^Anything else")).fill(COMMENT)
    page.set_viewport_size(PHONE_360)
    expect_fits_360(page)
    page.get_by_role("button", name="Send my answers").click()
    expect_page(page, "Thank you")
    expect_fits_360(page)

    ratings = dict(SurveyAnswer.objects.values_list("level", "rating"))
    assert ratings == {1: 5, 2: 4, 3: 3, 4: 4, 5: None}
    # Coming back to the survey's address shows the answers are in and cannot be sent again.
    page.goto(f"/insights/surveys/{invitation.token}/")
    expect(page.get_by_text(re.compile("You answered this survey on"))).to_be_visible()
    page.goto("/insights/surveys/")
    expect_page(page, "My surveys")
    expect(page.get_by_text("No survey is waiting for you.")).to_be_visible()
    expect_fits_360(page)
    assert SurveyResponse.objects.count() == 1


def test_a_researcher_downloads_de_identified_exports(
    page: Page, version, make_earner, make_award, make_user, org_tree
):
    teacher = make_earner(**TEACHER)
    License.objects.create(educator=teacher, state=org_tree["state"], number=LICENSE_NUMBER)
    make_award(teacher)
    invitation = SurveyInvitation.objects.get(educator=teacher)
    surveys.respond(teacher, invitation, {1: 4, 2: 4, 3: 5, 4: 3, 5: None}, COMMENT)
    researcher = make_user(Role.RESEARCHER, org_tree["state"], first_name="Rui", last_name="Seal")
    identifiers = [
        *TEACHER.values(),
        LICENSE_NUMBER,
        COMMENT,
        "Abernathy",
        org_tree["school1"].name,
        org_tree["lea1"].name,
    ]

    # Someone without the role is told plainly, and nothing is exported.
    sign_in_as(page, account(teacher))
    page.goto("/insights/research/")
    expect_page(page, "No access to research exports")
    sign_out(page)

    sign_in_as(page, account(researcher))
    page.goto("/insights/research/")
    expect_page(page, "Research exports")
    pseudonyms = {}
    for title in ("Attempts", "Submissions and decisions", "Credentials", "Survey answers"):
        group(page, "Dataset").get_by_role("radio", name=re.compile(f"^{title}")).check()
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Download the CSV").click()
        text = Path(download_info.value.path()).read_text(encoding="utf-8")
        for needle in identifiers:
            assert needle.lower() not in text.lower(), f"{needle!r} in the {title} export"
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows, f"the {title} export is empty"
        assert str(teacher.pk) not in {row["educator_id"] for row in rows}
        pseudonyms[title] = {row["educator_id"] for row in rows}
        assert {row["lea"] for row in rows} == {research.SUPPRESSED}  # a cell of one
    assert len(set.union(*pseudonyms.values())) == 1  # the same id in every file

    page.reload()
    expect(page.get_by_role("table", name=re.compile("Your last 4 downloads"))).to_be_visible()
    page.get_by_role("link", name="Read the data dictionary").click()
    expect_page(page, "Research data dictionary")
    expect(page.get_by_text(re.compile("Small cells, k = 10"))).to_be_visible()

    page.set_viewport_size(PHONE_360)
    expect_fits_360(page)
    page.goto("/insights/research/")
    expect_fits_360(page)

"""Guskey surveys: sent once after the award (through the credential_issued signal and a task)
and once months later (the daily command), answered once by the invited educator only, and
summarized by level and wave with small groups suppressed."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from microcred.credentials import services as credentials
from microcred.credentials.models import IssuedCredential
from microcred.insights import surveys
from microcred.insights.models import SurveyAnswer, SurveyInvitation, SurveyResponse, Wave
from microcred.insights.tasks import send_after_award_survey
from microcred.notifications.models import Kind, Notification
from microcred.orgs.models import AuditEvent, Role
from microcred.recognition.renewal import add_months
from tests.credentials.awards import *  # noqa: F403  (make_award, version and friends)

pytestmark = pytest.mark.django_db

ALL_AGREE = {"level_1": "5", "level_2": "4", "level_3": "2", "level_4": "4", "level_5": "na"}


@pytest.fixture
def issued(make_award):
    """issued(earner=None) -> a credential issued as in production, without its signal."""

    def make(earner=None) -> IssuedCredential:
        return credentials.issue_for_award(make_award(earner))

    return make


@pytest.fixture
def invitation(issued) -> SurveyInvitation:
    credential = issued()
    assert surveys.invite_after_award(credential.pk)
    return SurveyInvitation.objects.get(credential=credential)


def age(credential: IssuedCredential, months: int, days: int = 0) -> None:
    """Pretend the credential was issued `months` (and `days`) ago."""
    when = timezone.now()
    day = add_months(timezone.localdate(when), -months) - timedelta(days=days)
    issued_at = when.replace(year=day.year, month=day.month, day=day.day)
    IssuedCredential.objects.filter(pk=credential.pk).update(issued_at=issued_at)


def survey_notifications(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=Kind.SURVEY))


# ---------------------------------------------------------------------------- after the award
def test_issuing_a_credential_sends_the_after_award_survey_once(
    make_award, mailoutbox, django_capture_on_commit_callbacks
):
    award = make_award()
    with django_capture_on_commit_callbacks(execute=True):
        credential = credentials.issue_for_award(award)
    (invitation,) = SurveyInvitation.objects.all()
    assert invitation.educator == award.earner
    assert invitation.credential == credential
    assert invitation.wave == Wave.AFTER_AWARD
    assert invitation.sent_at is not None and invitation.responded_at is None
    assert invitation.version == award.attempt.version
    assert invitation.school == award.attempt.school
    assert invitation.lea == award.attempt.school.parent
    (note,) = survey_notifications(award.earner)
    assert note.url == reverse("insights:survey", args=[invitation.token])
    assert [m.to for m in mailoutbox if "questions about" in m.subject] == [[award.earner.email]]
    assert AuditEvent.objects.filter(action="insights.survey_sent").count() == 1

    # A retried task (or the signal sent again) notifies nobody twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert send_after_award_survey.call(credential.pk) is False
    assert SurveyInvitation.objects.count() == 1
    assert len(survey_notifications(award.earner)) == 1


def test_an_unsent_invitation_left_by_a_crash_is_sent_by_the_retry(issued):
    credential = issued()
    # The invitation row exists but the worker died before notifying.
    SurveyInvitation.objects.create(
        educator=credential.award.earner,
        credential=credential,
        wave=Wave.AFTER_AWARD,
        version=credential.award.attempt.version,
        due_at=credential.issued_at,
    )
    assert surveys.invite_after_award(credential.pk) is True
    assert surveys.invite_after_award(credential.pk) is False
    assert len(survey_notifications(credential.award.earner)) == 1


def test_a_revoked_credential_or_an_unknown_one_gets_no_survey(issued, issuer_admin):
    credential = issued()
    credentials.revoke(issuer_admin, credential, "Evidence was not the earner's own.")
    assert surveys.invite_after_award(credential.pk) is False
    assert surveys.invite_after_award(999_999) is False
    assert not SurveyInvitation.objects.exists()


# ---------------------------------------------------------------------------- months later
def test_the_daily_command_sends_follow_ups_for_credentials_six_months_old(
    issued, make_earner, issuer_admin
):
    due = issued(make_earner(email="due@example.org"))
    recent = issued(make_earner(email="recent@example.org"))
    revoked = issued(make_earner(email="revoked@example.org"))
    ancient = issued(make_earner(email="ancient@example.org"))
    age(due, 6, days=1)
    age(recent, 5)
    age(revoked, 7)
    age(ancient, 6 + surveys.FOLLOWUP_GRACE_MONTHS, days=3)
    credentials.revoke(issuer_admin, revoked, "Issued in error.")

    call_command("send_followup_surveys")
    (follow_up,) = SurveyInvitation.objects.filter(wave=Wave.FOLLOW_UP)
    assert follow_up.credential == due
    assert follow_up.sent_at is not None
    due.refresh_from_db()
    assert follow_up.due_at > due.issued_at
    assert len(survey_notifications(due.award.earner)) == 1

    # Run again (tomorrow's cron, or twice today): nothing new.
    call_command("send_followup_surveys")
    assert SurveyInvitation.objects.filter(wave=Wave.FOLLOW_UP).count() == 1
    assert len(survey_notifications(due.award.earner)) == 1


def test_the_follow_up_months_come_from_the_setting(issued, settings):
    credential = issued()
    age(credential, 3, days=1)
    call_command("send_followup_surveys")
    assert not SurveyInvitation.objects.filter(wave=Wave.FOLLOW_UP).exists()
    settings.MICROCRED_SURVEY_FOLLOWUP_MONTHS = 3
    call_command("send_followup_surveys")
    assert SurveyInvitation.objects.filter(wave=Wave.FOLLOW_UP, credential=credential).exists()


# ---------------------------------------------------------------------------- answering
def test_only_the_invited_educator_opens_the_survey(client, invitation, make_user, org_tree):
    url = reverse("insights:survey", args=[invitation.token])
    response = client.get(url)
    assert response.status_code == 302 and "login" in response["Location"]
    for stranger in (
        make_user(Role.EARNER, org_tree["school1"]),
        make_user(Role.PROGRAM_ADMIN, org_tree["state"]),
    ):
        client.force_login(stranger)
        assert client.get(url).status_code == 404
        assert client.post(url, ALL_AGREE).status_code == 404
        assert (
            client.get(reverse("insights:survey_thanks", args=[invitation.token])).status_code
            == 404
        )
    assert not SurveyResponse.objects.exists()
    client.force_login(invitation.educator)
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<fieldset") == 5 and body.count("<legend>") == 5
    assert "I have started using what I learned for this micro-credential in my teaching" in body
    assert "Doesn&#x27;t apply to me" in body or "Doesn't apply to me" in body


def test_answers_are_stored_once_and_a_second_post_says_so(client, invitation):
    client.force_login(invitation.educator)
    url = reverse("insights:survey", args=[invitation.token])
    response = client.post(url, {**ALL_AGREE, "comment": "  Worth it.  "})
    assert response.status_code == 302
    assert response["Location"] == reverse("insights:survey_thanks", args=[invitation.token])
    (answer_set,) = SurveyResponse.objects.all()
    assert answer_set.comment == "Worth it."
    ratings = dict(SurveyAnswer.objects.values_list("level", "rating"))
    assert ratings == {1: 5, 2: 4, 3: 2, 4: 4, 5: None}
    invitation.refresh_from_db()
    assert invitation.responded_at is not None
    event = AuditEvent.objects.get(action="insights.survey_answered")
    assert event.data == {"wave": "after_award", "levels_rated": 4}  # never the answers

    response = client.post(url, {**ALL_AGREE, "level_1": "1"}, follow=True)
    assert SurveyResponse.objects.count() == 1
    assert SurveyAnswer.objects.get(level=1).rating == 5
    assert "You had already answered this survey; we kept your first answers" in (
        response.content.decode()
    )
    assert "You answered this survey on" in client.get(url).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({k: v for k, v in ALL_AGREE.items() if k != "level_3"}, "Choose how much you agree"),
        ({**ALL_AGREE, "level_2": "7"}, "Choose one of the answers listed"),
        ({**ALL_AGREE, "comment": "x" * 2001}, "Keep the comment under 2000 characters"),
    ],
)
def test_bad_answers_change_nothing_and_say_why(client, invitation, data, message):
    client.force_login(invitation.educator)
    response = client.post(reverse("insights:survey", args=[invitation.token]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SurveyResponse.objects.exists()
    invitation.refresh_from_db()
    assert invitation.responded_at is None


def test_a_survey_about_a_revoked_credential_is_closed(client, invitation, issuer_admin):
    credentials.revoke(issuer_admin, invitation.credential, "Issued in error.")
    client.force_login(invitation.educator)
    url = reverse("insights:survey", args=[invitation.token])
    assert "This survey is closed" in client.get(url).content.decode()
    assert client.post(url, ALL_AGREE).status_code == 409
    assert not SurveyResponse.objects.exists()
    assert invitation.token not in [i.token for i in surveys.open_invitations(invitation.educator)]


def test_my_surveys_lists_the_open_ones(client, invitation, make_user, org_tree):
    client.force_login(invitation.educator)
    url = reverse("insights:surveys")
    body = client.get(url).content.decode()
    assert reverse("insights:survey", args=[invitation.token]) in body
    client.post(reverse("insights:survey", args=[invitation.token]), ALL_AGREE)
    body = client.get(url).content.decode()
    assert reverse("insights:survey", args=[invitation.token]) not in body
    assert "You answered 1 survey" in body
    client.force_login(make_user(Role.EARNER, org_tree["school1"]))
    assert "No survey is waiting for you" in client.get(url).content.decode()


# ---------------------------------------------------------------------------- results
def answer(invitation: SurveyInvitation, *ratings: int | None) -> None:
    surveys.respond(
        invitation.educator, invitation, dict(zip(range(1, 6), ratings, strict=True)), ""
    )


@pytest.fixture
def six_answers(issued, make_earner, make_assessor):
    """Six educators answered after their award: level 1 rated by all six, level 2 by three,
    level 5 "doesn't apply" for all."""
    invitations = []
    for n in range(6):
        make_assessor()  # each assessor's capacity is small
        credential = issued(make_earner(email=f"earner-{n}@example.org"))
        surveys.invite_after_award(credential.pk)
        invitations.append(SurveyInvitation.objects.get(credential=credential))
    for n, invitation in enumerate(invitations):
        answer(invitation, [5, 4, 4, 3, 2, 5][n], 4 if n < 3 else None, 3, 4, None)
    return invitations


def test_level_summary_counts_means_and_agreement_in_one_query(
    six_answers, org_tree, django_assert_num_queries
):
    with django_assert_num_queries(1):
        summary = surveys.level_summary(None)
    assert [(s.level, s.wave) for s in summary] == [
        (level, wave) for level in range(1, 6) for wave in ("after_award", "follow_up")
    ]
    by = {(s.level, s.wave): s for s in summary}
    first = by[(1, "after_award")]
    assert first.n == 6 and first.mean == round(23 / 6, 2)
    assert first.agree_share == pytest.approx(4 / 6)
    assert first.explanation == ""
    # Three ratings: too few to show, and it says why.
    small = by[(2, "after_award")]
    assert small.suppressed and small.mean is None and small.agree_share is None
    assert "Fewer than 5 answers" in small.explanation
    # Nobody rated level 5: no division by zero, an explanation instead.
    none_rated = by[(5, "after_award")]
    assert none_rated.n == 0 and none_rated.does_not_apply == 6 and none_rated.mean is None
    assert "does not apply" in none_rated.explanation
    assert by[(1, "follow_up")].explanation == "No answers yet."
    # Scoped to the other district: nothing.
    assert all(s.n == 0 for s in surveys.level_summary([org_tree["lea2"].pk]))
    assert surveys.level_summary([org_tree["lea1"].pk])[0].n == 6
    assert surveys.level_summary([org_tree["school1"].pk])[0].n == 6
    version_id = six_answers[0].version_id
    assert surveys.level_summary(None, version_ids=[version_id + 1000])[0].n == 0
    assert surveys.level_summary(None, version_ids=[version_id])[0].n == 6


def test_level_summary_over_no_data_divides_by_nothing(db):
    summary = surveys.level_summary(None)
    assert len(summary) == 10
    assert all(s.mean is None and s.explanation == "No answers yet." for s in summary)


def test_the_results_template_draws_a_table_and_a_chart(six_answers):
    html = render_to_string(
        "insights/surveys/_results.html", {"survey_levels": surveys.level_summary(None)}
    )
    assert '<canvas data-chart="survey-levels-chart"' in html
    data = re.search(
        r'<script id="survey-levels-chart" type="application/json">(.*?)</script>', html, re.S
    )
    assert data is not None
    chart = json.loads(data.group(1))
    assert chart["type"] == "bar" and chart["unit"] == "%"
    assert chart["labels"][0] == "1. Reactions" and len(chart["labels"]) == 5
    assert [d["label"] for d in chart["datasets"]] == ["After award", "Follow-up"]
    assert chart["datasets"][0]["data"] == [66.7, None, 0.0, 100.0, None]
    assert chart["datasets"][1]["data"] == [None] * 5
    assert "<caption" in html and "Fewer than 5" in html and "67%" in html
    assert "No answers yet." in html and "3.8" in html

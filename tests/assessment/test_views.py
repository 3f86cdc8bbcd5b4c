"""Assessment pages over HTTP: who may open each, blindness, scoring, declining, profiles."""

from __future__ import annotations

import pytest
from django.urls import reverse

from microcred.assessment import selectors, services
from microcred.assessment.models import AssessorProfile, Assignment, DeclaredConflict, Score
from microcred.earning.models import Submission
from microcred.orgs.models import Role
from tests.assessment.helpers import assert_blind, component_ids, signed_in

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-1"


def _form_data(version, total_per_component=5, **changes):
    data = {"overall_feedback": "Strong, specific evidence.", "minutes_spent": "35"}
    for component in component_ids(version):
        criteria = [c.pk for c in component.criteria.order_by("order")][:total_per_component]
        data[f"component_{component.pk}"] = [str(pk) for pk in criteria]
        data[f"feedback_{component.pk}"] = f"Feedback on {component.title}"
    data.update(changes)
    return data


# ---------------------------------------------------------------------------- the queue
def test_queue_is_blind(client, assigned):
    response = signed_in(client, assigned.assessor.user).get(reverse("assessment:queue"))
    html = response.content.decode()
    assert response.status_code == 200
    assert selectors.submission_code(assigned.submission) in html
    assert "Collaborative Leadership Coaching" in html
    assert_blind(html, assigned.submission)


def test_queue_refuses_people_without_a_profile(client, make_earner):
    assert signed_in(client, make_earner()).get(reverse("assessment:queue")).status_code == 403


def test_queue_needs_sign_in(client):
    response = client.get(reverse("assessment:queue"))
    assert response.status_code == 302 and "login" in response["Location"]


# ---------------------------------------------------------------------------- scoring page
def test_evidence_without_its_clean_copy_yet_is_shown_as_being_prepared(client, assigned):
    """Until the worker has stripped a video's metadata, the assessor is told it is being
    prepared and gets no link at all, never one to the original (invariant 2)."""
    from microcred.earning.models import Upload

    uploads = Upload.objects.filter(artifact__evidence__attempt=assigned.submission.attempt)
    originals = list(uploads.values_list("key", flat=True))
    uploads.update(blind_key="", blind_type="", probe_status=Upload.ProbeStatus.PENDING)
    url = reverse("assessment:score", args=[assigned.pk])
    html = signed_in(client, assigned.assessor.user).get(url).content.decode()
    assert "This file is being prepared" in html
    assert "<video" not in html and "/evidence/files/" not in html
    assert originals and not any(key in html for key in originals)


def test_scoring_page_shows_evidence_beside_rubric_blind(client, assigned):
    url = reverse("assessment:score", args=[assigned.pk])
    response = signed_in(client, assigned.assessor.user).get(url)
    html = response.content.decode()

    assert response.status_code == 200
    assert "I coached my mentee weekly." in html  # the written parts
    assert "<video" in html and "/evidence/files/?token=" in html  # a signed link
    assert 'data-seconds="195"' in html and "Outcome-based talk" in html  # the marks
    assert "data-mark-filter" in html
    assert html.count('type="checkbox"') == 20  # every detail of the rubric
    assert 'name="minutes_spent"' in html
    assert_blind(html, assigned.submission)
    # Opening it starts scoring: the earner can no longer withdraw.
    assigned.submission.refresh_from_db()
    assert assigned.submission.status == Submission.Status.IN_SCORING


def test_another_assessor_gets_404_on_the_scoring_page(client, assigned, make_assessor):
    other = make_assessor()
    url = reverse("assessment:score", args=[assigned.pk])
    assert signed_in(client, other.user).get(url).status_code == 404
    assert signed_in(client, other.user).post(url, {}).status_code == 404
    assert not Score.objects.exists()


def test_posting_the_rubric_scores_it(client, assigned, version):
    url = reverse("assessment:score", args=[assigned.pk])
    data = _form_data(version, total_per_component=4)  # 16 points
    response = signed_in(client, assigned.assessor.user).post(url, data)

    assert response.status_code == 302
    score = Score.objects.get()
    assert (score.total_points, score.band.label, score.minutes_spent) == (16, "Yes", 35)

    # The same post again (a double click): a clear message, nothing changes.
    again = client.post(url, data, follow=True)
    assert "closed" in again.content.decode()
    assert Score.objects.count() == 1
    # The closed assignment shows the score it got.
    page = client.get(url).content.decode()
    assert "16 of 20 points: Yes" in page


def test_missing_feedback_is_named_and_nothing_is_saved(client, assigned, version):
    first = component_ids(version)[0]
    url = reverse("assessment:score", args=[assigned.pk])
    data = _form_data(version, **{f"feedback_{first.pk}": "", "overall_feedback": ""})
    response = signed_in(client, assigned.assessor.user).post(url, data)
    html = response.content.decode()

    assert response.status_code == 200
    assert f"Write feedback for “{first.title}”" in html
    assert "Write overall feedback for the earner." in html
    assert "checked" in html  # the checked details stay checked
    assert not Score.objects.exists()
    assigned.refresh_from_db()
    assert assigned.status == Assignment.Status.ASSIGNED


def test_decline_from_the_page_passes_it_on(client, assigned, make_assessor):
    other = make_assessor()
    url = reverse("assessment:decline", args=[assigned.pk])
    response = signed_in(client, assigned.assessor.user).post(url, {"reason": "I know her"})
    assert response.status_code == 302
    assert Assignment.objects.get(status=Assignment.Status.ASSIGNED).assessor == other


def test_decline_without_reason_changes_nothing(client, assigned):
    url = reverse("assessment:decline", args=[assigned.pk])
    response = signed_in(client, assigned.assessor.user).post(url, {"reason": ""}, follow=True)
    assert "Say briefly why you decline" in response.content.decode()
    assigned.refresh_from_db()
    assert assigned.status == Assignment.Status.ASSIGNED


def test_another_assessor_cannot_decline(client, assigned, make_assessor):
    other = make_assessor()
    url = reverse("assessment:decline", args=[assigned.pk])
    assert signed_in(client, other.user).post(url, {"reason": "x"}).status_code == 404
    assigned.refresh_from_db()
    assert assigned.status == Assignment.Status.ASSIGNED


# ---------------------------------------------------------------------------- my page
def test_assessor_pauses_and_resumes(client, make_assessor):
    profile = make_assessor()
    c = signed_in(client, profile.user)
    assert c.get(reverse("assessment:me")).status_code == 200
    c.post(reverse("assessment:pause"), {"paused": "1"})
    profile.refresh_from_db()
    assert profile.active is False
    c.post(reverse("assessment:pause"), {"paused": "0"})
    profile.refresh_from_db()
    assert profile.active is True


def test_my_page_and_pause_refuse_others(client, make_earner):
    c = signed_in(client, make_earner())
    assert c.get(reverse("assessment:me")).status_code == 403
    assert c.post(reverse("assessment:pause"), {"paused": "1"}).status_code == 403


def test_declaring_conflicts(client, make_assessor, make_earner, org_tree):
    profile = make_assessor()
    earner = make_earner()
    c = signed_in(client, profile.user)
    url = reverse("assessment:me")

    c.post(url, {"email": earner.email.upper(), "reason": "My sister"})
    c.post(url, {"organization": org_tree["lea2"].pk, "reason": "I consult there"})
    assert {(d.user, d.organization) for d in DeclaredConflict.objects.all()} == {
        (earner, None),
        (None, org_tree["lea2"]),
    }

    bad = c.post(url, {"email": "nobody@example.net", "reason": "x"}).content.decode()
    assert "No one with the email address nobody@example.net" in bad
    empty = c.post(url, {"reason": "x"}).content.decode()
    assert "Give the person&#x27;s email address or choose an organization." in empty
    both = c.post(url, {"email": earner.email, "organization": org_tree["lea1"].pk, "reason": "x"})
    assert "Give either a person or an organization, not both." in both.content.decode()
    no_reason = c.post(url, {"email": earner.email}).content.decode()
    assert "This field is required." in no_reason
    assert DeclaredConflict.objects.count() == 2


# ---------------------------------------------------------------------------- scoring leads
@pytest.mark.parametrize("who", ["lead", "state_admin"])
def test_leads_and_state_admins_manage_assessors(client, who, lead, make_user, org_tree, version):
    manager = lead if who == "lead" else make_user(Role.PROGRAM_ADMIN, org_tree["state"])
    person = make_user(Role.ASSESSOR, org_tree["assess"], first_name="Ada")
    c = signed_in(client, manager)
    assert c.get(reverse("assessment:profiles")).status_code == 200

    response = c.post(
        reverse("assessment:profile_new"),
        {
            "user": person.pk,
            "home_organization": org_tree["assess"].pk,
            "qualified_micro_credentials": [version.micro_credential_id],
            "weekly_capacity": "4",
            "pay_rate": "75.00",
            "active": "on",
            "calibration": "calibrated",
        },
    )
    assert response.status_code == 302
    profile = AssessorProfile.objects.get(user=person)
    assert list(profile.qualified_micro_credentials.all()) == [version.micro_credential]

    edit = reverse("assessment:profile_edit", args=[profile.pk])
    bad = c.post(
        edit,
        {
            "home_organization": org_tree["assess"].pk,
            "weekly_capacity": "0",
            "pay_rate": "1",
            "calibration": "calibrated",
        },
    )
    assert bad.status_code == 200
    assert "greater than or equal to 1" in bad.content.decode()
    profile.refresh_from_db()
    assert profile.weekly_capacity == 4


def test_assessors_and_district_admins_cannot_manage_assessors(
    client, make_assessor, make_user, org_tree
):
    for user in (make_assessor().user, make_user(Role.PROGRAM_ADMIN, org_tree["lea1"])):
        c = signed_in(client, user)
        assert c.get(reverse("assessment:profiles")).status_code == 403
        assert c.get(reverse("assessment:profile_new")).status_code == 403
        assert c.get(reverse("assessment:unassigned")).status_code == 403


def test_unassigned_list_gives_the_reason_and_retries(client, lead, make_submission, make_assessor):
    submission = make_submission()
    assert services.assign(submission) is None
    c = signed_in(client, lead)
    html = c.get(reverse("assessment:unassigned")).content.decode()
    assert "No assessor is trained for this micro-credential." in html
    assert selectors.submission_code(submission) in html

    profile = make_assessor()
    c.post(reverse("assessment:assign_now", args=[submission.pk]))
    assert Assignment.objects.get(submission=submission).assessor == profile
    after = c.get(reverse("assessment:unassigned")).content.decode()
    assert f"Try to assign {selectors.submission_code(submission)}" not in after
    assert "Every submission has an assessor." in after


def test_assign_now_refuses_non_leads(client, make_assessor, make_submission):
    submission = make_submission()
    profile = make_assessor(qualified=False)
    response = signed_in(client, profile.user).post(
        reverse("assessment:assign_now", args=[submission.pk])
    )
    assert response.status_code == 403
    assert not Assignment.objects.exists()


def test_an_assessor_without_a_profile_is_told_what_happens_next(client, make_user, org_tree):
    person = make_user(Role.ASSESSOR, org_tree["assess"])
    response = signed_in(client, person).get(reverse("assessment:queue"))
    assert response.status_code == 200
    assert "Your assessor profile is not set up yet." in response.content.decode()
    assert client.get(reverse("assessment:me")).status_code == 403


def test_a_declined_assignment_no_longer_shows_the_evidence(client, assigned, make_assessor):
    make_assessor()
    user = assigned.assessor.user
    services.decline(assigned, assessor=user, reason="I know this teacher")
    response = signed_in(client, user).get(reverse("assessment:score", args=[assigned.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "This assignment is closed (declined)" in html
    assert "I coached my mentee weekly." not in html and "<video" not in html
    assert "Send the score" not in html


def test_a_forged_detail_id_is_refused_by_the_form(client, assigned, version):
    first = component_ids(version)[0]
    url = reverse("assessment:score", args=[assigned.pk])
    data = _form_data(version, **{f"component_{first.pk}": ["abc", "999999"]})
    response = signed_in(client, assigned.assessor.user).post(url, data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Score.objects.exists()

"""Calibration pages over HTTP: an earner's consent, calibration sets and anchors for scoring
leads, rounds started by a lead or the assessor, scored on the ordinary scoring page, and the
qualifications they earn."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from microcred.assessment import anchors, calibration, selectors, services
from microcred.assessment.models import (
    AnchorConsent,
    AssessorProfile,
    Assignment,
    CalibrationAnchor,
    CalibrationRound,
    CalibrationSet,
    Qualification,
    ScoringPolicy,
)
from microcred.earning.models import Attempt, Submission
from microcred.orgs.models import AuditEvent
from tests.assessment.helpers import (
    assert_blind,
    component_ids,
    fill_portfolio,
    points_for,
    score_at,
    set_policy,
    signed_in,
)

pytestmark = pytest.mark.django_db

# Master points per component of five anchors: passing (16+) and failing ones.
MASTERS = ((4, 4, 4, 4), (5, 5, 5, 5), (3, 3, 3, 3), (2, 2, 2, 2), (5, 4, 4, 4))


@pytest.fixture
def scorer(make_assessor) -> AssessorProfile:
    """A qualified assessor who decides the submissions that become anchors."""
    return make_assessor(weekly_capacity=50)


@pytest.fixture
def decided(scorer, make_submission, version) -> Callable[..., Submission]:
    """decided(total=17): a real submission scored live and decided."""

    def make(total: int = 17) -> Submission:
        submission = make_submission()
        assignment = services.assign(submission)
        assert assignment is not None and assignment.assessor == scorer
        score_at(assignment, total, overall_feedback="Decided for the test.", minutes_spent=20)
        submission.refresh_from_db()
        assert submission.status == Submission.Status.DECIDED
        return submission

    return make


@pytest.fixture
def consented(decided) -> Callable[..., Submission]:
    def make(total: int = 17) -> Submission:
        submission = decided(total)
        anchors.give_consent(submission, user=submission.attempt.earner)
        return submission

    return make


@pytest.fixture
def ready_set(consented, lead, version) -> CalibrationSet:
    calibration_set = anchors.create_set(actor=lead, title="Coaching anchors", version=version)
    for points in MASTERS:
        anchors.add_anchor(
            calibration_set,
            actor=lead,
            submission=consented(sum(points)),
            points=points_for(version, points),
            rationale=f"Master rationale {sum(points)}.",
        )
    return calibration_set


def _anchor_form(version, submission, per_component, rationale="Clear evidence of each step."):
    data = {"submission": str(submission.pk) if submission else "", "rationale": rationale}
    for component, n in zip(component_ids(version), per_component, strict=True):
        data[f"component_{component.pk}"] = str(n)
    return data


def _score_form(version, per_component: Sequence[int]) -> dict[str, object]:
    data: dict[str, object] = {"overall_feedback": "Calibration read.", "minutes_spent": "25"}
    for component, n in zip(component_ids(version), per_component, strict=True):
        data[f"component_{component.pk}"] = [
            str(c.pk) for c in component.criteria.order_by("order")[:n]
        ]
        data[f"feedback_{component.pk}"] = f"About {component.title}."
    return data


# ---------------------------------------------------------------------------- consent
def _consent_url(submission: Submission) -> str:
    return reverse("assessment:anchor_consent", args=[submission.uuid])


def test_the_consent_page_says_what_sharing_means(client, decided):
    submission = decided()
    html = signed_in(client, submission.attempt.earner).get(_consent_url(submission)).content
    text = html.decode()
    assert "never see your name, your school or your district" in text
    assert "cleaned copies of your files" in text
    assert "Share it for assessor training" in text


def test_an_earner_gives_and_withdraws_consent_once_each(client, decided):
    submission = decided()
    earner = submission.attempt.earner
    url = _consent_url(submission)
    c = signed_in(client, earner)

    assert c.post(url, {"consent": "give"}).status_code == 302
    c.post(url, {"consent": "give"})  # twice: nothing more happens
    consent = AnchorConsent.objects.get()
    assert (consent.submission, consent.given_by, consent.withdrawn_at) == (
        submission,
        earner,
        None,
    )
    assert AuditEvent.objects.filter(action="anchor_consent.given").count() == 1
    assert "Withdraw my consent" in c.get(url).content.decode()

    c.post(url, {"consent": "withdraw"})
    c.post(url, {"consent": "withdraw"})
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert AuditEvent.objects.filter(action="anchor_consent.withdrawn").count() == 1
    assert anchors.current_consent(submission) is None


def test_someone_elses_submission_is_not_found_and_nothing_changes(
    client, decided, make_earner, scorer
):
    submission = decided()
    url = _consent_url(submission)
    for outsider in (make_earner(first_name="Other"), scorer.user):
        c = signed_in(client, outsider)
        assert c.get(url).status_code == 404
        assert c.post(url, {"consent": "give"}).status_code == 404
    assert not AnchorConsent.objects.exists()


def test_an_undecided_submission_cannot_be_shared(client, make_submission):
    submission = make_submission()
    c = signed_in(client, submission.attempt.earner)
    assert "once it has been decided" in c.get(_consent_url(submission)).content.decode()
    response = c.post(_consent_url(submission), {"consent": "give"}, follow=True)
    assert "once it has been decided" in response.content.decode()
    assert not AnchorConsent.objects.exists()


def test_the_consent_page_needs_sign_in(client, decided):
    response = client.get(_consent_url(decided()))
    assert response.status_code == 302 and "login" in response["Location"]


# ---------------------------------------------------------------------------- who sees the sets
def test_only_scoring_leads_see_calibration_sets(client, lead, trainee, decided, ready_set):
    url = reverse("assessment:calibration_sets")
    page = signed_in(client, lead).get(url)
    assert page.status_code == 200 and "Coaching anchors" in page.content.decode()
    assert signed_in(client, lead).get(ready_set_url(ready_set)).status_code == 200
    earner = decided().attempt.earner
    for someone in (trainee.user, earner):
        c = signed_in(client, someone)
        assert c.get(url).status_code == 403
        assert c.get(ready_set_url(ready_set)).status_code == 403
        assert c.post(url, {"title": "Mine", "version": ready_set.version_id}).status_code == 403
        retire = reverse("assessment:calibration_set_retire", args=[ready_set.pk])
        assert c.post(retire).status_code == 403
    assert CalibrationSet.objects.count() == 1
    ready_set.refresh_from_db()
    assert ready_set.active


def ready_set_url(calibration_set: CalibrationSet) -> str:
    return reverse("assessment:calibration_set", args=[calibration_set.pk])


# ---------------------------------------------------------------------------- sets and anchors
def test_creating_a_set_names_each_missing_field(client, lead, version):
    c = signed_in(client, lead)
    response = c.post(reverse("assessment:calibration_sets"), {"title": "  ", "version": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Give the set a title" in html
    assert "Choose a published micro-credential version." in html
    assert not CalibrationSet.objects.exists()

    response = c.post(
        reverse("assessment:calibration_sets"), {"title": "Anchors", "version": version.pk}
    )
    created = CalibrationSet.objects.get()
    assert response["Location"] == ready_set_url(created)
    assert (created.title, created.version, created.created_by) == ("Anchors", version, lead)
    assert AuditEvent.objects.filter(
        action="calibration_set.created", target_id=str(created.pk)
    ).exists()


def test_the_anchor_choice_shows_codes_and_bands_never_names(
    client, lead, version, consented, decided
):
    shared = consented(17)
    unshared = decided(12)
    withdrawn = consented(9)
    anchors.withdraw_consent(withdrawn, user=withdrawn.attempt.earner)
    calibration_set = anchors.create_set(actor=lead, title="Anchors", version=version)

    html = signed_in(client, lead).get(ready_set_url(calibration_set)).content.decode()

    assert f"{selectors.submission_code(shared)}: decided Yes, 17 points" in html
    assert selectors.submission_code(unshared) not in html
    assert selectors.submission_code(withdrawn) not in html
    assert "needs 5 more anchors" in html
    assert_blind(html, shared)


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ((6, 4, 4, 4), "enter between 0 and its maximum of 5 points"),
        (("four", 4, 4, 4), "enter the master's points, a whole number"),
        (("", 4, 4, 4), "enter the master's points, a whole number"),
        ((-1, 4, 4, 4), "enter between 0 and its maximum of 5 points"),
    ],
)
def test_master_points_the_rubric_cannot_give_are_refused(
    client, lead, version, consented, points, message
):
    submission = consented()
    calibration_set = anchors.create_set(actor=lead, title="Anchors", version=version)
    first = component_ids(version)[0].title

    response = signed_in(client, lead).post(
        ready_set_url(calibration_set), _anchor_form(version, submission, points)
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert f"“{first}”: {message}".replace("'", "&#x27;") in html
    assert not CalibrationAnchor.objects.exists()
    assert not AuditEvent.objects.filter(action="calibration_anchor.added").exists()


def test_an_anchor_needs_a_shared_submission_and_a_rationale(
    client, lead, version, decided, consented
):
    calibration_set = anchors.create_set(actor=lead, title="Anchors", version=version)
    consented()  # something to choose, so the form is shown
    c = signed_in(client, lead)
    response = c.post(
        ready_set_url(calibration_set), _anchor_form(version, None, (4, 4, 4, 4), rationale=" ")
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Say why these are the right points" in html
    assert "Choose a decided submission of this version whose earners agreed to share it" in html
    # A submission nobody agreed to share (a forged choice) is refused like a stale one.
    unshared = c.post(
        ready_set_url(calibration_set), _anchor_form(version, decided(), (4, 4, 4, 4))
    )
    assert unshared.status_code == 400
    assert "That choice is no longer available" in unshared.content.decode()
    assert not CalibrationAnchor.objects.exists()


def test_a_valid_anchor_gets_its_master_total_and_band(client, lead, version, consented):
    submission = consented(17)
    calibration_set = anchors.create_set(actor=lead, title="Anchors", version=version)

    response = signed_in(client, lead).post(
        ready_set_url(calibration_set), _anchor_form(version, submission, (5, 4, 3, 3))
    )

    assert response.status_code == 302
    anchor = CalibrationAnchor.objects.get()
    assert (anchor.submission, anchor.master_total, anchor.master_band.label) == (
        submission,
        15,
        "Almost",
    )
    assert anchor.master_passed is False
    assert anchor.source == CalibrationAnchor.Source.CONSENTED
    assert sorted(anchor.master_components.values_list("points", flat=True)) == [3, 3, 4, 5]
    assert AuditEvent.objects.filter(
        action="calibration_anchor.added", target_id=str(anchor.pk)
    ).exists()
    html = client.get(ready_set_url(calibration_set)).content.decode()
    assert "15 points, Almost" in html and "needs 4 more anchors" in html


def test_an_anchor_is_removed_only_while_no_round_used_it(client, lead, ready_set, trainee):
    first, second = ready_set.anchors.order_by("pk")[:2]
    c = signed_in(client, lead)
    c.post(reverse("assessment:calibration_anchor_remove", args=[first.pk]))
    assert not CalibrationAnchor.objects.filter(pk=first.pk).exists()
    assert AuditEvent.objects.filter(action="calibration_anchor.removed").count() == 1

    ScoringPolicy.objects.create(
        micro_credential=ready_set.version.micro_credential, calibration_min_anchors=4
    )
    calibration.start_round(trainee, ready_set, actor=lead)
    response = c.post(
        reverse("assessment:calibration_anchor_remove", args=[second.pk]), follow=True
    )
    assert "Assessors have already scored this anchor" in response.content.decode()
    assert CalibrationAnchor.objects.filter(pk=second.pk).exists()


def test_a_retired_set_starts_no_round(client, lead, ready_set, trainee):
    signed_in(client, lead).post(reverse("assessment:calibration_set_retire", args=[ready_set.pk]))
    ready_set.refresh_from_db()
    assert not ready_set.active
    assert AuditEvent.objects.filter(action="calibration_set.retired").count() == 1

    c = signed_in(client, trainee.user)
    assert (
        "No calibration set is ready"
        in c.get(reverse("assessment:my_calibration")).content.decode()
    )
    response = c.post(reverse("assessment:my_calibration"), {"calibration_set": ready_set.pk})
    assert response.status_code == 400
    assert not CalibrationRound.objects.exists()


# ---------------------------------------------------------------------------- rounds
def test_an_untrained_assessor_cannot_start_a_round(client, make_assessor, ready_set):
    outsider = make_assessor(qualified=False)
    c = signed_in(client, outsider.user)
    response = c.post(reverse("assessment:my_calibration"), {"calibration_set": ready_set.pk})
    assert response.status_code == 400
    assert not CalibrationRound.objects.exists()
    with pytest.raises(ValidationError, match="not trained"):
        anchors.start_round(outsider, ready_set, actor=outsider.user)


def test_my_calibration_refuses_people_without_a_profile(client, make_earner):
    response = signed_in(client, make_earner()).get(reverse("assessment:my_calibration"))
    assert response.status_code == 403


def test_an_assessor_qualifies_through_a_round_on_the_scoring_pages(
    client, trainee, ready_set, version, make_assessor, lead
):
    c = signed_in(client, trainee.user)
    my_page = c.get(reverse("assessment:my_calibration")).content.decode()
    assert "Coaching anchors" in my_page

    response = c.post(reverse("assessment:my_calibration"), {"calibration_set": ready_set.pk})
    assert response.status_code == 302 and response["Location"] == reverse("assessment:queue")
    calibration_round = CalibrationRound.objects.get(assessor=trainee)
    queue = c.get(reverse("assessment:queue")).content.decode()
    assert queue.count("<td>Calibration</td>") == len(MASTERS)

    results = reverse("assessment:calibration_round", args=[calibration_round.pk])
    # Before the end: progress only, never the masters.
    before = c.get(results).content.decode()
    assert "0 of 5 submissions scored" in before and "Master rationale" not in before

    masters = {
        a.pk: [m.points for m in a.master_components.order_by("rubric_component__order")]
        for a in ready_set.anchors.all()
    }
    for assignment in calibration_round.assignments.all():
        page = c.get(reverse("assessment:score", args=[assignment.pk]))
        assert page.status_code == 200
        assert_blind(page.content.decode(), assignment.submission)
        sent = c.post(
            reverse("assessment:score", args=[assignment.pk]),
            _score_form(version, masters[assignment.anchor_id]),
        )
        assert sent.status_code == 302

    calibration_round.refresh_from_db()
    assert calibration_round.passed is True
    qualification = Qualification.objects.get(assessor=trainee)
    assert qualification.source == Qualification.Source.CALIBRATION
    after = c.get(results).content.decode()
    assert "Passed" in after
    assert "100% of submissions; at least 80% needed" in after
    assert "100% of components; at least 80% needed" in after
    assert "Master rationale 16." in after
    assert "Passed calibration" in c.get(reverse("assessment:my_calibration")).content.decode()

    # The lead sees it too; another assessor does not.
    assert signed_in(client, lead).get(results).status_code == 200
    assert signed_in(client, make_assessor().user).get(results).status_code == 404


def test_a_lead_starts_a_round_for_an_assessor(client, lead, trainee, ready_set):
    url = reverse("assessment:qualifications", args=[trainee.pk])
    c = signed_in(client, lead)
    assert "Coaching anchors" in c.get(url).content.decode()
    response = c.post(url, {"action": "round", "calibration_set": ready_set.pk})
    assert response.status_code == 302
    calibration_round = CalibrationRound.objects.get()
    assert calibration_round.assessor == trainee
    assert set(calibration_round.assignments.values_list("purpose", flat=True)) == {
        Assignment.Purpose.CALIBRATION
    }
    # A second one on the same set is refused with the reason, nothing added.
    again = c.post(url, {"action": "round", "calibration_set": ready_set.pk})
    assert again.status_code == 400
    assert CalibrationRound.objects.count() == 1


# ---------------------------------------------------------------------------- qualifications
def test_qualifications_page_is_for_leads_only(client, lead, trainee, make_earner):
    url = reverse("assessment:qualifications", args=[trainee.pk])
    assert signed_in(client, lead).get(url).status_code == 200
    assert signed_in(client, trainee.user).get(url).status_code == 403
    assert signed_in(client, make_earner()).get(url).status_code == 403
    response = signed_in(client, trainee.user).post(
        url,
        {
            "action": "attest",
            "micro_credential": trainee.qualified_micro_credentials.get().pk,
            "note": "Me.",
        },
    )
    assert response.status_code == 403
    assert not Qualification.objects.exists()


def test_a_lead_attests_with_a_note_where_no_anchors_exist(client, lead, trainee, version):
    url = reverse("assessment:qualifications", args=[trainee.pk])
    c = signed_in(client, lead)
    mc = version.micro_credential
    response = c.post(url, {"action": "attest", "micro_credential": mc.pk, "note": "  "})
    assert response.status_code == 400
    assert "Say why you attest this assessor" in response.content.decode()
    assert not Qualification.objects.exists()

    c.post(url, {"action": "attest", "micro_credential": mc.pk, "note": "Scored our pilot."})
    qualification = Qualification.objects.get()
    assert (qualification.source, qualification.note) == ("attested", "Scored our pilot.")
    html = c.get(url).content.decode()
    assert "Attested by a scoring lead: Scored our pilot." in html


def test_attesting_is_refused_once_a_set_is_ready(client, lead, trainee, ready_set, version):
    url = reverse("assessment:qualifications", args=[trainee.pk])
    response = signed_in(client, lead).post(
        url, {"action": "attest", "micro_credential": version.micro_credential.pk, "note": "Ok."}
    )
    assert response.status_code == 400
    assert not Qualification.objects.filter(assessor=trainee).exists()


def test_a_withdrawn_consent_leaves_its_anchor_out_of_new_rounds(client, lead, ready_set):
    anchor = ready_set.anchors.select_related("submission__attempt").first()
    earner = anchor.submission.attempt.earner
    signed_in(client, earner).post(_consent_url(anchor.submission), {"consent": "withdraw"})

    assert anchors.anchors_needed(ready_set) == 1
    html = signed_in(client, lead).get(ready_set_url(ready_set)).content.decode()
    assert "consent withdrawn: left out of new rounds" in html
    assert "needs 1 more anchor" in html
    other = anchors.create_set(actor=lead, title="Another", version=ready_set.version)
    with pytest.raises(ValidationError) as caught:
        anchors.add_anchor(
            other,
            actor=lead,
            submission=anchor.submission,
            points=points_for(ready_set.version, (4, 4, 4, 4)),
            rationale="Still a good example.",
        )
    assert "submission" in caught.value.message_dict
    assert not other.anchors.exists()


# ---------------------------------------------------------------------------- written anchors
def _write_url(calibration_set: CalibrationSet) -> str:
    return reverse("assessment:calibration_anchor_write", args=[calibration_set.pk])


def _write_and_submit(c, calibration_set: CalibrationSet, lead) -> Submission:
    """Click "Write an anchor", write the evidence, submit it on the attempt page."""
    response = c.post(_write_url(calibration_set))
    attempt = Attempt.objects.get(
        purpose=Attempt.Purpose.CALIBRATION, status=Attempt.Status.IN_PROGRESS
    )
    assert response["Location"] == reverse("earning:attempt", args=[attempt.uuid])
    fill_portfolio(attempt, lead)
    assert c.post(reverse("earning:submit", args=[attempt.uuid])).status_code == 302
    return Submission.objects.get(attempt=attempt)


def test_only_scoring_leads_write_anchors(client, lead, trainee, make_earner, version):
    calibration_set = anchors.create_set(actor=lead, title="Anchors", version=version)
    for someone in (trainee.user, make_earner()):
        assert signed_in(client, someone).post(_write_url(calibration_set)).status_code == 403
    assert not Attempt.objects.exists()
    assert signed_in(client, lead).get(_write_url(calibration_set)).status_code == 405


def test_writing_goes_back_to_the_anchor_being_written(client, lead, version):
    calibration_set = anchors.create_set(actor=lead, title="Anchors", version=version)
    c = signed_in(client, lead)
    assert "Write an anchor" in c.get(ready_set_url(calibration_set)).content.decode()

    first = c.post(_write_url(calibration_set))
    attempt = Attempt.objects.get()
    page = c.get(ready_set_url(calibration_set)).content.decode()
    assert "go back to the anchor you started" in page
    assert reverse("earning:attempt", args=[attempt.uuid]) in page
    assert c.post(_write_url(calibration_set))["Location"] == first["Location"]
    assert Attempt.objects.count() == 1


def test_a_retired_set_takes_no_written_anchor(client, lead, version):
    calibration_set = anchors.create_set(actor=lead, title="Anchors", version=version)
    anchors.retire_set(calibration_set, actor=lead)
    response = signed_in(client, lead).post(_write_url(calibration_set), follow=True)
    assert "This set is retired" in response.content.decode()
    assert not Attempt.objects.exists()


def test_a_written_anchor_joins_a_set_and_a_round_on_it_qualifies(client, lead, trainee, version):
    set_policy(version, calibration_min_anchors=2)
    calibration_set = anchors.create_set(actor=lead, title="Written anchors", version=version)
    c = signed_in(client, lead)
    masters = ((5, 4, 4, 4), (3, 3, 3, 3))  # one passing, one not
    for per_component in masters:
        submission = _write_and_submit(c, calibration_set, lead)
        assert submission.status == Submission.Status.CALIBRATION
        assert not Assignment.objects.filter(submission=submission).exists()
        page = c.get(ready_set_url(calibration_set)).content.decode()
        assert f"{selectors.submission_code(submission)}: Written for calibration" in page
        added = c.post(
            ready_set_url(calibration_set),
            _anchor_form(version, submission, per_component, rationale="Written to show it."),
        )
        assert added.status_code == 302

    written = list(calibration_set.anchors.order_by("pk"))
    assert [a.source for a in written] == [CalibrationAnchor.Source.WRITTEN] * 2
    assert [(a.master_total, a.master_passed) for a in written] == [(17, True), (12, False)]
    assert not AnchorConsent.objects.exists()
    event = AuditEvent.objects.filter(action="calibration_anchor.added").first()
    assert event.data["source"] == "written"
    assert anchors.anchors_needed(calibration_set) == 0
    html = c.get(ready_set_url(calibration_set)).content.decode()
    assert html.count('<span class="tag">Written for calibration</span>') == 2

    t = signed_in(client, trainee.user)
    started = t.post(reverse("assessment:my_calibration"), {"calibration_set": calibration_set.pk})
    assert started.status_code == 302
    calibration_round = CalibrationRound.objects.get(assessor=trainee)
    by_anchor = {a.pk: per for a, per in zip(written, masters, strict=True)}
    for assignment in calibration_round.assignments.select_related("submission"):
        page = t.get(reverse("assessment:score", args=[assignment.pk])).content.decode()
        assert lead.email not in page and "Written for calibration" not in page
        t.post(
            reverse("assessment:score", args=[assignment.pk]),
            _score_form(version, by_anchor[assignment.anchor_id]),
        )

    calibration_round.refresh_from_db()
    assert calibration_round.passed is True
    qualification = Qualification.objects.get(assessor=trainee)
    assert qualification.source == Qualification.Source.CALIBRATION
    # Scored in a round, the written anchors are still never decided nor scored live.
    assert set(
        Submission.objects.filter(anchors__calibration_set=calibration_set).values_list(
            "status", flat=True
        )
    ) == {Submission.Status.CALIBRATION}
    assert not Assignment.objects.filter(purpose=Assignment.Purpose.LIVE).exists()

"""Reliability monitoring: pairs from anchor reads and double reads, the statistics on them, and
the drift sweep that flags, pauses and clears assessors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from microcred.assessment import monitoring
from microcred.assessment.models import (
    AssessorProfile,
    Assignment,
    CalibrationRound,
    DriftFlag,
    Qualification,
    Score,
)
from microcred.assessment.reliability import krippendorff_alpha, quadratic_weighted_kappa, severity
from microcred.catalog.models import MicroCredentialVersion
from microcred.notifications.models import Notification
from microcred.orgs.models import AuditEvent
from tests.assessment.helpers import (
    ANCHOR_MASTERS,
    component_ids,
    double_read,
    drift_reads,
    harsher,
    marks_for,
    record,
    score_round,
)

pytestmark = pytest.mark.django_db
FlagStatus = DriftFlag.Status
MASTERS = ANCHOR_MASTERS
SCALE = range(21)


def flag_of(profile: AssessorProfile, version: MicroCredentialVersion) -> DriftFlag:
    return DriftFlag.objects.get(assessor=profile, micro_credential=version.micro_credential)


def qualification_of(profile: AssessorProfile, version: MicroCredentialVersion) -> str:
    return Qualification.objects.get(
        assessor=profile, micro_credential=version.micro_credential
    ).status


# ---------------------------------------------------------------------------- pairs
def test_anchor_reads_pair_with_the_master_total_and_components(
    drift_policy, anchor_set, make_assessor, version
):
    profile = make_assessor()
    calibration_set = anchor_set((17, 9))
    scores = drift_reads(profile, calibration_set, lambda master: master - 2)

    found = monitoring.pairs()

    assert [(p.rater, p.reference, p.source, p.assessor_id) for p in found] == [
        (15, 17, "anchor", profile.pk),
        (7, 9, "anchor", profile.pk),
    ]
    components = [c.pk for c in component_ids(version)]
    # marks_for fills components in order (5 points each): 15 = 5+5+5+0 against 17 = 5+5+5+2.
    assert found[0].components == tuple(zip(components, (5, 5, 5, 0), (5, 5, 5, 2), strict=True))
    assert found[0].at == scores[0].submitted_at
    assert {p.micro_credential_id for p in found} == {version.micro_credential_id}


def test_a_double_read_pairs_each_reader_with_the_other_counting_once_for_the_mc(
    drift_policy, submissions, make_assessor
):
    first, second = make_assessor(), make_assessor()
    submission, unpaired = submissions(2)
    double_read(submission, first, second, (16, 13))
    # Only a first read so far: no partner yet, no pair.
    record(
        Assignment.objects.create(submission=unpaired, assessor=first, due_at=timezone.now()), 12
    )

    found = monitoring.pairs()

    assert sorted((p.assessor_id, p.rater, p.reference, p.counts_for_mc) for p in found) == sorted(
        [(first.pk, 16, 13, True), (second.pk, 13, 16, False)]
    )
    assert {p.source for p in found} == {"double"}
    own = monitoring.pairs(assessor=second)
    assert [(p.rater, p.reference) for p in own] == [(13, 16)]


def test_reads_older_than_the_window_are_left_out(drift_policy, anchor_set, make_assessor):
    profile = make_assessor()
    old, recent = drift_reads(profile, anchor_set((17, 9)), lambda master: master)
    Score.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - timedelta(days=400))

    assert [p.reference for p in monitoring.pairs()] == [recent.total_points]


# ---------------------------------------------------------------------------- statistics
def test_statistics_equal_the_reliability_functions_on_the_same_pairs(
    drift_policy, anchor_set, submissions, make_assessor, version
):
    steady, lenient = make_assessor(), make_assessor()
    calibration_set = anchor_set()
    drift_reads(steady, calibration_set, lambda master: master)
    drift_reads(lenient, calibration_set, lambda master: min(20, master + 2))
    for submission, totals in zip(submissions(3), [(16, 15), (9, 12), (18, 18)], strict=True):
        double_read(submission, steady, lenient, totals)

    (report,) = monitoring.overview()

    # The MC counts each anchor read once and each double read once (first against second).
    raters = list(MASTERS) + [min(20, m + 2) for m in MASTERS] + [16, 9, 18]
    references = [*MASTERS, *MASTERS, 15, 12, 18]
    assert report.anchor_pairs == 16 and report.double_pairs == 3
    assert report.overall.kappa.value == pytest.approx(
        quadratic_weighted_kappa(raters, references, SCALE), abs=1e-12
    )
    assert report.overall.alpha.value == pytest.approx(
        krippendorff_alpha(list(zip(raters, references, strict=True)), SCALE), abs=1e-12
    )
    assert report.overall.severity.value == pytest.approx(severity(raters, references).mean)
    by_name = {row.profile.pk: row.reliability for row in report.assessors}
    lenient_raters = [min(20, m + 2) for m in MASTERS] + [15, 12, 18]
    lenient_refs = [*MASTERS, 16, 9, 18]
    assert by_name[lenient.pk].severity.value == pytest.approx(
        severity(lenient_raters, lenient_refs).mean
    )
    assert by_name[lenient.pk].kappa.value == pytest.approx(
        quadratic_weighted_kappa(lenient_raters, lenient_refs, SCALE), abs=1e-12
    )
    # The policy's thresholds sit beside the statistics.
    assert by_name[lenient.pk].kappa.threshold == pytest.approx(0.60)
    assert by_name[lenient.pk].severity.threshold == pytest.approx(1.50)
    # Components: four rows on each component's own 0-5 scale.
    assert len(report.components) == len(component_ids(version))
    assert report.months[-1].reliability.exact.pairs == 19


def test_below_the_minimum_the_statistics_say_not_enough_data(
    drift_policy, anchor_set, make_assessor
):
    drift_reads(make_assessor(), anchor_set((17, 9, 12)), harsher(6))

    (report,) = monitoring.overview()

    assert report.overall.kappa.value is None
    assert report.overall.kappa.summary == (
        "Quadratic-weighted kappa: not enough data (3 of 4 pairs)"
    )


def test_the_overview_takes_the_same_queries_whatever_the_volume(
    drift_policy, anchor_set, submissions, make_assessor
):
    def measure() -> int:
        with CaptureQueriesContext(connection) as queries:
            monitoring.overview()
        return len(queries)

    calibration_set = anchor_set()
    first, second = make_assessor(), make_assessor()
    drift_reads(first, calibration_set, lambda master: master)
    small = measure()
    drift_reads(second, calibration_set, harsher(1))
    for submission in submissions(4):
        double_read(submission, first, second, (15, 14))
    for _ in range(3):
        drift_reads(make_assessor(), calibration_set, harsher(2))

    assert measure() == small <= 12


# ---------------------------------------------------------------------------- the drift sweep
def test_a_drifting_assessor_is_flagged_then_paused_and_a_lead_resumes_them(
    drift_policy, anchor_set, make_assessor, version, lead
):
    steady, drifting = make_assessor(), make_assessor()
    calibration_set = anchor_set()
    drift_reads(steady, calibration_set, lambda master: master)
    # Three points harsher on every anchor: kappa stays above 0.6, severity does not.
    drift_reads(drifting, calibration_set, harsher(3))

    first = monitoring.sweep_drift()

    assert (first.judged, first.flagged, first.rounds_started) == (2, 1, 1)
    flag = flag_of(drifting, version)
    assert flag.status == FlagStatus.RECALIBRATE
    assert flag.statistic == "Severity (mean difference from reference)"
    assert flag.value == pytest.approx(-3.0)
    assert flag.threshold == pytest.approx(1.5) and flag.pairs == len(MASTERS)
    assert qualification_of(drifting, version) == Qualification.Status.RECALIBRATE
    assert qualification_of(steady, version) == Qualification.Status.QUALIFIED
    assert not DriftFlag.objects.filter(assessor=steady).exists()
    recalibration = CalibrationRound.objects.get(assessor=drifting, finished_at__isnull=True)
    assert AuditEvent.objects.filter(action="drift.flagged", target_id=str(flag.pk)).exists()
    assert Notification.objects.filter(
        user=drifting.user, dedupe_key=f"drift:{flag.pk}:recalibrate"
    ).exists()

    # Nothing new since the flag: a second sweep changes nothing.
    again = monitoring.sweep_drift()
    assert (again.flagged, again.paused) == (0, 0)

    # The recalibration round goes as badly: still past the threshold on new pairs.
    score_round(recalibration, version, lambda anchor: marks_for(version, anchor.master_total - 3))
    paused = monitoring.sweep_drift()

    assert paused.paused == 1
    flag.refresh_from_db()
    assert flag.status == FlagStatus.PAUSED
    assert qualification_of(drifting, version) == Qualification.Status.PAUSED
    assert AuditEvent.objects.filter(action="drift.paused", target_id=str(flag.pk)).exists()
    assert Notification.objects.filter(dedupe_key=f"drift:{flag.pk}:paused").exists()

    monitoring.clear_flag(flag, actor=lead, reason="We reviewed eight reads together.")

    flag.refresh_from_db()
    assert (flag.status, flag.resolved_by, flag.note) == (
        FlagStatus.CLEARED,
        lead,
        "We reviewed eight reads together.",
    )
    assert qualification_of(drifting, version) == Qualification.Status.QUALIFIED
    event = AuditEvent.objects.get(action="drift.resumed", target_id=str(flag.pk))
    assert event.reason == "We reviewed eight reads together."
    # The reads that led to the flag are behind it now: the next sweep does not flag again.
    assert monitoring.sweep_drift().flagged == 0
    assert not DriftFlag.objects.exclude(status=FlagStatus.CLEARED).exists()


def test_kappa_below_its_threshold_flags_too(drift_policy, anchor_set, make_assessor, version):
    # Unrelated to the masters, yet on average no harsher: only kappa catches it.
    reversed_masters = dict(zip(MASTERS, sorted(MASTERS), strict=True))
    drifting = make_assessor()
    drift_reads(drifting, anchor_set(), lambda master: reversed_masters[master])

    monitoring.sweep_drift()

    assert flag_of(drifting, version).statistic == "Quadratic-weighted kappa"


def test_passing_the_recalibration_round_clears_the_flag(
    drift_policy, anchor_set, make_assessor, version
):
    drifting = make_assessor()
    drift_reads(drifting, anchor_set(), harsher(4))
    monitoring.sweep_drift()
    recalibration = CalibrationRound.objects.get(assessor=drifting)

    score_round(recalibration, version, lambda anchor: marks_for(version, anchor.master_total))

    # Cleared as the round passes, not at the next sweep, which then finds nothing to do.
    assert flag_of(drifting, version).status == FlagStatus.CLEARED
    result = monitoring.sweep_drift()
    assert result.cleared == 0 and result.flagged == 0
    assert qualification_of(drifting, version) == Qualification.Status.QUALIFIED
    assert AuditEvent.objects.filter(action="drift.recalibrated").exists()


def test_never_flagged_below_the_minimum_pairs(drift_policy, anchor_set, make_assessor):
    drifting = make_assessor()
    drift_reads(drifting, anchor_set((17, 18, 19)), harsher(8))

    result = monitoring.sweep_drift()

    assert (result.judged, result.flagged) == (0, 0)
    assert not DriftFlag.objects.exists()


def test_a_trainee_is_judged_by_rounds_not_flagged(drift_policy, anchor_set, make_assessor):
    trainee = make_assessor(qualified=False)
    drift_reads(trainee, anchor_set(), harsher(6))

    assert monitoring.sweep_drift().flagged == 0
    assert not DriftFlag.objects.exists()


def test_a_lead_must_give_a_reason(drift_policy, anchor_set, make_assessor, version, lead):
    drifting = make_assessor()
    drift_reads(drifting, anchor_set(), harsher(4))
    monitoring.sweep_drift()
    flag = flag_of(drifting, version)

    with pytest.raises(Exception, match="Say why"):
        monitoring.clear_flag(flag, actor=lead, reason="  ")

    flag.refresh_from_db()
    assert flag.status == FlagStatus.RECALIBRATE
    monitoring.clear_flag(flag, actor=lead, reason="Marked on the wrong rubric.")
    assert qualification_of(drifting, version) == Qualification.Status.QUALIFIED
    assert AuditEvent.objects.filter(action="drift.cleared").exists()
    with pytest.raises(Exception, match="already cleared"):
        monitoring.clear_flag(flag, actor=lead, reason="Again.")


def test_the_command_and_task_run_the_sweep(drift_policy, anchor_set, make_assessor, capsys):
    drift_reads(make_assessor(), anchor_set(), harsher(4))

    call_command("check_drift")

    assert "flagged 1" in capsys.readouterr().out
    from microcred.assessment.tasks_monitoring import sweep_drift

    assert sweep_drift.call()["flagged"] == 0  # already flagged: nothing new


def test_on_recalibrated_clears_an_open_flag(
    drift_policy, anchor_set, make_assessor, version, lead
):
    drifting = make_assessor()
    drift_reads(drifting, anchor_set(), harsher(4))
    monitoring.sweep_drift()

    monitoring.on_recalibrated(drifting, version.micro_credential_id, actor=drifting.user)

    assert flag_of(drifting, version).status == FlagStatus.CLEARED

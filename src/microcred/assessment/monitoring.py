"""Reliability monitoring and drift (issue 9): who agrees with whom, per micro-credential, per
assessor and per month, and what happens when an assessor drifts.

Pairs come from two places, each loaded in a handful of queries whatever the volume:
- anchor reads (calibration rounds and drift checks slipped into live queues) against the
  anchor's master score;
- double-scored live submissions: the first read against the second, once from each reader's
  side (at the level of a micro-credential each submission counts once).

Statistics are reliability.summarize's, with the MC's policy: "not enough data" below
`drift_min_pairs`, kappa judged against `drift_min_kappa` and severity against
`drift_max_severity`.

The drift sweep flags an assessor whose kappa or severity is past its threshold: the flag sends
them to recalibration (no live work for that MC until they pass a round, which clears the flag);
if new pairs since the flag are still past the threshold, live work is paused until a scoring
lead resumes them. A sweep only ever judges pairs scored since the assessor last qualified or
since their last flag was cleared, so old reads never flag anyone twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet
from django.urls import reverse
from django.utils import timezone

from microcred.catalog.models import MicroCredential, MicroCredentialVersion, RubricComponent
from microcred.notifications.models import Kind as NotificationKind
from microcred.notifications.services import notify
from microcred.orgs.services import SYSTEM, record_audit

from . import calibration, moderation
from .models import (
    AnchorComponentScore,
    AssessorProfile,
    Assignment,
    CalibrationSet,
    ComponentScore,
    DriftFlag,
    Qualification,
    Score,
    ScoringPolicy,
)
from .reliability import Reliability, Statistic, Thresholds, summarize

WINDOW_DAYS = 365  # "the last 12 months"
Purpose = Assignment.Purpose
Kind = Assignment.Kind
FlagStatus = DriftFlag.Status
# Drift news needs a kind of its own in notifications (see the report to the lead); until it
# exists, the nearest one: a recalibration round is scoring work given to the assessor.
DRIFT_NOTICE = NotificationKind.RELIABILITY


# ---------------------------------------------------------------------------- pairs
@dataclass(frozen=True)
class Pair:
    """One read against its reference: the anchor's master score or the other reader's."""

    micro_credential_id: int
    assessor_id: int
    source: Literal["anchor", "double"]
    rater: int
    reference: int
    at: datetime  # when the pair became complete
    # (rubric component id, rater's points, reference points)
    components: tuple[tuple[int, int, int], ...]
    # False for the second reader's side of a double read, which an MC counts only once.
    counts_for_mc: bool = True


def _components(
    points: dict[int, dict[int, int]], rater_key: int, reference: dict[int, int]
) -> tuple[tuple[int, int, int], ...]:
    given = points.get(rater_key, {})
    return tuple(
        (component_id, given.get(component_id, 0), master)
        for component_id, master in sorted(reference.items())
    )


def pairs(
    *,
    since: datetime | None = None,
    micro_credential_ids: Iterable[int] | None = None,
    assessor: AssessorProfile | None = None,
) -> list[Pair]:
    """Every pair completed since `since` (default: the last 12 months), in five queries."""
    since = since or timezone.now() - timedelta(days=WINDOW_DAYS)
    mcs = list(micro_credential_ids) if micro_credential_ids is not None else None

    anchor_scores = Score.objects.filter(
        assignment__anchor__isnull=False,
        assignment__purpose__in=[Purpose.CALIBRATION, Purpose.DRIFT_CHECK],
        submitted_at__gte=since,
    )
    if mcs is not None:
        anchor_scores = anchor_scores.filter(
            assignment__anchor__calibration_set__version__micro_credential_id__in=mcs
        )
    if assessor is not None:
        anchor_scores = anchor_scores.filter(assignment__assessor=assessor)
    anchor_rows = list(
        anchor_scores.values_list(
            "pk",
            "assignment__assessor_id",
            "total_points",
            "submitted_at",
            "assignment__anchor_id",
            "assignment__anchor__master_total",
            "assignment__anchor__calibration_set__version__micro_credential_id",
        )
    )
    masters: dict[int, dict[int, int]] = defaultdict(dict)
    for anchor_id, component_id, points in AnchorComponentScore.objects.filter(
        anchor_id__in={row[4] for row in anchor_rows}
    ).values_list("anchor_id", "rubric_component_id", "points"):
        masters[anchor_id][component_id] = points

    # Double reads: every first and second live read of a submission that has a read in the
    # window; a submission with only one of the two is not a pair yet.
    live = Score.objects.filter(
        assignment__purpose=Purpose.LIVE, assignment__kind__in=[Kind.PRIMARY, Kind.SECOND]
    )
    recent = live.filter(submitted_at__gte=since)
    if assessor is not None:
        recent = recent.filter(assignment__assessor=assessor)
    double_scores = live.filter(
        assignment__submission_id__in=recent.values("assignment__submission_id")
    )
    if mcs is not None:
        double_scores = double_scores.filter(
            assignment__submission__attempt__version__micro_credential_id__in=mcs
        )
    double_rows = list(
        double_scores.values_list(
            "pk",
            "assignment__assessor_id",
            "total_points",
            "submitted_at",
            "assignment__submission_id",
            "assignment__kind",
            "assignment__submission__attempt__version__micro_credential_id",
        )
    )

    points: dict[int, dict[int, int]] = defaultdict(dict)
    scored = {row[0] for row in anchor_rows} | {row[0] for row in double_rows}
    for score_id, component_id, given in ComponentScore.objects.filter(
        score_id__in=scored
    ).values_list("score_id", "rubric_component_id", "points"):
        points[score_id][component_id] = given

    result = [
        Pair(
            micro_credential_id=mc_id,
            assessor_id=assessor_id,
            source="anchor",
            rater=total,
            reference=master_total,
            at=at,
            components=_components(points, score_id, masters[anchor_id]),
        )
        for score_id, assessor_id, total, at, anchor_id, master_total, mc_id in anchor_rows
    ]
    reads: dict[int, dict[str, tuple[Any, ...]]] = defaultdict(dict)
    for row in double_rows:
        reads[row[4]][row[5]] = row
    for both in reads.values():
        if len(both) < 2:
            continue
        first, second = both[Kind.PRIMARY], both[Kind.SECOND]
        at = max(first[3], second[3])
        if at < since:
            continue
        for rater, other, counts in ((first, second, True), (second, first, False)):
            if assessor is not None and rater[1] != assessor.pk:
                continue
            result.append(
                Pair(
                    micro_credential_id=rater[6],
                    assessor_id=rater[1],
                    source="double",
                    rater=rater[2],
                    reference=other[2],
                    at=at,
                    components=_components(points, rater[0], points.get(other[0], {})),
                    counts_for_mc=counts,
                )
            )
    result.sort(key=lambda pair: pair.at)
    return result


# ---------------------------------------------------------------------------- statistics
@dataclass(frozen=True)
class Scale:
    """The points a read of an MC can take: 0 to the largest rubric total of its versions,
    and each component's own range."""

    total: range
    components: dict[int, tuple[str, range]]  # component id -> (title, points)


def scales(micro_credential_ids: Iterable[int]) -> dict[int, Scale]:
    """One query for every MC's scale."""
    totals: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    components: dict[int, dict[int, tuple[str, range]]] = defaultdict(dict)
    for pk, title, most, version_id, mc_id in (
        RubricComponent.objects.filter(
            rubric__version__micro_credential_id__in=micro_credential_ids
        )
        .order_by("rubric__version__number", "order")
        .values_list(
            "pk",
            "title",
            "max_points",
            "rubric__version_id",
            "rubric__version__micro_credential_id",
        )
    ):
        totals[mc_id][version_id] += most
        components[mc_id][pk] = (title, range(most + 1))
    return {
        mc_id: Scale(range(max(by_version.values()) + 1), components[mc_id])
        for mc_id, by_version in totals.items()
    }


def titles(micro_credential_ids: Iterable[int]) -> dict[int, str]:
    """Each MC's name as its latest version gives it, in one query."""
    found: dict[int, str] = {}
    for mc_id, title in (
        MicroCredentialVersion.objects.filter(micro_credential_id__in=micro_credential_ids)
        .order_by("micro_credential_id", "-number")
        .values_list("micro_credential_id", "title")
    ):
        found.setdefault(mc_id, title)
    return found


def thresholds(policy: ScoringPolicy) -> Thresholds:
    return Thresholds(
        kappa=float(policy.drift_min_kappa), severity=float(policy.drift_max_severity)
    )


def statistics(
    chosen: Sequence[Pair], points: range, policy: ScoringPolicy, component: int | None = None
) -> Reliability:
    """The statistics of these pairs on the total (or one component's points)."""
    if component is None:
        values = [(pair.rater, pair.reference) for pair in chosen]
    else:
        values = [
            (given, reference)
            for pair in chosen
            for component_id, given, reference in pair.components
            if component_id == component
        ]
    return summarize(
        values, points, minimum=max(2, policy.drift_min_pairs), thresholds=thresholds(policy)
    )


def drift(reliability: Reliability) -> Statistic | None:
    """The statistic that says an assessor drifts (kappa below, or severity beyond, the
    policy's threshold), or None."""
    for statistic in (reliability.kappa, reliability.severity):
        if statistic.meets is False:
            return statistic
    return None


def month_of(moment: datetime) -> date:
    return timezone.localtime(moment).date().replace(day=1)


def months(now: datetime, count: int = 12) -> list[date]:
    """The first days of the last `count` months, oldest first, this month included."""
    current = month_of(now)
    found = []
    year, month = current.year, current.month
    for _ in range(count):
        found.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found[::-1]


@dataclass(frozen=True)
class Month:
    month: date
    reliability: Reliability


@dataclass(frozen=True)
class ComponentRow:
    title: str
    reliability: Reliability


@dataclass
class AssessorRow:
    profile: AssessorProfile
    reliability: Reliability
    flag: DriftFlag | None


@dataclass
class Report:
    """The reliability of one MC, for everyone or for one assessor."""

    micro_credential: MicroCredential
    title: str
    policy: ScoringPolicy
    overall: Reliability
    anchor_pairs: int
    double_pairs: int
    components: list[ComponentRow]
    months: list[Month]
    assessors: list[AssessorRow] = field(default_factory=list)
    flags: list[DriftFlag] = field(default_factory=list)

    def chart(self) -> dict[str, Any]:
        """The numbers the charts draw (the tables beside them show the same)."""
        return {
            "key": self.micro_credential.pk,
            "title": self.title,
            "months": [month.month.strftime("%b %Y") for month in self.months],
            "exact": [_percent(month.reliability.exact) for month in self.months],
            "adjacent": [_percent(month.reliability.adjacent) for month in self.months],
            "adjacent_label": self.overall.adjacent.name,
            "assessors": [row.profile.user.name for row in self.assessors],
            "severity": [_round(row.reliability.severity.value) for row in self.assessors],
        }


def _percent(statistic: Statistic) -> float | None:
    return None if statistic.value is None else round(statistic.value * 100, 1)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _report(
    mc: MicroCredential,
    title: str,
    chosen: Sequence[Pair],
    scale: Scale,
    policy: ScoringPolicy,
    now: datetime,
) -> Report:
    by_month: dict[date, list[Pair]] = defaultdict(list)
    for pair in chosen:
        by_month[month_of(pair.at)].append(pair)
    seen = {component_id for pair in chosen for component_id, _, _ in pair.components}
    return Report(
        micro_credential=mc,
        title=title,
        policy=policy,
        overall=statistics(chosen, scale.total, policy),
        anchor_pairs=sum(1 for pair in chosen if pair.source == "anchor"),
        double_pairs=sum(1 for pair in chosen if pair.source == "double"),
        components=[
            ComponentRow(title, statistics(chosen, points, policy, component=component_id))
            for component_id, (title, points) in scale.components.items()
            if component_id in seen
        ],
        months=[
            Month(month, statistics(by_month.get(month, []), scale.total, policy))
            for month in months(now)
        ],
    )


def _by_title(mc_ids: Iterable[int]) -> list[tuple[MicroCredential, str]]:
    named = titles(mc_ids)
    return sorted(
        ((mc, named.get(mc.pk, mc.slug)) for mc in MicroCredential.objects.filter(pk__in=mc_ids)),
        key=lambda item: item[1].lower(),
    )


def overview(*, now: datetime | None = None) -> list[Report]:
    """Every MC with pairs in the last 12 months, with each assessor's statistics and open
    flag, in a fixed number of queries."""
    now = now or timezone.now()
    found = pairs(since=now - timedelta(days=WINDOW_DAYS))
    by_mc: dict[int, list[Pair]] = defaultdict(list)
    for pair in found:
        by_mc[pair.micro_credential_id].append(pair)
    mc_ids = list(by_mc)
    all_scales, all_policies = scales(mc_ids), moderation.policies_for(mc_ids)
    profiles = AssessorProfile.objects.select_related("user").in_bulk(
        {pair.assessor_id for pair in found}
    )
    open_flags = {
        (flag.assessor_id, flag.micro_credential_id): flag
        for flag in DriftFlag.objects.exclude(status=FlagStatus.CLEARED)
    }
    reports = []
    for mc, title in _by_title(mc_ids):
        chosen = by_mc[mc.pk]
        policy, scale = all_policies[mc.pk], all_scales[mc.pk]
        report = _report(mc, title, [p for p in chosen if p.counts_for_mc], scale, policy, now)
        by_assessor: dict[int, list[Pair]] = defaultdict(list)
        for pair in chosen:
            by_assessor[pair.assessor_id].append(pair)
        report.assessors = sorted(
            (
                AssessorRow(
                    profiles[assessor_id],
                    statistics(own, scale.total, policy),
                    open_flags.get((assessor_id, mc.pk)),
                )
                for assessor_id, own in by_assessor.items()
            ),
            key=lambda row: row.profile.user.name.lower(),
        )
        reports.append(report)
    return reports


def assessor_reports(profile: AssessorProfile, *, now: datetime | None = None) -> list[Report]:
    """One assessor's reliability per MC they have pairs or flags for, with their flags. Holds
    no other assessor's name: the other reader of a double read is only a reference score."""
    now = now or timezone.now()
    found = pairs(since=now - timedelta(days=WINDOW_DAYS), assessor=profile)
    flags = list(
        DriftFlag.objects.filter(assessor=profile)
        .select_related("resolved_by")
        .order_by("-raised_at")
    )
    mc_ids = {pair.micro_credential_id for pair in found} | {f.micro_credential_id for f in flags}
    all_scales, all_policies = scales(mc_ids), moderation.policies_for(mc_ids)
    reports = []
    for mc, title in _by_title(mc_ids):
        chosen = [pair for pair in found if pair.micro_credential_id == mc.pk]
        scale = all_scales.get(mc.pk) or Scale(range(2), {})
        report = _report(mc, title, chosen, scale, all_policies[mc.pk], now)
        report.flags = [flag for flag in flags if flag.micro_credential_id == mc.pk]
        reports.append(report)
    return reports


def open_flags() -> QuerySet[DriftFlag]:
    return (
        DriftFlag.objects.exclude(status=FlagStatus.CLEARED)
        .select_related("assessor__user", "micro_credential")
        .order_by("-raised_at")
    )


# ---------------------------------------------------------------------------- the drift sweep
@dataclass
class SweepResult:
    flagged: int = 0
    paused: int = 0
    cleared: int = 0
    rounds_started: int = 0
    judged: int = 0  # assessor and MC pairs with enough data to judge


def _title(flag: DriftFlag) -> str:
    return titles([flag.micro_credential_id]).get(flag.micro_credential_id, "")


def _notify(flag: DriftFlag, step: str, title: str, body: str) -> None:
    notify(
        flag.assessor.user,
        DRIFT_NOTICE,
        title=title,
        body=body,
        url=reverse("assessment:my_reliability"),
        dedupe_key=f"drift:{flag.pk}:{step}",
    )


def _set_qualification(
    qualification: Qualification | None, status: str, actor: Any, reason: str
) -> None:
    if qualification is None or qualification.status == status:
        return
    previous = qualification.status
    qualification.status = status
    qualification.save(update_fields=["status", "updated"])
    record_audit(
        actor,
        f"qualification.{status}",
        qualification,
        reason=reason,
        data={"from": previous, "micro_credential": qualification.micro_credential_id},
    )


def _active_set(mc_id: int) -> CalibrationSet | None:
    return (
        CalibrationSet.objects.filter(version__micro_credential_id=mc_id, active=True)
        .order_by("-version__number", "-created")
        .first()
    )


def _flag(
    profile: AssessorProfile,
    mc: MicroCredential,
    title: str,
    concern: Statistic,
    qualification: Qualification,
    result: SweepResult,
) -> DriftFlag:
    with transaction.atomic():
        flag = DriftFlag.objects.create(
            assessor=profile,
            micro_credential=mc,
            statistic=concern.name,
            value=concern.value or 0.0,
            threshold=concern.threshold or 0.0,
            pairs=concern.pairs,
            status=FlagStatus.RECALIBRATE,
        )
        record_audit(
            SYSTEM, "drift.flagged", flag, reason=concern.summary, data={"step": "recalibrate"}
        )
        _set_qualification(qualification, Qualification.Status.RECALIBRATE, SYSTEM, "drift")
        round_note = "Your scoring lead will set up a calibration round for you."
        calibration_set = _active_set(mc.pk)
        if calibration_set is not None:
            try:
                calibration.start_round(profile, calibration_set, actor=SYSTEM)
            except ValidationError as exc:
                record_audit(SYSTEM, "drift.round_not_started", flag, reason=" ".join(exc.messages))
            else:
                result.rounds_started += 1
                round_note = "A calibration round is waiting in your queue."
        _notify(
            flag,
            "recalibrate",
            f"Recalibrate to keep scoring “{title}”",
            f"Your recent scores differ from the reference scores more than the program "
            f"allows ({concern.summary}). You get no new live work for this micro-credential "
            f"until you pass a calibration round. {round_note}",
        )
    result.flagged += 1
    return flag


def _pause(
    flag: DriftFlag, concern: Statistic, qualification: Qualification | None, result: SweepResult
) -> None:
    with transaction.atomic():
        flag.status = FlagStatus.PAUSED
        flag.statistic, flag.value = concern.name, concern.value or 0.0
        flag.threshold, flag.pairs = concern.threshold or 0.0, concern.pairs
        flag.save(update_fields=["status", "statistic", "value", "threshold", "pairs"])
        record_audit(SYSTEM, "drift.paused", flag, reason=concern.summary, data={"step": "paused"})
        _set_qualification(qualification, Qualification.Status.PAUSED, SYSTEM, "drift persists")
        _notify(
            flag,
            "paused",
            f"Live scoring of “{_title(flag)}” is paused",
            f"Your scores since the recalibration flag still differ from the reference scores "
            f"({concern.summary}). A scoring lead will talk with you before you score again.",
        )
    result.paused += 1


def _close(flag: DriftFlag, *, actor: Any, reason: str, action: str, step: str) -> DriftFlag:
    flag.status = FlagStatus.CLEARED
    flag.resolved_at = timezone.now()
    flag.resolved_by = actor if getattr(actor, "pk", None) else None
    flag.note = reason[:300]
    flag.save(update_fields=["status", "resolved_at", "resolved_by", "note"])
    record_audit(actor, action, flag, reason=reason)
    qualification = Qualification.objects.filter(
        assessor_id=flag.assessor_id, micro_credential_id=flag.micro_credential_id
    ).first()
    _set_qualification(qualification, Qualification.Status.QUALIFIED, actor, reason)
    _notify(
        flag,
        step,
        f"You can score “{_title(flag)}” again",
        f"Your drift flag is cleared: {reason}",
    )
    return flag


def clear_flag(flag: DriftFlag, *, actor: Any, reason: str) -> DriftFlag:
    """A scoring lead clears a flag (or resumes a paused assessor): the assessor is qualified
    again. The reason is required and audited."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why you clear this flag."})
    with transaction.atomic():
        locked = (
            DriftFlag.objects.select_for_update()
            .select_related("assessor__user", "micro_credential")
            .get(pk=flag.pk)
        )
        if locked.status == FlagStatus.CLEARED:
            raise ValidationError("This flag is already cleared: nothing was changed.")
        resumed = locked.status == FlagStatus.PAUSED
        return _close(
            locked,
            actor=actor,
            reason=reason,
            action="drift.resumed" if resumed else "drift.cleared",
            step="resumed" if resumed else "cleared",
        )


def on_recalibrated(profile: AssessorProfile, micro_credential_id: int, *, actor: Any) -> None:
    """A passed calibration round clears the assessor's open flag for the MC (called from
    calibration.on_anchor_scored; the sweep catches any it missed)."""
    flag = (
        DriftFlag.objects.select_for_update()
        .select_related("assessor__user", "micro_credential")
        .filter(assessor=profile, micro_credential_id=micro_credential_id)
        .exclude(status=FlagStatus.CLEARED)
        .first()
    )
    if flag is not None:
        _close(
            flag,
            actor=actor,
            reason="passed a recalibration round",
            action="drift.recalibrated",
            step="recalibrated",
        )


def sweep_drift(*, now: datetime | None = None) -> SweepResult:
    """Judge every assessor with enough pairs on each MC, flag or pause those past a
    threshold, and clear flags of assessors who have since passed a round. Safe to repeat."""
    now = now or timezone.now()
    result = SweepResult()
    found = pairs(since=now - timedelta(days=WINDOW_DAYS))
    groups: dict[tuple[int, int], list[Pair]] = defaultdict(list)
    for pair in found:
        groups[pair.assessor_id, pair.micro_credential_id].append(pair)
    qualifications = {
        (q.assessor_id, q.micro_credential_id): q for q in Qualification.objects.all()
    }
    flags = {
        (flag.assessor_id, flag.micro_credential_id): flag
        for flag in DriftFlag.objects.exclude(status=FlagStatus.CLEARED).select_related(
            "assessor__user", "micro_credential"
        )
    }
    last_cleared = {
        (row["assessor_id"], row["micro_credential_id"]): row["last"]
        for row in DriftFlag.objects.filter(status=FlagStatus.CLEARED)
        .values("assessor_id", "micro_credential_id")
        .annotate(last=Max("resolved_at"))
    }
    # A round passed since the flag: the flag has done its work.
    for key, flag in list(flags.items()):
        qualification = qualifications.get(key)
        if (
            flag.status == FlagStatus.RECALIBRATE
            and qualification is not None
            and qualification.status == Qualification.Status.QUALIFIED
            and qualification.qualified_at > flag.raised_at
        ):
            with transaction.atomic():
                on_recalibrated(flag.assessor, flag.micro_credential_id, actor=SYSTEM)
            last_cleared[key] = timezone.now()
            del flags[key]
            result.cleared += 1

    mc_ids = {mc_id for _, mc_id in groups}
    all_scales, all_policies = scales(mc_ids), moderation.policies_for(mc_ids)
    profiles = AssessorProfile.objects.select_related("user").in_bulk({a for a, _ in groups})
    mcs = MicroCredential.objects.in_bulk(mc_ids)
    named = titles(mc_ids)
    for key, chosen in groups.items():
        flag, qualification = flags.get(key), qualifications.get(key)
        if flag is not None:
            if flag.status == FlagStatus.PAUSED:
                continue  # a scoring lead decides what comes next
            since = flag.raised_at
        else:
            # Only a current qualification can be put at risk; a trainee's rounds judge them.
            if qualification is None or qualification.status != Qualification.Status.QUALIFIED:
                continue
            since = max(d for d in (qualification.qualified_at, last_cleared.get(key)) if d)
        assessor_id, mc_id = key
        recent = [pair for pair in chosen if pair.at > since]
        reliability = statistics(recent, all_scales[mc_id].total, all_policies[mc_id])
        if not reliability.kappa.enough:
            continue
        result.judged += 1
        concern = drift(reliability)
        if concern is None:
            continue
        if flag is None:
            assert qualification is not None
            _flag(profiles[assessor_id], mcs[mc_id], named[mc_id], concern, qualification, result)
        else:
            _pause(flag, concern, qualification, result)
    return result

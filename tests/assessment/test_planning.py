"""The planner: bounded queries whatever the pool's size, conflicts and capacity never broken,
two reads never to one assessor, re-planning unopened work, reassigning declined and expired
reads, the audit trail, and the reasons given when nobody may take a read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from microcred.assessment import moderation, planning, selectors, services
from microcred.assessment.conflicts import conflicts_between
from microcred.assessment.models import (
    AssessorProfile,
    Assignment,
    CoachingRelationship,
    DeclaredConflict,
)
from microcred.catalog.models import MicroCredentialVersion
from microcred.earning import services as earning
from microcred.earning.models import Submission
from microcred.orgs.models import AuditEvent, Membership, Role, User
from tests.assessment.helpers import fill_portfolio, open_read, qualify_for, score_read, set_policy
from tests.catalog.factories import catalog_people

pytestmark = pytest.mark.django_db
Kind = Assignment.Kind
Status = Assignment.Status


def live_taken() -> Iterable[Assignment]:
    return Assignment.objects.filter(
        purpose=Assignment.Purpose.LIVE, status__in=[Status.ASSIGNED, Status.COMPLETED]
    ).select_related("assessor", "submission")


def holder(submission: Submission, kind: str = Kind.PRIMARY) -> AssessorProfile:
    return Assignment.objects.get(submission=submission, kind=kind, status=Status.ASSIGNED).assessor


def actions_on(assignment: Assignment) -> list[str]:
    return sorted(
        AuditEvent.objects.filter(
            target_type="assessment.assignment", target_id=str(assignment.pk)
        ).values_list("action", flat=True)
    )


# ---------------------------------------------------------------------------- queries
@pytest.fixture
def grow(make_assessor, make_earner, make_submission, org_tree, version):
    """grow(assessors=n, submissions=m): more of both, each assessor with data for every
    conflict rule (a second workplace, a coachee, a declared person and organization), so the
    count below covers every rule's loading."""
    homes = [org_tree["assess"], org_tree["lea2"], org_tree["school2"], org_tree["other_provider"]]
    made = {"assessors": 0}

    def add(*, assessors: int = 0, submissions: int = 0, capacity: int = 50) -> None:
        for _ in range(assessors):
            n = made["assessors"] = made["assessors"] + 1
            profile = make_assessor(homes[n % len(homes)], weekly_capacity=capacity)
            Membership.objects.create(
                user=profile.user, organization=org_tree["school2"], role=Role.COACH
            )
            coachee = make_earner(org_tree["school2"])
            CoachingRelationship.objects.create(coach=profile.user, earner=coachee)
            DeclaredConflict.objects.create(assessor=profile, user=coachee, reason="Neighbour")
            DeclaredConflict.objects.create(
                assessor=profile, organization=org_tree["other_provider"], reason="Former job"
            )
        for _ in range(submissions):
            make_submission()

    return add


def pieces_queries() -> int:
    """Queries of reading the backlog and the pool and deciding who may take each read (the
    solver itself runs no query)."""
    with CaptureQueriesContext(connection) as queries:
        backlog = planning.open_reads()
        mc_ids = {r.submission.attempt.version.micro_credential_id for r in backlog.reads}
        pool = planning.load_pool(mc_ids)
        for read in backlog.reads:
            planning.eligible(pool, backlog, read)
    return len(queries)


def plan_queries() -> tuple[int, planning.PlanResult]:
    with CaptureQueriesContext(connection) as queries:
        result = planning.plan_and_assign(None, seed=7)
    return len(queries), result


def test_reading_the_pool_and_backlog_takes_the_same_queries_at_any_size(grow):
    grow(assessors=5, submissions=5)
    small = pieces_queries()
    grow(assessors=35)
    more_assessors = pieces_queries()
    grow(submissions=35)
    more_both = pieces_queries()

    assert small == more_assessors == more_both
    assert small <= 20


def test_planning_takes_the_same_queries_for_5_or_40_assessors(grow):
    # Five reads each time: the rising load cost spreads them over five assessors, so five
    # are notified each time (one notification each).
    grow(assessors=5, submissions=5)
    small, first = plan_queries()
    grow(assessors=35, submissions=5)
    more_assessors, second = plan_queries()

    assert (len(first.assigned), len(second.assigned)) == (5, 5)
    assert small == more_assessors


def test_planning_takes_the_same_queries_for_5_or_40_submissions(grow):
    grow(assessors=5, submissions=5)
    small, first = plan_queries()
    grow(submissions=40)
    more_submissions, second = plan_queries()

    # Five assessors take all the reads both times, so five are notified both times.
    assert (len(first.assigned), len(second.assigned)) == (5, 40)
    assert small == more_submissions


# ---------------------------------------------------------------------------- hard rules
@pytest.fixture
def conflicted_state(make_assessor, make_earner, make_user, make_submission, org_tree, version):
    """Submissions from two districts and assessors caught by every conflict rule, with
    capacity for fewer reads than needed. Returns the submissions and, for each assessor,
    the submissions the test itself says they must never read."""
    set_policy(version, second_read_percent=100)
    school1, school2 = org_tree["school1"], org_tree["school2"]
    earners1 = [make_earner(school1) for _ in range(3)]
    earners2 = [make_earner(school2) for _ in range(3)]
    colleague = make_earner(school1)
    submissions = {e: make_submission(e) for e in [*earners1[1:], *earners2]}
    team_lead = earners1[0]
    submissions[team_lead] = make_submission(team_lead, team=[colleague])
    in_district1 = {s.pk for e, s in submissions.items() if e in earners1}
    in_district2 = {s.pk for e, s in submissions.items() if e in earners2}
    everything = set(in_district1 | in_district2)

    forbidden: dict[int, set[int]] = {}
    forbidden[make_assessor(org_tree["lea1"], weekly_capacity=2).pk] = in_district1
    forbidden[make_assessor(school2, weekly_capacity=2).pk] = in_district2
    forbidden[make_assessor(org_tree["provider"], weekly_capacity=3).pk] = everything
    coach = make_assessor(weekly_capacity=1)
    CoachingRelationship.objects.create(coach=coach.user, earner=earners2[0])
    forbidden[coach.pk] = {submissions[earners2[0]].pk}
    person = make_assessor(weekly_capacity=1)
    DeclaredConflict.objects.create(assessor=person, user=earners2[1], reason="My sister")
    forbidden[person.pk] = {submissions[earners2[1]].pk}
    district = make_assessor(weekly_capacity=1)
    DeclaredConflict.objects.create(
        assessor=district, organization=org_tree["lea2"], reason="I applied there"
    )
    forbidden[district.pk] = in_district2
    # A teammate who has since left the school: only the team rule keeps them off it.
    Membership.objects.filter(user=colleague).update(active=False)
    teammate = AssessorProfile.objects.create(
        user=colleague, home_organization=org_tree["assess"], weekly_capacity=1
    )
    qualify_for(teammate, version.micro_credential)
    forbidden[teammate.pk] = {submissions[team_lead].pk}
    for _ in range(2):
        forbidden[make_assessor(weekly_capacity=1).pk] = set()
    for submission in submissions.values():
        moderation.draw_second_read(submission)
    return list(submissions.values()), forbidden


def assert_hard_rules(forbidden: dict[int, set[int]]) -> None:
    taken = list(live_taken())
    pairs = Counter((a.submission_id, a.assessor_id) for a in taken)
    assert max(pairs.values()) == 1, "two reads of one submission went to one assessor"
    since = timezone.now() - planning.CAPACITY_WINDOW
    per_assessor = Counter(a.assessor_id for a in taken if a.assigned_at >= since)
    for a in taken:
        assert a.submission_id not in forbidden[a.assessor_id], (a.assessor_id, a.submission_id)
        # The conflict rules asked one pair at a time agree with the bulk index.
        assert conflicts_between(a.assessor, a.submission) == []
    for assessor_id, count in per_assessor.items():
        assert count <= AssessorProfile.objects.get(pk=assessor_id).weekly_capacity


def test_the_batch_never_breaks_a_conflict_capacity_or_the_two_reader_rule(conflicted_state):
    submissions, forbidden = conflicted_state
    reads = 2 * len(submissions)

    result = services.plan_backlog()

    assert_hard_rules(forbidden)
    # 12 reads (6 submissions, 2 each) and 10 usable places: the provider's staff may read
    # none, and every other assessor has at least one read they may take.
    assert len(result.assigned) == 10
    assert set(result.unassigned.values()) == {
        "Every eligible assessor's capacity went to other submissions in this plan."
    }
    assert len(result.assigned) + len(result.unassigned) == reads
    # Re-planning with other random draws keeps every rule too.
    for seed in range(5):
        planning.plan_and_assign(None, replan=True, seed=seed)
        assert_hard_rules(forbidden)


def test_submissions_arriving_one_by_one_never_break_the_rules(
    make_assessor, make_earner, submit, org_tree, version
):
    set_policy(version, second_read_percent=100)
    forbidden: dict[int, set[int]] = {}
    staff1 = make_assessor(org_tree["school1"], weekly_capacity=4)
    staff2 = make_assessor(org_tree["lea2"], weekly_capacity=4)
    free = make_assessor(weekly_capacity=2)
    submissions = {
        school: [submit(earner=make_earner(org_tree[school])) for _ in range(3)]
        for school in ("school1", "school2")
    }
    forbidden[staff1.pk] = {s.pk for s in submissions["school1"]}
    forbidden[staff2.pk] = {s.pk for s in submissions["school2"]}
    forbidden[free.pk] = set()

    assert_hard_rules(forbidden)
    # Each submission needs two readers; the free assessor is the only second pair of eyes
    # for either district, and their capacity of two runs out.
    assert Counter(a.assessor_id for a in live_taken())[free.pk] == 2
    assert Assignment.objects.filter(status=Status.ASSIGNED).count() == 8


def test_two_reads_of_one_submission_never_go_to_one_assessor(make_assessor, submit, version):
    set_policy(version, second_read_percent=100)
    make_assessor(weekly_capacity=20)
    make_assessor(weekly_capacity=20)
    submissions = [submit() for _ in range(4)]
    for seed in range(4):
        planning.plan_and_assign(None, replan=True, seed=seed)
        for submission in submissions:
            assert holder(submission, Kind.PRIMARY) != holder(submission, Kind.SECOND)


# ---------------------------------------------------------------------------- audit
def test_every_new_assignment_is_audited(make_assessor, submit, version):
    set_policy(version, second_read_percent=100)
    make_assessor()
    make_assessor()
    submission = submit()
    for assignment in Assignment.objects.filter(submission=submission):
        event = AuditEvent.objects.get(action="assignment.created", target_id=str(assignment.pk))
        assert event.data == {
            "assessor": assignment.assessor_id,
            "kind": assignment.kind,
            "submission": submission.pk,
        }


# ---------------------------------------------------------------------------- re-planning
@pytest.fixture
def second_mc(org_tree, make_user) -> MicroCredentialVersion:
    return catalog_people(org_tree, make_user).publish(title="Coaching conversations")


def submit_to(version: MicroCredentialVersion, earner: User) -> Submission:
    attempt, _ = earning.start_attempt(version, user=earner)
    fill_portfolio(attempt, earner)
    return earning.submit(attempt, user=earner)


@pytest.fixture
def stranded(make_assessor, make_submission, make_earner, second_mc):
    """`both` may score either MC and holds an unopened read of the first; `first_only` came
    later. A submission of the second MC finds `both` full: stranded by the earlier choice."""
    both = make_assessor(weekly_capacity=1)
    qualify_for(both, second_mc.micro_credential)
    common = make_submission()
    held = services.assign(common)
    assert held.assessor == both
    first_only = make_assessor(weekly_capacity=1)
    rare = submit_to(second_mc, make_earner())
    assert services.assign(rare) is None
    assert services.unassigned_reason(rare) == (
        "Every qualified assessor is at their weekly capacity."
    )
    return both, first_only, common, held, rare


def test_replan_moves_an_unopened_assignment_to_assign_a_stranded_read(stranded):
    both, first_only, common, held, rare = stranded

    result = services.plan_backlog(replan=True)

    assert (result.moved, len(result.assigned), result.unassigned) == (1, 2, {})
    held.refresh_from_db()
    assert (held.status, held.decline_reason) == (Status.CANCELLED, "Moved by a re-plan")
    assert holder(common) == first_only
    assert holder(rare) == both
    assert actions_on(held) == ["assignment.created", "assignment.moved"]
    for assignment in result.assigned:
        assert actions_on(assignment) == ["assignment.created"]


def test_replan_never_moves_an_opened_assignment(stranded):
    both, _first_only, _common, held, rare = stranded
    services.start_scoring(held, assessor=both.user)

    result = services.plan_backlog(replan=True)

    assert (result.moved, result.assigned) == (0, [])
    held.refresh_from_db()
    assert (held.status, held.assessor) == (Status.ASSIGNED, both)
    assert list(result.unassigned) == [(rare.pk, Kind.PRIMARY)]
    assert actions_on(held) == ["assignment.created"]


@pytest.mark.parametrize("opened", [False, True])
def test_replan_spreads_unopened_work_and_never_moves_opened_work(
    opened, make_assessor, make_submission
):
    busy = make_assessor(weekly_capacity=10)
    held = [services.assign(make_submission()) for _ in range(4)]
    assert {a.assessor for a in held} == {busy}
    idle = make_assessor(weekly_capacity=10)
    if opened:
        for assignment in held:
            services.start_scoring(assignment, assessor=busy.user)

    result = services.plan_backlog(replan=True)

    moved = [a for a in held if Assignment.objects.get(pk=a.pk).status == Status.CANCELLED]
    assert result.moved == len(moved)
    if opened:
        assert moved == [] and result.assigned == []
        assert all(actions_on(a) == ["assignment.created"] for a in held)
    else:
        # The fourth read costs busy 4 load steps against idle's 1: worth more than keeping.
        assert moved and {a.assessor for a in result.assigned} == {idle}
        assert all(actions_on(a) == ["assignment.created", "assignment.moved"] for a in moved)
        assert Assignment.objects.filter(assessor=busy, status=Status.ASSIGNED).count() < 4


def test_replan_leaves_a_good_plan_alone(make_assessor, make_submission):
    make_assessor(weekly_capacity=5)
    make_assessor(weekly_capacity=5)
    submissions = [make_submission() for _ in range(4)]
    services.plan_backlog(replan=False)
    before = {s.pk: holder(s) for s in submissions}

    result = services.plan_backlog(replan=True)

    assert (result.moved, result.assigned, result.kept) == (0, [], 4)
    assert {s.pk: holder(s) for s in submissions} == before


# ---------------------------------------------------------------------------- declined, expired
def test_a_declined_second_read_goes_to_a_third_person(make_assessor, submit, version):
    set_policy(version, second_read_percent=100)
    pool = {make_assessor(), make_assessor(), make_assessor()}
    submission = submit()
    primary = holder(submission, Kind.PRIMARY)
    declined = Assignment.objects.get(submission=submission, kind=Kind.SECOND)

    replacement = services.decline(declined, assessor=declined.assessor.user, reason="I know her")

    (third_person,) = pool - {primary, declined.assessor}
    assert replacement.assessor == third_person and replacement.kind == Kind.SECOND
    assert actions_on(declined) == ["assignment.created", "assignment.declined"]
    assert actions_on(replacement) == ["assignment.created"]


def test_an_expired_read_is_audited_and_passed_to_someone_else(make_assessor, submit):
    pool = {make_assessor(), make_assessor()}
    submission = submit()
    late = Assignment.objects.get(submission=submission)
    Assignment.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))

    result = services.sweep_assignments()

    assert (result.expired, result.reassigned) == (1, 1)
    (other,) = pool - {late.assessor}
    assert holder(submission) == other
    event = AuditEvent.objects.get(action="assignment.expired", target_id=str(late.pk))
    assert event.reason == "Missed the due date"
    # The next sweep finds nothing more to do with it.
    again = services.sweep_assignments()
    assert (again.expired, again.reassigned) == (0, 0)
    assert holder(submission) == other


# ---------------------------------------------------------------------------- reasons
def test_capacity_zero_names_the_weekly_capacity(make_assessor, submit):
    make_assessor(weekly_capacity=0)
    submission = submit()
    result = planning.plan_and_assign([submission])
    assert result.unassigned == {
        (submission.pk, Kind.PRIMARY): "Every qualified assessor is at their weekly capacity."
    }


def test_capacity_spent_in_the_same_plan_names_the_other_submissions(
    make_assessor, make_submission
):
    make_assessor(weekly_capacity=1)
    first, second = make_submission(), make_submission()

    result = services.plan_backlog()

    assert len(result.assigned) == 1
    (waiting,) = {first.pk, second.pk} - {result.assigned[0].submission_id}
    assert result.unassigned == {
        (waiting, Kind.PRIMARY): (
            "Every eligible assessor's capacity went to other submissions in this plan."
        )
    }


def test_a_stranded_third_read_is_listed_for_scoring_leads_with_its_reason(
    make_assessor, submit, version, client, make_user, org_tree
):
    set_policy(version, second_read_first_year=True)
    make_assessor()
    make_assessor()
    submission = submit()
    score_read(open_read(submission, Kind.PRIMARY), version, 18)
    score_read(open_read(submission, Kind.SECOND), version, 9)
    lead = make_user(Role.SCORING_LEAD, org_tree["assess"])
    client.force_login(lead)

    html = client.get(reverse("assessment:unassigned")).content.decode()

    assert selectors.submission_code(submission) in html
    assert "Third read" in html
    assert "No scoring lead is available to settle the disagreement." in html


def test_a_second_read_nobody_else_may_take_gives_the_real_reason(
    make_assessor, make_submission, version
):
    set_policy(version, second_read_percent=100)
    make_assessor(weekly_capacity=5)
    submission = make_submission()
    moderation.draw_second_read(submission)

    # Both reads are planned together and have the same single candidate, who has time.
    result = planning.plan_and_assign([submission])

    assert len(result.assigned) == 1
    (reason,) = result.unassigned.values()
    assert reason == services.unassigned_reason(submission)


# ---------------------------------------------------------------------------- leaving holders
def _held(make_assessor, make_submission):
    """Two assessors; a submission's first read with one of them."""
    pair = {make_assessor(), make_assessor()}
    submission = make_submission()
    assignment = services.assign(submission)
    (other,) = pair - {assignment.assessor}
    return submission, assignment, other


def test_an_assessor_who_leaves_mid_assignment_has_their_read_passed_on(
    make_assessor, make_submission
):
    submission, assignment, other = _held(make_assessor, make_submission)
    services.start_scoring(assignment, assessor=assignment.assessor.user)  # opened, then left
    user = assignment.assessor.user
    user.is_active = False
    user.save()

    result = services.plan_backlog()

    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.CANCELLED
    assert result.released == 1
    assert Assignment.objects.get(submission=submission, status="assigned").assessor == other
    assert AuditEvent.objects.filter(
        action="assignment.released", target_id=str(assignment.pk)
    ).exists()


def test_a_paused_assessor_keeps_what_they_hold(make_assessor, make_submission):
    _submission, assignment, _other = _held(make_assessor, make_submission)
    services.set_paused(assignment.assessor, paused=True, actor=assignment.assessor.user)

    result = services.plan_backlog()

    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.ASSIGNED
    assert (result.released, result.moved) == (0, 0)


def test_a_conflict_declared_after_assignment_moves_the_unopened_read(
    make_assessor, make_submission
):
    submission, assignment, other = _held(make_assessor, make_submission)
    services.declare_conflict(
        assignment.assessor, reason="She is my cousin", email=submission.attempt.earner.email
    )

    services.plan_backlog()

    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.CANCELLED
    assert Assignment.objects.get(submission=submission, status="assigned").assessor == other

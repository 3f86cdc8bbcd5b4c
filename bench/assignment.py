#!/usr/bin/env python
"""Benchmark of assessor assignment at state scale through the real services (issue 9).

    .venv/bin/python bench/assignment.py [--submissions 20000] [--assessors 230]
        [--districts 115] [--schools 20] [--credentials 30] [--rare 4] [--second-reads 0.15]
        [--slack 1.25] [--sample 200] [--seed 1] [--profile] [--skip-solver]

Builds a throwaway database (bench/benchdb.py: a temporary SQLite file, or with DATABASE_URL set
a separate test database on that server) holding one state: a state agency, its districts (LEAs)
with their schools, an assessment organization and one provider whose micro-credentials are
published through catalog.services (tests/catalog/factories.publish, so each has a real rubric).
Assessors live in the districts (so their own districts' earners are conflicted), each trained
for two to four MCs with a current qualification; a few MCs are rare, held by a handful of
assessors in different districts, and their submissions come last (the case a one-at-a-time
greedy strands). Some assessors declare a conflict with a district or a person, some coach an
earner, a few earners belong to a second school. Every earner has one submitted portfolio and a
share of the submissions are drawn for a second read. Weekly capacity is --slack (25%) above
each assessor's share of the demand (conflicts included), plus two, so every read can be placed;
a slack below 1 shows how the shortfall is reported instead.

The SETUP writes its rows with bulk_create (organizations, users, memberships, profiles,
qualifications, attempts, submissions, second reads): that is data loading, not what is measured.

Then it times `assessment.services.plan_backlog()`, the real batch (eligibility in bulk queries,
the min-cost flow, bulk writes of assignments and their audit rows, notifications), and prints
the reads needed, assigned and unassigned (with reasons), the seconds, the SQL statements issued
and the peak resident memory. It checks the result from the database: no assignment to a
conflicted or unqualified assessor (conflicts.ConflictIndex over facts_for), nobody over weekly
capacity, no two reads of one submission to one assessor, no read given twice. Then it adds a
fresh slice of submissions and assigns them one by one through `services.assign` (the on-submit
path), printing milliseconds and statements per submission, and checks again. Finally, unless
--skip-solver, it runs bench/assignment_solver.py's 1,000,000 x 5,000 figure.

Goals (issue 9): 20,000 submissions planned end to end in under 60 s with 0 unassigned when
capacity allows; 1M x 5k solved in under 120 s. Exits with status 1 when a goal is missed or any
check finds a violation. --profile runs the batch under cProfile (slower) and lists where the
time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import math
import pstats
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(1, str(ROOT))  # tests.catalog.factories publishes the catalog

from assignment_solver import main as solver_main  # noqa: E402  (bench/ is the script's folder)
from assignment_solver import peak_mb  # noqa: E402
from benchdb import configure  # noqa: E402

GOAL_SECONDS = 60.0
COMMON_HOLDERS = 6  # every common MC is held by at least this many assessors
RARE_HOLDERS = 4  # a rare MC's handful, each in a different district
RARE_SHARE = 0.015  # of all submissions, for the rare MCs together
BATCH = 2000


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=20_000)
    parser.add_argument("--assessors", type=int, default=230)
    parser.add_argument("--districts", type=int, default=115)
    parser.add_argument("--schools", type=int, default=20, help="schools per district")
    parser.add_argument("--credentials", type=int, default=30, help="published MCs")
    parser.add_argument("--rare", type=int, default=4, help="MCs held by only a handful")
    parser.add_argument("--second-reads", type=float, default=0.15)
    parser.add_argument(
        "--slack",
        type=float,
        default=1.25,
        help="weekly capacity over each assessor's share of the demand (below 1: not every "
        "read fits, and the unassigned reads and their reasons are the figure)",
    )
    parser.add_argument("--sample", type=int, default=200, help="submissions assigned on submit")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="run the batch under cProfile")
    parser.add_argument("--skip-solver", action="store_true", help="no 1M x 5k solver figure")
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------- the state
@dataclass(frozen=True)
class Spec:
    """One submission to create: by whom (earner index), of which MC, from which school."""

    earner: int
    credential: int
    school: int  # organization id
    second: bool


@dataclass
class State:
    leas: list[int]
    schools_of: dict[int, list[int]]  # LEA id -> its school ids
    district_of: dict[int, int]  # school id -> LEA id
    versions: list[Any]  # published MicroCredentialVersion, by credential index
    rare: list[int]  # credential indexes
    specs: list[Spec]  # the backlog, rare MCs last
    sample: list[Spec]  # submitted later, one by one
    holders: dict[int, list[int]] = field(default_factory=dict)  # credential -> assessors
    held: list[set[int]] = field(default_factory=list)  # by assessor index: credentials
    capacity: list[int] = field(default_factory=list)  # by assessor index
    assessor_users: list[Any] = field(default_factory=list)
    earner_ids: list[int] = field(default_factory=list)  # user ids by earner index
    snapshots: list[dict[str, Any]] = field(default_factory=list)  # by credential index


def build_orgs(args: argparse.Namespace) -> tuple[Any, Any, Any, list[int], dict[int, list[int]]]:
    from microcred.orgs.models import Organization

    K = Organization.Kind
    state = Organization.objects.create(kind=K.STATE_AGENCY, name="State DPI", slug="dpi")
    assess = Organization.objects.create(
        kind=K.ASSESSMENT_ORG, name="State Scoring Center", slug="scoring", parent=state
    )
    provider = Organization.objects.create(kind=K.PROVIDER, name="Teach Together", slug="tt")
    leas = Organization.objects.bulk_create(
        Organization(kind=K.LEA, name=f"District {d + 1}", slug=f"lea-{d}", parent=state)
        for d in range(args.districts)
    )
    schools = Organization.objects.bulk_create(
        (
            Organization(
                kind=K.SCHOOL, name=f"School {s + 1}", slug=f"lea-{d}-school-{s}", parent=lea
            )
            for d, lea in enumerate(leas)
            for s in range(args.schools)
        ),
        batch_size=BATCH,
    )
    schools_of: dict[int, list[int]] = defaultdict(list)
    for school in schools:
        schools_of[school.parent_id].append(school.pk)
    return state, assess, provider, [lea.pk for lea in leas], schools_of


def publish_catalog(args: argparse.Namespace, state: Any, provider: Any) -> list[Any]:
    from microcred.orgs.models import Membership, Role, User
    from tests.catalog.factories import publish, vary

    author = User.objects.create_user(email="author@bench.example", password=None)
    Membership.objects.create(user=author, organization=provider, role=Role.PROVIDER_AUTHOR)
    reviewer = User.objects.create_user(email="reviewer@bench.example", password=None)
    Membership.objects.create(user=reviewer, organization=state, role=Role.VETTING_REVIEWER)
    return [
        publish(vary(title=f"Coaching practice {i + 1}"), provider, author, reviewer)
        for i in range(args.credentials)
    ]


def plan_backlog_specs(args: argparse.Namespace, state: State, rng: random.Random) -> None:
    """Which MC and school each submission has: common MCs by a steep popularity, then the
    rare MCs' submissions last; the on-submit sample follows the common mix."""
    common = [c for c in range(len(state.versions)) if c not in state.rare]
    popularity = [1.0 / (k + 1) ** 1.1 for k in range(len(common))]
    schools = [s for lea in state.leas for s in state.schools_of[lea]]
    n_rare = round(args.submissions * RARE_SHARE) if state.rare else 0

    def spec(earner: int, credential: int) -> Spec:
        return Spec(earner, credential, rng.choice(schools), rng.random() < args.second_reads)

    picks = rng.choices(common, weights=popularity, k=args.submissions - n_rare)
    state.specs = [spec(i, c) for i, c in enumerate(picks)]
    state.specs += [
        spec(len(state.specs) + i, state.rare[i % len(state.rare)]) for i in range(n_rare)
    ]
    first = len(state.specs)
    picks = rng.choices(common, weights=popularity, k=args.sample)
    state.sample = [spec(first + i, c) for i, c in enumerate(picks)]


def train_assessors(args: argparse.Namespace, state: State, rng: random.Random) -> list[int]:
    """Each assessor's home (an LEA or one of its schools, two per district at 230 x 115), the
    MCs they hold (popular ones more often, each common MC by several, each rare one by a
    handful in distinct districts) and a weekly capacity that fits every read; returns homes."""
    n_mc = len(state.versions)
    common = [c for c in range(n_mc) if c not in state.rare]
    demand = Counter()
    for s in state.specs + state.sample:
        demand[s.credential] += 2 if s.second else 1
    home_lea = [state.leas[a % len(state.leas)] for a in range(args.assessors)]
    homes = [
        lea if a % 2 == 0 else rng.choice(state.schools_of[lea]) for a, lea in enumerate(home_lea)
    ]
    held: list[set[int]] = []
    weights = [demand[c] + 0.2 * sum(demand.values()) / len(common) for c in common]
    for _ in range(args.assessors):
        k = rng.randint(2, min(4, len(common)))
        chosen: set[int] = set()
        while len(chosen) < k:
            chosen.add(rng.choices(common, weights=weights)[0])
        held.append(chosen)
    holders: dict[int, list[int]] = {c: [] for c in range(n_mc)}
    for a, chosen in enumerate(held):
        for c in chosen:
            holders[c].append(a)
    for c in common:
        while len(holders[c]) < COMMON_HOLDERS:
            a = rng.randrange(args.assessors)
            if a not in holders[c]:
                holders[c].append(a)
                held[a].add(c)
    for c in state.rare:
        districts_used: set[int] = set()
        while len(holders[c]) < RARE_HOLDERS:
            a = rng.randrange(args.assessors)
            if home_lea[a] not in districts_used:
                districts_used.add(home_lea[a])
                holders[c].append(a)
                held[a].add(c)
    # Each holder's share of an MC's reads, counting only the holders who may take them (the
    # earner's own district is conflicted), so a rare MC's handful is sized for what it gets.
    share = [0.0] * args.assessors
    by_mc_district: dict[tuple[int, int], int] = Counter()
    for s in state.specs + state.sample:
        by_mc_district[s.credential, state.district_of[s.school]] += 2 if s.second else 1
    for (c, district), reads in by_mc_district.items():
        free = [a for a in holders[c] if home_lea[a] != district] or holders[c]
        for a in free:
            share[a] += reads / len(free)
    state.holders = holders
    state.capacity = [math.ceil(args.slack * x) + 2 for x in share]
    state.held = held
    return homes


def create_people(
    args: argparse.Namespace, state: State, assess: Any, homes: list[int], rng: random.Random
) -> None:
    from microcred.assessment.models import (
        AssessorProfile,
        CoachingRelationship,
        DeclaredConflict,
        Qualification,
    )
    from microcred.orgs.models import Membership, Role, User

    total = len(state.specs) + len(state.sample)
    users = User.objects.bulk_create(
        (
            User(
                email=f"assessor{a}@bench.example",
                first_name="Asa",
                last_name=f"Sessor {a}",
                password="!",
            )
            for a in range(args.assessors)
        ),
        batch_size=BATCH,
    )
    state.assessor_users = users
    Membership.objects.bulk_create(
        [Membership(user=u, organization=assess, role=Role.ASSESSOR) for u in users]
        # A few assessors lead scoring too (they would take third reads).
        + [Membership(user=u, organization=assess, role=Role.SCORING_LEAD) for u in users[:4]],
        batch_size=BATCH,
    )
    profiles = AssessorProfile.objects.bulk_create(
        AssessorProfile(user=u, home_organization_id=homes[a], weekly_capacity=state.capacity[a])
        for a, u in enumerate(users)
    )
    now = time_now()
    through = AssessorProfile.qualified_micro_credentials.through
    through.objects.bulk_create(
        (
            through(
                assessorprofile_id=profiles[a].pk,
                microcredential_id=state.versions[c].micro_credential_id,
            )
            for a, chosen in enumerate(state.held)
            for c in chosen
        ),
        batch_size=BATCH,
    )
    Qualification.objects.bulk_create(
        (
            Qualification(
                assessor=profiles[a],
                micro_credential_id=state.versions[c].micro_credential_id,
                status=Qualification.Status.QUALIFIED,
                source=Qualification.Source.ATTESTED,
                qualified_at=now,
                recalibrate_by=now + timedelta(days=365),
                note="Bench data.",
            )
            for a, chosen in enumerate(state.held)
            for c in chosen
        ),
        batch_size=BATCH,
    )
    earners = User.objects.bulk_create(
        (
            User(
                email=f"earner{i}@bench.example",
                first_name="Inez",
                last_name=f"Earner {i}",
                password="!",
            )
            for i in range(total)
        ),
        batch_size=BATCH,
    )
    state.earner_ids = [u.pk for u in earners]
    school_of = {s.earner: s.school for s in state.specs + state.sample}
    all_schools = list(state.district_of)
    memberships = [
        Membership(user_id=state.earner_ids[i], organization_id=school, role=Role.EARNER)
        for i, school in school_of.items()
    ]
    # Some teachers work in two schools, often in another district.
    memberships += [
        Membership(user_id=state.earner_ids[i], organization_id=other, role=Role.EARNER)
        for i, school in school_of.items()
        if rng.random() < 0.03 and (other := rng.choice(all_schools)) != school
    ]
    Membership.objects.bulk_create(memberships, batch_size=BATCH)
    # Declared conflicts: about a tenth of assessors, half with a district, half with a person.
    declared = []
    for a in rng.sample(range(args.assessors), args.assessors // 10):
        if a % 2:
            declared.append(
                DeclaredConflict(
                    assessor=profiles[a],
                    organization_id=rng.choice(state.leas),
                    reason="My spouse works there.",
                )
            )
        else:
            declared.append(
                DeclaredConflict(
                    assessor=profiles[a],
                    user_id=rng.choice(state.earner_ids),
                    reason="A former colleague.",
                )
            )
    DeclaredConflict.objects.bulk_create(declared)
    # Coaching: one earner in a hundred is coached by an assessor.
    pairs = {
        (rng.choice(users).pk, rng.choice(state.earner_ids)) for _ in range(max(1, total // 100))
    }
    CoachingRelationship.objects.bulk_create(
        CoachingRelationship(coach_id=coach, earner_id=earner) for coach, earner in pairs
    )


def time_now() -> Any:
    from django.utils import timezone

    return timezone.now()


SENTENCE = (
    "I coached my mentee through a planning cycle and we looked at student work together "
    "before deciding on the next small step for the lesson and the feedback it needs"
)


def snapshot_for(version: Any, rng: random.Random) -> dict[str, Any]:
    """A portfolio snapshot shaped as earning.services._snapshot writes it, as large as a real
    one (about 500 words per written part, a video with notes per upload part): planning reads
    the submission rows, so their size belongs in the figure."""
    from microcred.catalog.models import EvidenceRequirement

    items = []
    for requirement in version.evidence_requirements.order_by("order"):
        text = requirement.kind in EvidenceRequirement.TEXT_KINDS
        items.append(
            {
                "requirement": requirement.pk,
                "title": requirement.title,
                "text": " ".join(rng.choices(SENTENCE.split(), k=500)) if text else "",
                "words": 500 if text else 0,
                "artifacts": []
                if text
                else [
                    {
                        "upload": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        "filename": "coaching-session.mp4",
                        "size": 412_000_000,
                        "content_type": "video/mp4",
                        "sha256": f"{rng.getrandbits(256):064x}",
                        "duration_seconds": 660,
                        "notes": [
                            {"seconds": 60 * k, "component": None, "note": "Here I ask."}
                            for k in range(3)
                        ],
                    }
                ],
            }
        )
    return {"attempt": "", "version": version.pk, "number": 1, "items": items}


def add_submissions(state: State, specs: Sequence[Spec]) -> list[Any]:
    """Attempts, submissions and their second-read draws for these specs, in order (so a later
    spec has a later submitted_at and pk)."""
    from microcred.assessment.models import SecondRead
    from microcred.earning.models import Attempt, Submission

    attempts = Attempt.objects.bulk_create(
        (
            Attempt(
                version=state.versions[s.credential],
                earner_id=state.earner_ids[s.earner],
                school_id=s.school,
                status=Attempt.Status.SUBMITTED,
            )
            for s in specs
        ),
        batch_size=BATCH,
    )
    submissions = Submission.objects.bulk_create(
        (
            Submission(
                attempt=attempt,
                number=1,
                snapshot=state.snapshots[s.credential],
                submitted_by_id=state.earner_ids[s.earner],
            )
            for s, attempt in zip(specs, attempts, strict=True)
        ),
        batch_size=BATCH,
    )
    SecondRead.objects.bulk_create(
        (
            SecondRead(submission=sub, reason=SecondRead.Reason.SAMPLED)
            for s, sub in zip(specs, submissions, strict=True)
            if s.second
        ),
        batch_size=BATCH,
    )
    return submissions


def build(args: argparse.Namespace) -> State:
    from django.db import transaction

    rng = random.Random(args.seed)
    with transaction.atomic():
        state_org, assess, provider, leas, schools_of = build_orgs(args)
        versions = publish_catalog(args, state_org, provider)
        n_rare = min(args.rare, max(len(versions) - 1, 0))
        state = State(
            leas=leas,
            schools_of=schools_of,
            district_of={s: lea for lea, ss in schools_of.items() for s in ss},
            versions=versions,
            rare=list(range(len(versions) - n_rare, len(versions))),
            specs=[],
            sample=[],
        )
        plan_backlog_specs(args, state, rng)
        homes = train_assessors(args, state, rng)
        create_people(args, state, assess, homes, rng)
        state.snapshots = [snapshot_for(v, rng) for v in versions]
        add_submissions(state, state.specs)
    return state


# ---------------------------------------------------------------------------- measuring
class QueryCounter:
    """Counts every statement the connection executes (an executemany counts once) and keeps
    the slowest, so a profile shows which query the time goes to."""

    def __init__(self) -> None:
        self.count = 0
        self.timed: list[tuple[float, str]] = []

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any):
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, ctx)
        finally:
            self.timed.append((time.perf_counter() - started, sql))

    def slowest(self, n: int = 8) -> str:
        return "\n".join(
            f"  {seconds:7.2f} s  {sql[:160]}{' ...' * (len(sql) > 160)}"
            for seconds, sql in sorted(self.timed, key=lambda t: -t[0])[:n]
        )


@contextmanager
def counted() -> Iterator[QueryCounter]:
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        yield counter


def verify() -> list[str]:
    """Every rule the plan must keep, checked from the database alone (conflicts through the
    one place that holds their rules)."""
    from microcred.assessment.conflicts import ConflictIndex, OrgTree, facts_for
    from microcred.assessment.models import AssessorProfile, Assignment, Qualification
    from microcred.earning.models import Submission

    live = list(
        Assignment.objects.filter(
            purpose=Assignment.Purpose.LIVE,
            status__in=[Assignment.Status.ASSIGNED, Assignment.Status.COMPLETED],
        ).values_list("pk", "submission_id", "assessor_id", "kind", "assigned_at")
    )
    problems: list[str] = []
    tree = OrgTree()
    submissions = Submission.objects.filter(pk__in={row[1] for row in live}).select_related(
        "attempt__version"
    )
    mc_of = {s.pk: s.attempt.version.micro_credential_id for s in submissions}
    facts = facts_for(submissions, tree)
    profiles = list(AssessorProfile.objects.all())
    index = ConflictIndex.load(profiles, tree)
    capacity = {p.pk: p.weekly_capacity for p in profiles}
    trained = set(
        AssessorProfile.qualified_micro_credentials.through.objects.values_list(
            "assessorprofile_id", "microcredential_id"
        )
    )
    qualified = set(
        Qualification.objects.filter(
            status=Qualification.Status.QUALIFIED, recalibrate_by__gt=time_now()
        ).values_list("assessor_id", "micro_credential_id")
    )
    since = time_now() - timedelta(days=7)
    this_week: Counter[int] = Counter()
    pairs: Counter[tuple[int, int]] = Counter()
    reads: Counter[tuple[int, str]] = Counter()
    for pk, submission_id, assessor_id, kind, assigned_at in live:
        if assessor_id in index.conflicted(facts[submission_id]):
            why = "; ".join(index.reasons(assessor_id, facts[submission_id]))
            problems.append(f"assignment {pk}: assessor {assessor_id} is conflicted ({why})")
        pair = (assessor_id, mc_of[submission_id])
        if pair not in trained or pair not in qualified:
            problems.append(f"assignment {pk}: assessor {assessor_id} is not qualified for it")
        if assigned_at >= since:
            this_week[assessor_id] += 1
        pairs[submission_id, assessor_id] += 1
        reads[submission_id, kind] += 1
    problems += [
        f"assessor {a} has {n} reads this week, capacity {capacity[a]}"
        for a, n in this_week.items()
        if n > capacity[a]
    ]
    problems += [
        f"submission {s}: {n} reads by assessor {a}" for (s, a), n in pairs.items() if n > 1
    ]
    problems += [
        f"submission {s}: its {k} read given {n} times" for (s, k), n in reads.items() if n > 1
    ]
    return problems


def spread() -> str:
    """How evenly the reads went: reads per assessor and their share of weekly capacity."""
    from django.db.models import Count, Q

    from microcred.assessment.models import AssessorProfile

    rows = AssessorProfile.objects.annotate(
        n=Count("assignments", filter=Q(assignments__status="assigned"))
    ).values_list("n", "weekly_capacity")
    counts = sorted(n for n, _ in rows)
    used = sorted(n / c for n, c in rows if c)
    return (
        f"reads per assessor min {counts[0]}, median {statistics.median(counts):.0f}, "
        f"max {counts[-1]}; share of capacity used min {used[0]:.0%}, "
        f"median {statistics.median(used):.0%}, max {used[-1]:.0%}"
    )


def report_checks(label: str) -> bool:
    started = time.perf_counter()
    problems = verify()
    print(
        f"  checks after {label} ({time.perf_counter() - started:.1f} s): conflicted, unqualified, "
        f"over capacity, two reads to one assessor, one read given twice: "
        f"{len(problems)} violations"
    )
    for problem in problems[:20]:
        print(f"    {problem}")
    return not problems


def run_batch(profile: bool) -> tuple[Any, float, int]:
    from microcred.assessment import services

    profiler = cProfile.Profile() if profile else None
    with counted() as counter:
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        result = services.plan_backlog()
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
        print(out.getvalue())
        print(f"slowest SQL statements of the batch:\n{counter.slowest()}")
    return result, seconds, counter.count


def run_sample(state: State) -> tuple[list[float], list[int], int]:
    """The on-submit path: each fresh submission through services.assign, one at a time."""
    from microcred.assessment import services

    submissions = add_submissions(state, state.sample)
    times: list[float] = []
    queries: list[int] = []
    unplaced = 0
    for submission in submissions:
        with counted() as counter:
            started = time.perf_counter()
            if services.assign(submission) is None:
                unplaced += 1
            times.append((time.perf_counter() - started) * 1000)
        queries.append(counter.count)
    return times, queries, unplaced


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    ok = True
    with tempfile.TemporaryDirectory(prefix="microcred-bench-") as tmp:
        configure(Path(tmp))
        from django.db import connection
        from django.urls import reverse

        test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            started = time.perf_counter()
            state = build(args)
            if connection.vendor == "postgresql":
                # Table statistics, as autovacuum gathers them soon after a bulk load.
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            built = time.perf_counter() - started
            n = len(state.specs)
            seconds_drawn = sum(s.second for s in state.specs)
            rare_subs = sum(1 for s in state.specs if s.credential in state.rare)
            print(
                f"Assignment benchmark on {connection.vendor} ({test_db}): "
                f"{args.districts} districts x {args.schools} schools, {len(state.versions)} "
                f"published MCs ({len(state.rare)} rare, held by {RARE_HOLDERS} assessors each, "
                f"{rare_subs:,} submissions last), {args.assessors} assessors, {n:,} submissions "
                f"({seconds_drawn:,} drawn for a second read); built in {built:.1f} s"
            )
            caps = sorted(state.capacity)
            print(
                f"  weekly capacity: {sum(caps):,} in all for {n + seconds_drawn:,} reads "
                f"(+{len(state.sample)} sample submissions later); per assessor min {caps[0]}, "
                f"median {statistics.median(caps):.0f}, max {caps[-1]} "
                f"({args.slack:.2f} x their share of the demand + 2)"
            )
            # As in a running worker: the URLconf (notifications link to pages) is loaded.
            reverse("assessment:queue")
            gc.collect()
            rss_before = peak_mb()
            result, seconds, queries = run_batch(args.profile)
            unassigned = len(result.unassigned)
            needed = len(result.assigned) + unassigned + result.kept
            reasons = Counter(result.unassigned.values())
            print(
                f"batch (services.plan_backlog): {needed:,} reads needed, "
                f"{len(result.assigned):,} assigned, {unassigned:,} unassigned in "
                f"{seconds:.1f} s (goal < {GOAL_SECONDS:.0f} s{' under cProfile' * args.profile})"
                f", {queries:,} SQL statements, peak RSS {peak_mb():,.0f} MB "
                f"({rss_before:,.0f} MB after setup)"
            )
            for reason, count in reasons.most_common():
                print(f"    {count:,} x {reason}")
            if needed != n + seconds_drawn:
                print(f"  MISMATCH: the setup made {n + seconds_drawn:,} reads")
                ok = False
            print(f"  {spread()}")
            ok = report_checks("the batch") and ok
            fits = args.slack >= 1  # otherwise reads are left over by construction
            ok = ok and (unassigned == 0 or not fits) and (seconds < GOAL_SECONDS or args.profile)

            if args.sample:
                times, counts, unplaced = run_sample(state)
                print(
                    f"on submit (services.assign, one by one): {len(times)} submissions, "
                    f"median {statistics.median(times):.1f} ms, mean "
                    f"{statistics.fmean(times):.1f} ms, max {max(times):.1f} ms; "
                    f"{statistics.fmean(counts):.1f} SQL statements per submission "
                    f"(max {max(counts)}); {unplaced} left without a first read"
                )
                ok = report_checks("the on-submit sample") and ok and (unplaced == 0 or not fits)
        finally:
            connection.creation.destroy_test_db(test_db, verbosity=0)
    if not args.skip_solver:
        print("\nbatch solver alone (bench/assignment_solver.py, 1,000,000 x 5,000):")
        ok = solver_main([]) == 0 and ok
    print("\nOK: every goal met." if ok else "\nFAILED: see above.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

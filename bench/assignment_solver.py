#!/usr/bin/env python
"""Benchmark of the assignment optimizer (assessment.solver) at state and national scale.

    .venv/bin/python bench/assignment_solver.py [--submissions 1000000] [--assessors 5000]
        [--credentials 300] [--districts 115] [--second-reads 0.15] [--seed 1] [--replan]

Pure: no database. Builds a synthetic backlog: credentials whose popularity falls off steeply
(so some are rarely held), assessors each qualified for 2 to 4 of them (popular ones more
often, every one by at least four), each assessor in one district and conflicted with every
earner of that district, a share of submissions needing a second read, and weekly capacity 25% above
each assessor's share of the demand, so every read can be placed. Then plans it once with
`solver.plan` and prints the time to build the network, solve it and split flows into reads,
the network's size, the reads left unassigned, any broken constraint, and the peak resident
memory. With --replan it plans again with every read held by its first assessor (the nightly
re-plan of an unstarted backlog, which aggregates less) and prints the same figures and the
number of reads moved.

Goals (issue 9): 1,000,000 submissions x 5,000 assessors planned in under 120 s on a 2-core
machine with 0 unassigned; the state's 20,000 x 230 in well under a second of solving. Exits
with status 1 when a plan misses the time goal, leaves a read unassigned, or breaks a
constraint.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from microcred.assessment.solver import (  # noqa: E402
    AssessorSlot,
    Plan,
    ReadRequest,
    Weights,
    plan,
)

GOAL_SECONDS = 120.0
MIN_HOLDERS = 4


def peak_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def backlog(args: argparse.Namespace) -> tuple[list[ReadRequest], list[AssessorSlot]]:
    rng = np.random.default_rng(args.seed)
    credentials, districts = args.credentials, args.districts
    popularity = 1.0 / np.arange(1, credentials + 1) ** 1.1
    popularity = rng.permutation(popularity / popularity.sum())

    # Qualifications follow demand, with a uniform share so rare credentials have a few holders.
    pick = 0.8 * popularity + 0.2 / credentials
    home = rng.integers(0, districts, args.assessors)
    holders: list[list[int]] = [[] for _ in range(credentials)]
    qualified: list[np.ndarray] = []
    for assessor in range(args.assessors):
        chosen = rng.choice(credentials, size=int(rng.integers(2, 5)), replace=False, p=pick)
        qualified.append(chosen)
        for credential in chosen.tolist():
            holders[credential].append(assessor + 1)
    # Every credential offered has a few holders (in different districts, usually), enough for
    # two independent reads even when one of them is conflicted.
    for credential, names in enumerate(holders):
        while len(names) < MIN_HOLDERS:
            assessor = int(rng.integers(0, args.assessors))
            if assessor + 1 not in names:
                names.append(assessor + 1)
                qualified[assessor] = np.append(qualified[assessor], credential)

    credential_of = rng.choice(credentials, size=args.submissions, p=popularity)
    district_of = rng.integers(0, districts, args.submissions)
    reads_of = np.where(rng.random(args.submissions) < args.second_reads, 2, 1)

    district_members: list[set[int]] = [set() for _ in range(districts)]
    for assessor, district in enumerate(home.tolist()):
        district_members[district].add(assessor + 1)
    eligible_sets: dict[tuple[int, int], frozenset[int]] = {}
    reads: list[ReadRequest] = []
    for submission, (credential, district, count) in enumerate(
        zip(credential_of.tolist(), district_of.tolist(), reads_of.tolist(), strict=True)
    ):
        eligible = eligible_sets.get((credential, district))
        if eligible is None:
            eligible = frozenset(holders[credential]) - district_members[district]
            eligible_sets[credential, district] = eligible
        for k in range(count):
            reads.append(ReadRequest((submission, k), submission, eligible))

    demand = np.bincount(credential_of, weights=reads_of, minlength=credentials)
    per_holder = demand / np.maximum([len(h) for h in holders], 1)
    slots = [
        AssessorSlot(
            assessor + 1,
            spare=int(np.ceil(1.25 * per_holder[qualified[assessor]].sum())) + 2,
            load=int(rng.integers(0, 6)),
        )
        for assessor in range(args.assessors)
    ]
    return reads, slots


def report(label: str, result: Plan) -> bool:
    t = result.timings
    total = t["build"] + t["solve"] + t["decompose"]
    problems = result.objective.violations(result.assigned)
    print(
        f"{label}: {result.stats['reads']:,} reads in {result.stats['classes']:,} classes, "
        f"{result.stats['nodes']:,} nodes, {result.stats['arcs']:,} arcs"
    )
    print(
        f"  build {t['build']:.1f} s, solve {t['solve']:.1f} s, decompose {t['decompose']:.1f} s,"
        f" total {total:.1f} s (goal < {GOAL_SECONDS:.0f} s)"
    )
    reasons = Counter(result.unassigned.values())
    print(
        f"  unassigned {len(result.unassigned):,}{f' {dict(reasons)}' if reasons else ''}, "
        f"broken constraints {len(problems):,}, peak RSS {peak_mb():,.0f} MB"
    )
    return total < GOAL_SECONDS and not result.unassigned and not problems


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark with these command-line arguments (sys.argv's when None); bench/
    assignment.py calls it after its database figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=1_000_000)
    parser.add_argument("--assessors", type=int, default=5_000)
    parser.add_argument("--credentials", type=int, default=300)
    parser.add_argument("--districts", type=int, default=115)
    parser.add_argument("--second-reads", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--replan", action="store_true")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    reads, slots = backlog(args)
    print(
        f"backlog: {args.submissions:,} submissions, {len(reads):,} reads, "
        f"{args.assessors:,} assessors, {sum(s.spare for s in slots):,} spare; generated in "
        f"{time.perf_counter() - started:.1f} s, RSS {peak_mb():,.0f} MB"
    )
    weights = Weights(seed=args.seed)
    first = plan(reads, slots, weights)
    ok = report("plan", first)
    if args.replan:
        held = [
            ReadRequest(r.key, r.submission, r.eligible, first.assigned.get(r.key)) for r in reads
        ]
        del first
        again = plan(held, slots, Weights(seed=args.seed + 1))
        ok = report("re-plan", again) and ok
        moved = sum(1 for r in held if again.assigned.get(r.key) != r.current)
        print(f"  reads moved by the re-plan: {moved:,}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

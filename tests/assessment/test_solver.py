"""The assignment optimizer (assessment.solver): constraints, optimality against brute force,
stranding, keeping work in place, jitter, and bad input. Pure: no database."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred.assessment.solver import (
    AssessorSlot,
    Plan,
    PlanCost,
    ReadRequest,
    Shortfall,
    Weights,
    plan,
)

FLAT = Weights(load_step=10, jitter=0, keep_bonus=0)


@st.composite
def instances(
    draw: st.DrawFn, max_reads: int = 7, max_assessors: int = 4
) -> tuple[list[ReadRequest], list[AssessorSlot], Weights]:
    """Random reads and assessors. Eligible sets come from a small pool, so submissions share
    classes (the aggregated path) and reads of one submission sometimes differ (the exact
    per-submission path); one id in the pool is nobody in the assessor list."""
    count = draw(st.integers(0, max_assessors))
    slots = [
        AssessorSlot(i + 1, spare=draw(st.integers(0, 3)), load=draw(st.integers(0, 3)))
        for i in range(count)
    ]
    ids = st.sampled_from(range(1, max_assessors + 2))
    pool = draw(st.lists(st.frozensets(ids), min_size=1, max_size=3))
    reads = [
        ReadRequest(
            key=f"r{i}",
            submission=f"s{draw(st.integers(0, max_reads // 2))}",
            eligible=draw(st.sampled_from(pool)),
            current=draw(st.none() | ids),
        )
        for i in range(draw(st.integers(0, max_reads)))
    ]
    weights = Weights(
        load_step=draw(st.integers(0, 6)),
        jitter=draw(st.integers(0, 6)),
        keep_bonus=draw(st.integers(0, 12)),
        seed=draw(st.integers(0, 2**32 - 1)),
    )
    return reads, slots, weights


def assert_feasible(result: Plan, reads: list[ReadRequest], slots: list[AssessorSlot]) -> None:
    """Checks the hard constraints here, independently of the module's own `violations`."""
    spare = {s.id: s.spare for s in slots}
    by_key = {r.key: r for r in reads}
    assert set(result.assigned) | set(result.unassigned) == set(by_key)
    assert not set(result.assigned) & set(result.unassigned)
    for key, assessor in result.assigned.items():
        assert assessor in by_key[key].eligible
        assert spare.get(assessor, 0) > 0
    for assessor, count in Counter(result.assigned.values()).items():
        assert count <= spare[assessor]
    pairs = [(by_key[key].submission, a) for key, a in result.assigned.items()]
    assert len(pairs) == len(set(pairs)), "two reads of one submission went to one assessor"
    assert result.objective.violations(result.assigned) == []


def brute_force(result: Plan, reads: list[ReadRequest], slots: list[AssessorSlot]) -> PlanCost:
    """The best `cost_of` over every feasible assignment (each read to an eligible assessor
    with room who has no other read of its submission, or to nobody)."""
    spare = {s.id: s.spare for s in slots}
    best: PlanCost | None = None
    mapping: dict[Hashable, int] = {}
    used: Counter[int] = Counter()
    pairs: set[tuple[Hashable, int]] = set()

    def visit(index: int) -> None:
        nonlocal best
        if index == len(reads):
            cost = result.cost_of(mapping)
            best = cost if best is None else min(best, cost)
            return
        read = reads[index]
        visit(index + 1)
        for assessor in sorted(read.eligible):
            pair = (read.submission, assessor)
            if used[assessor] >= spare.get(assessor, 0) or pair in pairs:
                continue
            mapping[read.key] = assessor
            used[assessor] += 1
            pairs.add(pair)
            visit(index + 1)
            pairs.discard(pair)
            used[assessor] -= 1
            del mapping[read.key]

    visit(0)
    assert best is not None
    return best


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_small_plans_match_the_brute_force_optimum(
    instance: tuple[list[ReadRequest], list[AssessorSlot], Weights],
) -> None:
    reads, slots, weights = instance
    result = plan(reads, slots, weights)
    assert_feasible(result, reads, slots)
    # The flow's own cost is what its reads cost: splitting classes into reads lost nothing.
    assert result.cost_of(result.assigned) == result.cost
    assert result.cost == brute_force(result, reads, slots)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_reads=60, max_assessors=8))
def test_larger_plans_respect_every_constraint(
    instance: tuple[list[ReadRequest], list[AssessorSlot], Weights],
) -> None:
    reads, slots, weights = instance
    result = plan(reads, slots, weights)
    assert_feasible(result, reads, slots)
    assert result.cost_of(result.assigned) == result.cost
    known = {s.id for s in slots}
    for key, reason in result.unassigned.items():
        read = next(r for r in reads if r.key == key)
        assert (reason is Shortfall.NO_ELIGIBLE) == read.eligible.isdisjoint(known)


@settings(max_examples=60, deadline=None)
@given(instances(max_reads=40, max_assessors=6))
def test_replanning_an_optimal_plan_moves_nothing(
    instance: tuple[list[ReadRequest], list[AssessorSlot], Weights],
) -> None:
    reads, slots, weights = instance
    weights = Weights(weights.load_step, weights.jitter, 2 * weights.jitter + 1, weights.seed)
    first = plan(reads, slots, weights)
    held = [ReadRequest(r.key, r.submission, r.eligible, first.assigned.get(r.key)) for r in reads]
    again = plan(held, slots, Weights(weights.load_step, weights.jitter, weights.keep_bonus, 7))
    assert again.assigned == first.assigned


def test_cost_is_the_rising_load_cost_minus_the_keep_bonus() -> None:
    slots = [AssessorSlot(1, spare=2, load=2), AssessorSlot(2, spare=3, load=0)]
    reads = [ReadRequest(f"r{i}", f"s{i}", frozenset({1, 2})) for i in range(3)]
    result = plan(reads, slots, FLAT)
    # Assessor 2's reads cost 10, 20, 30; assessor 1 (two open already) starts at 30.
    assert result.cost == PlanCost(0, 60)
    assert result.cost_of({"r0": 1, "r1": 2, "r2": 2}) == PlanCost(0, 30 + 10 + 20)
    assert result.cost_of({"r0": 1, "r1": 1}) == PlanCost(1, 30 + 40)

    kept = [ReadRequest("r0", "s0", frozenset({1, 2}), current=1), *reads[1:]]
    result = plan(kept, slots, Weights(load_step=10, jitter=0, keep_bonus=7))
    assert result.assigned == {"r0": 1, "r1": 2, "r2": 2}
    assert result.cost == PlanCost(0, 60 - 7)


def test_the_rising_cost_spreads_work_evenly() -> None:
    slots = [AssessorSlot(a, spare=20) for a in range(1, 6)]
    reads = [ReadRequest(i, i, frozenset(range(1, 6))) for i in range(20)]
    result = plan(reads, slots, FLAT)
    assert Counter(result.assigned.values()) == {a: 4 for a in range(1, 6)}


def test_an_open_load_is_counted() -> None:
    slots = [AssessorSlot(1, spare=10, load=6), AssessorSlot(2, spare=10, load=0)]
    reads = [ReadRequest(i, i, frozenset({1, 2})) for i in range(8)]
    result = plan(reads, slots, FLAT)
    assert Counter(result.assigned.values()) == {1: 1, 2: 7}


def test_reads_of_a_rarely_held_credential_arriving_last_are_not_stranded() -> None:
    # Assessor 3 alone holds the rare credential. One at a time, the common reads spread over
    # all three and use up assessor 3's time before the rare ones arrive.
    common = [ReadRequest(f"c{i}", f"c{i}", frozenset({1, 2, 3})) for i in range(8)]
    rare = [ReadRequest(f"x{i}", f"x{i}", frozenset({3})) for i in range(4)]
    slots = [AssessorSlot(a, spare=4) for a in (1, 2, 3)]
    result = plan(common + rare, slots)
    assert result.unassigned == {}
    assert all(result.assigned[r.key] == 3 for r in rare)


def test_two_reads_of_a_submission_go_to_two_assessors() -> None:
    reads = [
        ReadRequest((s, k), s, frozenset({1, 2})) for s in range(5) for k in ("first", "second")
    ]
    result = plan(reads, [AssessorSlot(1, spare=9), AssessorSlot(2, spare=9)])
    assert result.stats["classes"] == 1
    for s in range(5):
        assert {result.assigned[(s, "first")], result.assigned[(s, "second")]} == {1, 2}

    alone = plan(reads, [AssessorSlot(1, spare=9)])
    assert len(alone.assigned) == 5
    assert set(alone.unassigned.values()) == {Shortfall.TAKEN}


def test_reads_of_one_submission_with_different_eligibility_stay_apart() -> None:
    reads = [
        ReadRequest("a", "s", frozenset({1, 2})),
        ReadRequest("b", "s", frozenset({1})),
    ]
    result = plan(reads, [AssessorSlot(1, spare=5), AssessorSlot(2, spare=5, load=50)])
    assert result.assigned == {"a": 2, "b": 1}


def test_a_keep_bonus_holds_work_until_moving_it_clearly_helps() -> None:
    # Assessor 1 holds four reads; assessor 2 just joined with nothing to do.
    slots = [AssessorSlot(1, spare=4), AssessorSlot(2, spare=4)]
    held = [ReadRequest(i, i, frozenset({1, 2}), current=1) for i in range(4)]
    stay = plan(held, slots, Weights(load_step=10, jitter=0, keep_bonus=100))
    assert set(stay.assigned.values()) == {1}
    move = plan(held, slots, Weights(load_step=10, jitter=0, keep_bonus=5))
    assert Counter(move.assigned.values()) == {1: 2, 2: 2}


def test_jitter_varies_choices_between_seeds_but_not_feasibility() -> None:
    slots = [AssessorSlot(a, spare=10) for a in range(1, 6)]
    reads = [ReadRequest(i, i // 2, frozenset(range(1, 6))) for i in range(30)]
    plans = [plan(reads, slots, Weights(load_step=1, jitter=5, seed=seed)) for seed in range(6)]
    for result in plans:
        assert_feasible(result, reads, slots)
        assert result.unassigned == {}
    assert len({tuple(sorted(p.assigned.items())) for p in plans}) > 1
    again = plan(reads, slots, Weights(load_step=1, jitter=5, seed=3))
    assert again.assigned == plans[3].assigned


def test_without_jitter_the_seed_still_shuffles_who_reads_which_submission() -> None:
    slots = [AssessorSlot(a, spare=10) for a in range(1, 4)]
    reads = [ReadRequest(i, i, frozenset({1, 2, 3})) for i in range(12)]
    plans = [plan(reads, slots, Weights(load_step=1, jitter=0, seed=seed)) for seed in range(4)]
    assert all(Counter(p.assigned.values()) == {1: 4, 2: 4, 3: 4} for p in plans)
    assert len({tuple(sorted(p.assigned.items())) for p in plans}) > 1


def test_nothing_to_plan_or_nobody_to_plan_it_for() -> None:
    empty = plan([], [])
    assert (empty.assigned, empty.unassigned, empty.cost) == ({}, {}, PlanCost(0, 0))

    reads = [ReadRequest("r", "s", frozenset({1})), ReadRequest("q", "t", frozenset())]
    assert plan(reads, []).unassigned == {"r": Shortfall.NO_ELIGIBLE, "q": Shortfall.NO_ELIGIBLE}
    full = plan(reads, [AssessorSlot(1, spare=0), AssessorSlot(2, spare=-3)])
    assert full.unassigned == {"r": Shortfall.NO_CAPACITY, "q": Shortfall.NO_ELIGIBLE}
    assert plan(reads, [AssessorSlot(2, spare=5)]).unassigned["r"] is Shortfall.NO_ELIGIBLE


def test_bad_input_is_refused() -> None:
    read = ReadRequest("r", "s", frozenset({1}))
    with pytest.raises(ValueError, match="listed twice"):
        plan([read, read], [AssessorSlot(1, spare=1)])
    with pytest.raises(ValueError, match="listed twice"):
        plan([read], [AssessorSlot(1, spare=1), AssessorSlot(1, spare=2)])
    with pytest.raises(ValueError, match="negative"):
        Weights(jitter=-1)


def test_cost_of_refuses_an_infeasible_mapping() -> None:
    reads = [ReadRequest("a", "s", frozenset({1, 2})), ReadRequest("b", "s", frozenset({1, 2}))]
    result = plan(reads, [AssessorSlot(1, spare=1), AssessorSlot(2, spare=2)], FLAT)
    with pytest.raises(ValueError, match="two reads"):
        result.cost_of({"a": 2, "b": 2})
    with pytest.raises(ValueError, match="spare"):
        result.cost_of({"a": 1, "b": 1})
    with pytest.raises(ValueError, match="ineligible"):
        result.cost_of({"a": 3})

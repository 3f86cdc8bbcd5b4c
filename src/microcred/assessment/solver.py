"""Plan who reads what: reads -> assessors as one min-cost flow (issue 9). Pure: no Django.

The caller (assessment.services) loads eligibility for every read in bulk, calls `plan`, and
writes the assignments. This module only decides.

Hard constraints: a read goes only to an assessor in its `eligible` set who has spare capacity;
no assessor gets more reads than `spare`; two reads of one submission never go to one assessor.
Objective, lexicographic: first assign as many reads as possible, then minimise

    sum over assessors of  load_step * (load + k)   for their k-th read of this plan, k = 1, 2, ...
  + jitter(class of the read, assessor)             a seeded random 0..Weights.jitter
  - keep_bonus                                      for each read left with its current assessor

The rising load cost is convex, so it is modelled exactly by one unit arc per step from an
assessor to the sink. "Most reads first" is exact too: OR-Tools computes a maximum flow and then
the cheapest among maximum flows, so no penalty weight has to be tuned against the other costs.

It scales by aggregating. Submissions whose reads share one eligible set, the same number of
reads in this plan and the same current holders form a class: one node whose supply is the
class's reads, with one arc per eligible assessor of capacity "number of submissions" (an
assessor takes at most one read of each). Any flow on those arcs can be split back into reads
without breaking the rule: lay the class's reads out round by round (position p belongs to
submission p mod n) and give each assessor a contiguous block; a block of at most n positions
touches n distinct submissions. Within a submission a current holder takes back their own read
first, so every keep bonus the flow counted is realised. The split therefore costs exactly what
the flow costs, and the aggregated optimum is the per-read optimum.

Reads of one submission with different eligible sets (rare: give all re-planned reads of a
submission the same set and let this module keep them apart) cannot share a class node; each
such submission gets its own exact gadget (read -> (submission, assessor) node of capacity 1 ->
assessor), which costs arcs per read instead of per class.

numpy and OR-Tools are imported inside `plan`: web workers import the assessment app and must
not load them at start-up.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from time import perf_counter
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """One read to place. `eligible` already leaves out everyone who may not read it (not
    qualified, paused, conflicted, or an earlier reader of the submission); it should not leave
    out the holder of another read of the same submission that is re-planned here, since this
    module keeps such reads apart itself and identical sets aggregate better."""

    key: Hashable
    submission: Hashable
    eligible: frozenset[int]
    # The assessor holding the read now, when an unstarted assignment is re-planned.
    current: int | None = None


@dataclass(frozen=True, slots=True)
class AssessorSlot:
    id: int
    # How many reads this plan may give them, kept reads included (below 0 counts as 0).
    spare: int
    # Reads open now that this plan does not touch; the first read of this plan costs
    # load_step * (load + 1).
    load: int = 0


@dataclass(frozen=True, slots=True)
class Weights:
    """Integer costs (the flow solver works in integers)."""

    # Cost of each read already open: the k-th extra read of an assessor costs
    # load_step * (load + k), so work spreads before anyone is buried.
    load_step: int = 10
    # Largest random cost added per (class, assessor) pair: below load_step it only breaks
    # near-ties, which is enough to make the choice unpredictable.
    jitter: int = 4
    # Saved by leaving a read with its current assessor. Above 2 * jitter a re-plan of an
    # optimal plan moves nothing; a read moves only when that lowers the load cost by more.
    keep_bonus: int = 20
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("load_step", "jitter", "keep_bonus"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")


class Shortfall(StrEnum):
    """Why a read was left unassigned, for the scoring leads' queue."""

    NO_ELIGIBLE = "No assessor is eligible for this read."
    NO_CAPACITY = "Every eligible assessor is at capacity."
    TAKEN = "The eligible assessors' remaining time went to other reads, or they already read it."


class PlanCost(NamedTuple):
    """Ordered like the objective: fewer unassigned reads first, then lower cost."""

    unassigned: int
    cost: int


@dataclass(slots=True)
class _Class:
    # Sorted ids of the assessors the class's reads may go to (for a mixed class, the union).
    eligible: np.ndarray
    # Each submission's reads; within a plain class all share `eligible` and their count.
    submissions: list[list[ReadRequest]] = field(default_factory=list)
    mixed: bool = False
    # Offset of this class's jitter values in Objective.jitter, aligned with `eligible`.
    jitter_start: int = 0


@dataclass
class Objective:
    """The objective and constraints of one `plan` call, to score or check any mapping."""

    weights: Weights
    reads: dict[Hashable, ReadRequest]
    slots: dict[int, AssessorSlot]
    classes: list[_Class]
    jitter: np.ndarray
    _class_of: dict[Hashable, int] | None = None

    def violations(self, mapping: Mapping[Hashable, int]) -> list[str]:
        """Every broken hard constraint of `mapping` (read key -> assessor id)."""
        problems: list[str] = []
        taken: Counter[int] = Counter()
        pairs: set[tuple[Hashable, int]] = set()
        for key, assessor in mapping.items():
            read = self.reads.get(key)
            if read is None:
                problems.append(f"{key!r} is not a read of this plan")
                continue
            if assessor not in read.eligible or assessor not in self.slots:
                problems.append(f"{key!r} given to ineligible assessor {assessor}")
            if (read.submission, assessor) in pairs:
                problems.append(f"assessor {assessor} has two reads of {read.submission!r}")
            pairs.add((read.submission, assessor))
            taken[assessor] += 1
        for assessor, count in taken.items():
            slot = self.slots.get(assessor)
            if slot is not None and count > max(slot.spare, 0):
                problems.append(f"assessor {assessor} given {count} reads, spare {slot.spare}")
        return problems

    def cost_of(self, mapping: Mapping[Hashable, int]) -> PlanCost:
        """The objective of any feasible mapping; raises ValueError for an infeasible one."""
        problems = self.violations(mapping)
        if problems:
            raise ValueError("; ".join(problems))
        class_of = self._classes_by_read()
        w = self.weights
        total = 0
        counts = Counter(mapping.values())
        for assessor, count in counts.items():
            load = self.slots[assessor].load
            total += w.load_step * (count * load + count * (count + 1) // 2)
        for key, assessor in mapping.items():
            cls = self.classes[class_of[key]]
            offset = int(cls.eligible.searchsorted(assessor))
            total += int(self.jitter[cls.jitter_start + offset])
            if self.reads[key].current == assessor:
                total -= w.keep_bonus
        return PlanCost(len(self.reads) - len(mapping), total)

    def _classes_by_read(self) -> dict[Hashable, int]:
        # Built on first use: plan() itself never needs it, and at a million reads it is large.
        if self._class_of is None:
            self._class_of = {
                read.key: index
                for index, cls in enumerate(self.classes)
                for reads in cls.submissions
                for read in reads
            }
        return self._class_of


@dataclass
class Plan:
    assigned: dict[Hashable, int]
    unassigned: dict[Hashable, Shortfall]
    cost: PlanCost
    objective: Objective
    # Seconds spent building the network, solving it, and splitting flows into reads.
    timings: dict[str, float]
    # Size of the network, for benchmarks.
    stats: dict[str, int]

    def cost_of(self, mapping: Mapping[Hashable, int]) -> PlanCost:
        return self.objective.cost_of(mapping)


def plan(
    reads: Sequence[ReadRequest],
    assessors: Iterable[AssessorSlot],
    weights: Weights | None = None,
) -> Plan:
    """The optimal assignment of `reads` to `assessors` (see the module docstring)."""
    import numpy as np
    from ortools.graph.python import min_cost_flow

    weights = weights or Weights()
    started = perf_counter()
    rng = np.random.default_rng(weights.seed)

    slots: dict[int, AssessorSlot] = {}
    for slot in assessors:
        if slot.id in slots:
            raise ValueError(f"assessor {slot.id} listed twice")
        slots[slot.id] = slot
    usable = frozenset(a for a, slot in slots.items() if slot.spare > 0)
    node_of = {a: index for index, a in enumerate(sorted(usable))}
    ids = np.array(sorted(usable), dtype=np.int64)
    sink = len(ids)

    by_key: dict[Hashable, ReadRequest] = {}
    by_submission: dict[Hashable, list[ReadRequest]] = defaultdict(list)
    for read in reads:
        if read.key in by_key:
            raise ValueError(f"read {read.key!r} listed twice")
        by_key[read.key] = read
        by_submission[read.submission].append(read)

    # Eligible sets repeat (one per micro-credential and conflict pattern): intersect and
    # convert each once. frozensets cache their hash, so these lookups stay cheap.
    effective: dict[frozenset[int], frozenset[int]] = {}
    arrays: dict[frozenset[int], np.ndarray] = {}

    def usable_part(eligible: frozenset[int]) -> frozenset[int]:
        found = effective.get(eligible)
        if found is None:
            found = effective[eligible] = eligible & usable
        return found

    def as_array(eligible: frozenset[int]) -> np.ndarray:
        found = arrays.get(eligible)
        if found is None:
            found = arrays[eligible] = np.array(sorted(eligible), dtype=np.int64)
        return found

    classes: dict[Hashable, _Class] = {}
    for group in by_submission.values():
        sets = [usable_part(read.eligible) for read in group]
        first = sets[0]
        if all(s is first or s == first for s in sets):
            # A current holder who may no longer take the read earns no bonus, so leaving
            # them out of the key lets the submission join the fresh reads' class.
            currents = tuple(sorted(r.current for r in group if r.current in first))
            key: Hashable = (first, len(group), currents)
            union, mixed = first, False
        else:
            pairs = Counter((s, r.current) for s, r in zip(sets, group, strict=True))
            key = ("mixed", frozenset(pairs.items()))
            union, mixed = frozenset().union(*sets), True
        cls = classes.get(key)
        if cls is None:
            cls = classes[key] = _Class(eligible=as_array(union), mixed=mixed)
        cls.submissions.append(group)
    class_list = list(classes.values())

    jitter_total = 0
    for cls in class_list:
        cls.jitter_start = jitter_total
        jitter_total += len(cls.eligible)
    jitter = rng.integers(0, weights.jitter + 1, size=jitter_total, dtype=np.int64)
    objective = Objective(weights, by_key, slots, class_list, jitter)

    # Nodes: assessors 0..A-1, the sink A, then class and gadget nodes.
    next_node = sink + 1
    tails: list[np.ndarray] = []
    heads: list[np.ndarray] = []
    caps: list[np.ndarray] = []
    costs: list[np.ndarray] = []
    supplies: list[tuple[int, int]] = []
    # Where to read flows back: a plain class's first arc, or a mixed class's
    # (read, its first arc or None, its eligible assessors) per read.
    layout: list[tuple[_Class, int, list[tuple[ReadRequest, int | None, list[int]]] | None]] = []
    arc_count = 0

    def add(tail: np.ndarray, head: np.ndarray, cap: np.ndarray, cost: np.ndarray) -> int:
        nonlocal arc_count
        tails.append(tail)
        heads.append(head)
        caps.append(cap)
        costs.append(cost)
        first_arc = arc_count
        arc_count += len(tail)
        return first_arc

    def class_costs(cls: _Class, currents: Iterable[int | None]) -> np.ndarray:
        cost = jitter[cls.jitter_start : cls.jitter_start + len(cls.eligible)].copy()
        kept = [c for c in set(currents) if c is not None]
        if kept and weights.keep_bonus:
            cost[np.isin(cls.eligible, kept)] -= weights.keep_bonus
        return cost

    for cls in class_list:
        width = len(cls.eligible)
        heads_of_class = np.fromiter((node_of[a] for a in cls.eligible), np.int32, width)
        if not cls.mixed:
            node = next_node
            next_node += 1
            n = len(cls.submissions)
            supplies.append((node, n * len(cls.submissions[0])))
            if width:
                first_arc = add(
                    np.full(width, node, np.int32),
                    heads_of_class,
                    np.full(width, n, np.int64),
                    class_costs(cls, (r.current for r in cls.submissions[0])),
                )
                layout.append((cls, first_arc, None))
            continue
        base_cost = class_costs(cls, ())
        position = {a: i for i, a in enumerate(cls.eligible.tolist())}
        for group in cls.submissions:
            # One node per (submission, assessor) with capacity 1 keeps the reads apart.
            pair_node = {a: next_node + i for i, a in enumerate(position)}
            next_node += width
            add(
                np.fromiter(pair_node.values(), np.int32, width),
                heads_of_class,
                np.ones(width, np.int64),
                np.zeros(width, np.int64),
            )
            read_arcs: list[tuple[ReadRequest, int | None, list[int]]] = []
            for read in group:
                eligible = sorted(usable_part(read.eligible))
                node = next_node
                next_node += 1
                supplies.append((node, 1))
                if not eligible:
                    read_arcs.append((read, None, []))
                    continue
                cost = np.array([base_cost[position[a]] for a in eligible], np.int64)
                if read.current in eligible:
                    cost[eligible.index(read.current)] -= weights.keep_bonus
                first_arc = add(
                    np.full(len(eligible), node, np.int32),
                    np.fromiter((pair_node[a] for a in eligible), np.int32, len(eligible)),
                    np.ones(len(eligible), np.int64),
                    cost,
                )
                read_arcs.append((read, first_arc, eligible))
            layout.append((cls, -1, read_arcs))

    # Convex load cost: one unit arc per possible read, each dearer than the last. An
    # assessor can never take more than the capacity of the arcs into them, so steps beyond
    # that would be dead weight.
    inbound = np.zeros(len(ids), np.int64)
    if arc_count:
        all_heads = np.concatenate(heads)
        all_caps = np.concatenate(caps)
        into_assessor = all_heads < sink
        inbound = np.bincount(
            all_heads[into_assessor], weights=all_caps[into_assessor], minlength=len(ids)
        ).astype(np.int64)
    spare = np.array([slots[a].spare for a in ids.tolist()], np.int64)
    steps = np.minimum(spare, inbound)
    loads = np.array([slots[a].load for a in ids.tolist()], np.int64)
    if weights.load_step:
        step_tails = np.repeat(np.arange(len(ids), dtype=np.int32), steps)
        starts = np.repeat(np.cumsum(steps) - steps, steps)
        k = np.arange(int(steps.sum()), dtype=np.int64) - starts + 1
        step_costs = weights.load_step * (np.repeat(loads, steps) + k)
        add(step_tails, np.full(len(step_tails), sink, np.int32), np.ones_like(k), step_costs)
    else:
        add(
            np.arange(len(ids), dtype=np.int32),
            np.full(len(ids), sink, np.int32),
            steps,
            np.zeros(len(ids), np.int64),
        )

    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails), np.concatenate(heads), np.concatenate(caps), np.concatenate(costs)
    )
    solver.set_node_supply(sink, -len(by_key))
    if supplies:
        nodes, amounts = zip(*supplies, strict=True)
        solver.set_nodes_supplies(np.array(nodes, np.int32), np.array(amounts, np.int64))
    built = perf_counter()
    status = solver.solve_max_flow_with_min_cost()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    solved = perf_counter()

    flows = solver.flows(np.arange(arc_count)) if arc_count else np.zeros(0, np.int64)
    assigned: dict[Hashable, int] = {}
    for cls, first_arc, read_arcs in layout:
        if read_arcs is None:
            width = len(cls.eligible)
            _split_class(cls, flows[first_arc : first_arc + width], rng, assigned)
            continue
        for read, arc, eligible in read_arcs:
            if arc is None:
                continue
            used = np.flatnonzero(flows[arc : arc + len(eligible)])
            if len(used):
                assigned[read.key] = eligible[int(used[0])]

    unassigned = {
        key: _shortfall(read, slots, usable) for key, read in by_key.items() if key not in assigned
    }
    finished = perf_counter()
    return Plan(
        assigned=assigned,
        unassigned=unassigned,
        cost=PlanCost(len(unassigned), int(solver.optimal_cost())),
        objective=objective,
        timings={"build": built - started, "solve": solved - built, "decompose": finished - solved},
        stats={
            "reads": len(by_key),
            "classes": len(class_list),
            "nodes": next_node,
            "arcs": arc_count,
        },
    )


def _split_class(
    cls: _Class, flow: np.ndarray, rng: np.random.Generator, assigned: dict[Hashable, int]
) -> None:
    """Turn a class's flow per assessor into reads, no submission read twice by one assessor."""
    import numpy as np

    used = np.flatnonzero(flow)
    if not len(used):
        return
    # Lay the reads out round by round (position p is submission p mod n) and give each
    # assessor a contiguous block of at most n positions: distinct submissions. The shuffle
    # decides which submissions each assessor gets.
    owners = np.repeat(cls.eligible[used], flow[used]).tolist()
    n = len(cls.submissions)
    order = rng.permutation(n).tolist()
    for slot, index in enumerate(order):
        mine = owners[slot::n]
        if not mine:
            continue
        group = cls.submissions[index]
        # Current holders take back their own read first, realising the bonus the flow
        # counted; the others take the remaining reads in order.
        free = list(group)
        rest = []
        for assessor in mine:
            for i, read in enumerate(free):
                if read.current == assessor:
                    assigned[read.key] = assessor
                    del free[i]
                    break
            else:
                rest.append(assessor)
        for assessor, read in zip(rest, free, strict=False):
            assigned[read.key] = assessor


def _shortfall(
    read: ReadRequest, slots: Mapping[int, AssessorSlot], usable: frozenset[int]
) -> Shortfall:
    if not any(a in slots for a in read.eligible):
        return Shortfall.NO_ELIGIBLE
    if read.eligible.isdisjoint(usable):
        return Shortfall.NO_CAPACITY
    return Shortfall.TAKEN

"""Agreement statistics for scoring reliability (issue 9): exact and adjacent agreement,
quadratic-weighted Cohen's kappa, Krippendorff's alpha (ordinal) and severity.

Plain Python on purpose: the data per micro-credential are small (hundreds of pairs), and the
app must not depend on numpy or scipy for a few sums. Counts are kept as integers and
`Fraction`s until the final division, so the results equal scikit-learn's
`cohen_kappa_score(..., weights="quadratic")` and `krippendorff.alpha(...,
level_of_measurement="ordinal")` to rounding (the tests hold them to 1e-9).

Scores are non-negative whole points on an explicit scale (`categories`, usually
`range(max_points + 1)`), so a scale of which raters use only part still works and a score off
the scale is caught rather than silently widening it.

The low-level functions raise `ValueError` with a plain message on bad input, including no data.
`summarize` is what pages call: it turns (rater score, reference score) pairs into every
statistic at once, each a `Statistic` that names itself, carries its threshold, and has no
value below a minimum number of pairs ("not enough data (4 of 10 pairs)").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise
from statistics import stdev
from typing import Literal, NamedTuple

DEFAULT_MINIMUM_PAIRS = 10
DEFAULT_TOLERANCE = 1

EXACT = "Exact agreement"
KAPPA = "Quadratic-weighted kappa"
ALPHA = "Krippendorff's alpha (ordinal)"
SEVERITY = "Severity (mean difference from reference)"
SPREAD = "Spread of differences (standard deviation)"

SAME_SCORE_EVERYWHERE = "every score given was the same, so chance cannot be ruled out"

# How a value is shown and which side of its threshold is good: shares and coefficients must
# reach their threshold; "difference" (signed, in points) and "points" must stay within it.
Unit = Literal["share", "coefficient", "difference", "points"]


def adjacent_name(tolerance: int) -> str:
    return f"Adjacent agreement (within {tolerance} point{'' if tolerance == 1 else 's'})"


# ---------------------------------------------------------------------------------------------
# Input checks


def _describe_scale(scale: Sequence[int]) -> str:
    if list(scale) == list(range(scale[0], scale[-1] + 1)):
        return f"{scale[0]} to {scale[-1]}"
    return ", ".join(str(point) for point in scale)


def _check_score(score: object) -> int:
    # bool is an int subclass; True as a score is always a mistake upstream.
    if isinstance(score, bool) or not isinstance(score, int):
        raise ValueError(f"A score must be a whole number of points, not {score!r}.")
    if score < 0:
        raise ValueError(f"Scores cannot be negative (got {score}).")
    return score


def _check_scale(categories: Iterable[int]) -> tuple[int, ...]:
    scale = tuple(_check_score(point) for point in categories)
    if len(scale) < 2:
        raise ValueError("A scale needs at least two points, for example 0 to 4.")
    if any(low >= high for low, high in pairwise(scale)):
        raise ValueError("The points of a scale must be listed from lowest to highest, once each.")
    return scale


def _check_on_scale(scores: Iterable[int], scale: tuple[int, ...]) -> None:
    allowed = set(scale)
    for score in scores:
        if score not in allowed:
            raise ValueError(f"Score {score} is not on the scale {_describe_scale(scale)}.")


def _check_paired(first: Sequence[int], second: Sequence[int]) -> None:
    if len(first) != len(second):
        raise ValueError(
            f"The two lists of scores have different lengths ({len(first)} and {len(second)}); "
            "every score needs a partner."
        )
    if not first:
        raise ValueError("There are no scores to compare.")
    for score in (*first, *second):
        _check_score(score)


def _check_tolerance(tolerance: int) -> None:
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 0:
        raise ValueError(
            f"The tolerance must be a whole number of points, 0 or more, not {tolerance!r}."
        )


# ---------------------------------------------------------------------------------------------
# The statistics


def exact_agreement(first: Sequence[int], second: Sequence[int]) -> float:
    """Share of pairs with the same score."""
    return adjacent_agreement(first, second, tolerance=0)


def adjacent_agreement(
    first: Sequence[int], second: Sequence[int], tolerance: int = DEFAULT_TOLERANCE
) -> float:
    """Share of pairs whose scores differ by at most `tolerance` points (exact ones included)."""
    _check_paired(first, second)
    _check_tolerance(tolerance)
    close = sum(1 for a, b in zip(first, second, strict=True) if abs(a - b) <= tolerance)
    return close / len(first)


def quadratic_weighted_kappa(
    first: Sequence[int], second: Sequence[int], categories: Iterable[int]
) -> float | None:
    """Cohen's kappa with quadratic weights for two raters on the ordinal scale `categories`.

    Weights are squared distances between positions on the scale, as scikit-learn's are
    between positions in `labels`. None when expected disagreement is zero, which happens only
    when both raters gave one and the same score every time: kappa is then 0/0 (scikit-learn
    returns nan), and reporting 1 or 0 would claim something the data cannot show.
    """
    scale = _check_scale(categories)
    _check_paired(first, second)
    _check_on_scale((*first, *second), scale)
    position = {point: index for index, point in enumerate(scale)}
    size = len(scale)
    first_margin = [0] * size
    second_margin = [0] * size
    observed = 0
    for a, b in zip(first, second, strict=True):
        i, j = position[a], position[b]
        first_margin[i] += 1
        second_margin[j] += 1
        observed += (i - j) ** 2
    # Expected disagreement times n: chance pairs each margin with the other independently.
    expected = sum(
        (i - j) ** 2 * first_margin[i] * second_margin[j] for i in range(size) for j in range(size)
    )
    if expected == 0:
        return None
    return float(1 - Fraction(len(first) * observed, expected))


def krippendorff_alpha(
    units: Sequence[Sequence[int | None]], categories: Iterable[int]
) -> float | None:
    """Krippendorff's alpha at the ordinal level of measurement.

    `units` holds, for each rated thing (a submission or a component of one), the scores its
    raters gave; None marks a rater who did not score it. Any number of raters per unit; units
    with fewer than two scores cannot be paired and drop out, as in Krippendorff's definition.
    None when every pairable score is the same (expected disagreement is zero, 0/0; the
    krippendorff package returns nan).

    The ordinal distance between two values counts how many scores lie between them, so values
    on the scale that nobody used add nothing: `categories` checks the scores and fixes their
    order, as `value_domain` does in the krippendorff package.
    """
    scale = _check_scale(categories)
    if not units:
        raise ValueError("There are no scored units to compare.")
    position = {point: index for index, point in enumerate(scale)}
    unit_counts: list[Counter[int]] = []
    for unit in units:
        given = [_check_score(score) for score in unit if score is not None]
        _check_on_scale(given, scale)
        if len(given) >= 2:
            unit_counts.append(Counter(position[score] for score in given))
    if not unit_counts:
        raise ValueError("No unit was scored by two raters, so agreement cannot be measured.")

    size = len(scale)
    # Coincidences: every ordered pair of scores within a unit, weighted 1/(m - 1).
    coincidences: dict[tuple[int, int], Fraction] = {}
    for counts in unit_counts:
        pairable = sum(counts.values()) - 1
        for c, n_c in counts.items():
            for k, n_k in counts.items():
                paired = n_c * n_k - (n_c if c == k else 0)
                if paired:
                    coincidences[c, k] = coincidences.get((c, k), Fraction(0)) + Fraction(
                        paired, pairable
                    )
    # Each value's row of coincidences sums to how often it was given in pairable units.
    totals = [0] * size
    for counts in unit_counts:
        for c, n_c in counts.items():
            totals[c] += n_c
    total = sum(totals)
    running = [0]
    for n_c in totals:
        running.append(running[-1] + n_c)

    def distance(c: int, k: int) -> Fraction:
        low, high = min(c, k), max(c, k)
        between = running[high + 1] - running[low] - Fraction(totals[low] + totals[high], 2)
        return between * between

    observed = sum((count * distance(c, k) for (c, k), count in coincidences.items()), Fraction(0))
    # The diagonal has distance zero, so only different values count towards chance.
    expected = sum(
        (
            Fraction(totals[c] * totals[k], total - 1) * distance(c, k)
            for c in range(size)
            for k in range(size)
            if c != k and totals[c] and totals[k]
        ),
        Fraction(0),
    )
    if expected == 0:
        return None
    return float(1 - observed / expected)


class Severity(NamedTuple):
    # Positive: the rater scores higher (more leniently) than the reference.
    mean: float
    # Sample standard deviation of the differences; None for a single pair.
    spread: float | None


def severity(rater: Sequence[int], reference: Sequence[int]) -> Severity:
    """Mean signed difference of a rater's scores from the reference scores, and its spread."""
    _check_paired(rater, reference)
    differences = [a - b for a, b in zip(rater, reference, strict=True)]
    mean = float(Fraction(sum(differences), len(differences)))
    spread = stdev(differences) if len(differences) > 1 else None
    return Severity(mean, spread)


# ---------------------------------------------------------------------------------------------
# Results for pages


@dataclass(frozen=True)
class Statistic:
    """One named statistic as a page shows it, beside its threshold.

    `value` is None when there are fewer than `minimum` pairs (`enough` is False) or when the
    statistic is undefined on these data (`undefined_reason` says why).
    """

    name: str
    value: float | None
    pairs: int
    minimum: int
    threshold: float | None = None
    unit: Unit = "coefficient"
    undefined_reason: str = ""

    @property
    def enough(self) -> bool:
        return self.pairs >= self.minimum

    @property
    def meets(self) -> bool | None:
        """Whether the value is on the good side of the threshold; None if either is missing."""
        if self.value is None or self.threshold is None:
            return None
        if self.unit in ("difference", "points"):
            return abs(self.value) <= self.threshold
        return self.value >= self.threshold

    @property
    def shown_value(self) -> str:
        """The value as a page prints it; precise enough that a value just under its
        threshold never prints as the threshold itself."""
        if self.value is None:
            return ""
        if self.unit == "share":
            return f"{self.value:.1%}"
        if self.unit == "coefficient":
            return f"{self.value:.3f}"
        # A difference shows its sign, so "+0.40 points" reads as more lenient at a glance.
        sign = "+" if self.unit == "difference" else ""
        return f"{self.value:{sign}.2f} points"

    @property
    def shown_threshold(self) -> str:
        if self.threshold is None:
            return ""
        if self.unit == "share":
            return f"{self.threshold * 100:g}%"
        if self.unit == "coefficient":
            return f"{self.threshold:g}"
        return f"{self.threshold:g} points"

    @property
    def summary(self) -> str:
        """One line in plain language, e.g. "Quadratic-weighted kappa: 0.812 (34 pairs; needs at
        least 0.7)"."""
        if not self.enough:
            return f"{self.name}: not enough data ({self.pairs} of {self.minimum} pairs)"
        if self.value is None:
            return f"{self.name}: cannot be measured: {self.undefined_reason} ({self.pairs} pairs)"
        if self.threshold is None:
            return f"{self.name}: {self.shown_value} ({self.pairs} pairs)"
        if self.unit == "difference":
            need = f"needs to be within {self.shown_threshold} either way"
        elif self.unit == "points":
            need = f"needs to be at most {self.shown_threshold}"
        else:
            need = f"needs at least {self.shown_threshold}"
        return f"{self.name}: {self.shown_value} ({self.pairs} pairs; {need})"


def _check_between(name: str, value: float | None, low: float, high: float) -> None:
    if value is not None and not low <= value <= high:
        raise ValueError(f"The threshold for {name} must be between {low:g} and {high:g}.")


@dataclass(frozen=True)
class Thresholds:
    """Where each statistic turns from acceptable to a concern; None shows it without one.

    Defaults: adjacent agreement 80%, as calibration asks of every component (issue 9);
    quadratic-weighted kappa 0.70, the usual floor for operational essay scoring; alpha 0.667,
    the lowest value Krippendorff accepts for tentative conclusions. Exact agreement and
    severity depend too much on the length of the scale for one default.
    """

    exact: float | None = None
    adjacent: float | None = 0.80
    kappa: float | None = 0.70
    alpha: float | None = 0.667
    severity: float | None = None
    spread: float | None = None

    def __post_init__(self) -> None:
        _check_between(EXACT, self.exact, 0, 1)
        _check_between("adjacent agreement", self.adjacent, 0, 1)
        _check_between(KAPPA, self.kappa, -1, 1)
        _check_between(ALPHA, self.alpha, -1, 1)
        _check_between(SEVERITY, self.severity, 0, float("inf"))
        _check_between(SPREAD, self.spread, 0, float("inf"))


@dataclass(frozen=True)
class Reliability:
    exact: Statistic
    adjacent: Statistic
    kappa: Statistic
    alpha: Statistic
    severity: Statistic
    spread: Statistic
    statistics: tuple[Statistic, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = (self.exact, self.adjacent, self.kappa, self.alpha, self.severity, self.spread)
        object.__setattr__(self, "statistics", ordered)

    @property
    def concerns(self) -> tuple[Statistic, ...]:
        """The statistics past their threshold (what flags an assessor for drift)."""
        return tuple(statistic for statistic in self.statistics if statistic.meets is False)


def summarize(
    pairs: Sequence[tuple[int, int]],
    categories: Iterable[int],
    *,
    minimum: int = DEFAULT_MINIMUM_PAIRS,
    tolerance: int = DEFAULT_TOLERANCE,
    thresholds: Thresholds | None = None,
) -> Reliability:
    """Every statistic for (rater score, reference score) pairs on the scale `categories`.

    The reference is the master score of an anchor or the other reader's score. No pairs is not
    an error here: an assessor without second reads yet is "not enough data (0 of 10 pairs)".
    """
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 2:
        raise ValueError("The minimum number of pairs must be a whole number, 2 or more.")
    _check_tolerance(tolerance)
    thresholds = thresholds or Thresholds()
    scale = _check_scale(categories)
    rater: list[int] = []
    reference: list[int] = []
    for pair in pairs:
        if not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"Each pair needs exactly two scores, not {pair!r}.")
        rater.append(_check_score(pair[0]))
        reference.append(_check_score(pair[1]))
    _check_on_scale((*rater, *reference), scale)

    count = len(rater)
    enough = count >= minimum
    kappa = quadratic_weighted_kappa(rater, reference, scale) if enough else None
    alpha = krippendorff_alpha(list(zip(rater, reference, strict=True)), scale) if enough else None
    difference = severity(rater, reference) if enough else None

    def statistic(name: str, value: float | None, threshold: float | None, unit: Unit) -> Statistic:
        return Statistic(
            name=name,
            value=value,
            pairs=count,
            minimum=minimum,
            threshold=threshold,
            unit=unit,
            # With enough pairs only kappa and alpha can lack a value, both for this reason.
            undefined_reason=SAME_SCORE_EVERYWHERE if enough and value is None else "",
        )

    return Reliability(
        exact=statistic(
            EXACT, exact_agreement(rater, reference) if enough else None, thresholds.exact, "share"
        ),
        adjacent=statistic(
            adjacent_name(tolerance),
            adjacent_agreement(rater, reference, tolerance) if enough else None,
            thresholds.adjacent,
            "share",
        ),
        kappa=statistic(KAPPA, kappa, thresholds.kappa, "coefficient"),
        alpha=statistic(ALPHA, alpha, thresholds.alpha, "coefficient"),
        severity=statistic(
            SEVERITY, difference.mean if difference else None, thresholds.severity, "difference"
        ),
        spread=statistic(
            SPREAD, difference.spread if difference else None, thresholds.spread, "points"
        ),
    )

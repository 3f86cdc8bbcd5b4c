"""Reliability statistics against the reference implementations (scikit-learn, krippendorff),
on fixed data sets and on random data, plus the page-facing results and bad input."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from microcred.assessment.reliability import (
    ALPHA,
    KAPPA,
    SAME_SCORE_EVERYWHERE,
    SEVERITY,
    Statistic,
    Thresholds,
    adjacent_agreement,
    exact_agreement,
    krippendorff_alpha,
    quadratic_weighted_kappa,
    severity,
    summarize,
)

TOLERANCE = 1e-9


def _nan_to_none(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def reference_kappa(
    first: Sequence[int], second: Sequence[int], scale: Sequence[int]
) -> float | None:
    with warnings.catch_warnings():
        # scikit-learn warns before returning nan for an undefined kappa.
        warnings.simplefilter("ignore")
        value = cohen_kappa_score(first, second, labels=list(scale), weights="quadratic")
    return _nan_to_none(value)


def reference_alpha(
    units: Sequence[Sequence[int | None]], scale: Sequence[int] | None
) -> float | None:
    """krippendorff.alpha on the raters x units matrix, missing scores as nan."""
    raters = max(len(unit) for unit in units)
    matrix = np.full((raters, len(units)), np.nan)
    for column, unit in enumerate(units):
        for row, score in enumerate(unit):
            if score is not None:
                matrix[row, column] = score
    with warnings.catch_warnings():
        # numpy warns on the 0/0 behind an undefined alpha.
        warnings.simplefilter("ignore")
        value = krippendorff.alpha(
            reliability_data=matrix,
            level_of_measurement="ordinal",
            value_domain=None if scale is None else list(scale),
        )
    return _nan_to_none(value)


def assert_same(ours: float | None, theirs: float | None) -> None:
    if theirs is None:
        assert ours is None
    else:
        assert ours is not None
        assert ours == pytest.approx(theirs, abs=TOLERANCE, rel=TOLERANCE)


# ---------------------------------------------------------------------------------------------
# Fixed paired data sets: (first rater, second rater, scale)

PAIRED = {
    "perfect agreement": ([0, 1, 2, 3, 4, 2, 3, 1, 0, 4], [0, 1, 2, 3, 4, 2, 3, 1, 0, 4], range(5)),
    "total disagreement": (
        [0, 4, 0, 4, 0, 4, 0, 4, 0, 4],
        [4, 0, 4, 0, 4, 0, 4, 0, 4, 0],
        range(5),
    ),
    "constant ratings": ([3] * 12, [3] * 12, range(5)),
    "one rater constant": ([2] * 10, [0, 1, 2, 3, 4, 2, 1, 3, 2, 2], range(5)),
    "typical": (
        [3, 2, 4, 1, 3, 3, 2, 0, 4, 3, 2, 1, 3, 4, 2],
        [3, 3, 4, 2, 2, 3, 2, 1, 3, 3, 1, 1, 4, 4, 3],
        range(5),
    ),
    "wide 0..20 scale, partly used": (
        [14, 16, 18, 12, 15, 17, 13, 16, 19, 15, 14, 18],
        [15, 16, 17, 13, 15, 18, 12, 14, 19, 16, 14, 16],
        range(21),
    ),
    "uneven points on the scale": ([0, 2, 4, 2, 0, 4, 2, 2], [0, 2, 2, 4, 2, 4, 0, 2], (0, 2, 4)),
}


@pytest.mark.parametrize("name", PAIRED)
def test_kappa_matches_scikit_learn_on_fixed_data(name: str) -> None:
    first, second, scale = PAIRED[name]
    assert_same(
        quadratic_weighted_kappa(first, second, scale), reference_kappa(first, second, scale)
    )


@pytest.mark.parametrize("name", PAIRED)
def test_alpha_of_pairs_matches_krippendorff_on_fixed_data(name: str) -> None:
    first, second, scale = PAIRED[name]
    units = list(zip(first, second, strict=True))
    ours = krippendorff_alpha(units, scale)
    assert_same(ours, reference_alpha(units, scale))
    if ours is not None:
        # Values nobody used do not change an ordinal alpha.
        assert_same(ours, reference_alpha(units, None))


def test_known_values_of_the_fixed_data() -> None:
    # Pinned so a wrong reference call cannot hide a wrong implementation.
    first, second, scale = PAIRED["perfect agreement"]
    assert quadratic_weighted_kappa(first, second, scale) == 1.0
    assert krippendorff_alpha(list(zip(first, second, strict=True)), scale) == 1.0
    first, second, scale = PAIRED["total disagreement"]
    assert quadratic_weighted_kappa(first, second, scale) == pytest.approx(-1.0)
    # One rater who never varies agrees no better than chance.
    first, second, scale = PAIRED["one rater constant"]
    assert quadratic_weighted_kappa(first, second, scale) == pytest.approx(0.0, abs=TOLERANCE)


def test_undefined_when_every_score_is_the_same() -> None:
    # Expected disagreement is zero: kappa and alpha are 0/0, which the libraries report as nan.
    first, second, scale = PAIRED["constant ratings"]
    assert quadratic_weighted_kappa(first, second, scale) is None
    assert krippendorff_alpha(list(zip(first, second, strict=True)), scale) is None


def test_kappa_weighs_by_position_on_the_listed_scale() -> None:
    # Quadratic weights are squared distances between positions on the scale, as in
    # scikit-learn's labels; a scale with a gap (no 2 or 3 points) weighs 1 vs 4 as one step.
    first, second = [0, 1, 4, 4, 1, 0, 4, 1], [1, 1, 4, 1, 0, 0, 4, 4]
    gapped = quadratic_weighted_kappa(first, second, (0, 1, 4))
    full = quadratic_weighted_kappa(first, second, range(5))
    assert_same(gapped, reference_kappa(first, second, (0, 1, 4)))
    assert_same(full, reference_kappa(first, second, range(5)))
    assert gapped != pytest.approx(full)
    # Unused points at the ends of the scale leave it unchanged (it is shift invariant).
    assert full == pytest.approx(quadratic_weighted_kappa(first, second, range(21)))


# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the 4 observers x 12 units
# example with missing values; ordinal alpha 0.815.
KRIPPENDORFF_EXAMPLE = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]

ALPHA_DATA: dict[str, tuple[list[list[int | None]], Sequence[int]]] = {
    "published example, missing values": (
        [list(unit) for unit in zip(*KRIPPENDORFF_EXAMPLE, strict=True)],
        range(1, 6),
    ),
    "three raters, some units scored once": (
        [[1, None, None], [None, 2, 2], [3, 3, None], [None, None, 4], [0, 1, 0], [2, 2, 3]],
        range(5),
    ),
    "wide 0..20 scale with missing values": (
        [[12, 13, None], [15, 15, 16], [None, 18, 17], [9, None, 11], [20, 19, 20], [14, 14, 14]],
        range(21),
    ),
    "constant with missing values": ([[2, None, 2], [2, 2, None], [None, 2, 2]], range(5)),
}


@pytest.mark.parametrize("name", ALPHA_DATA)
def test_alpha_matches_krippendorff_with_missing_values(name: str) -> None:
    units, scale = ALPHA_DATA[name]
    assert_same(krippendorff_alpha(units, scale), reference_alpha(units, scale))


def test_alpha_of_the_published_example() -> None:
    units, scale = ALPHA_DATA["published example, missing values"]
    assert krippendorff_alpha(units, scale) == pytest.approx(0.815, abs=5e-4)


def test_units_scored_once_do_not_count() -> None:
    units, scale = ALPHA_DATA["three raters, some units scored once"]
    pairable = [unit for unit in units if sum(score is not None for score in unit) >= 2]
    assert krippendorff_alpha(units, scale) == krippendorff_alpha(pairable, scale)


def test_agreement_on_fixed_data() -> None:
    first, second, _ = PAIRED["typical"]
    # Counted by hand: 7 of 15 equal, none more than one point apart.
    assert exact_agreement(first, second) == pytest.approx(7 / 15)
    assert adjacent_agreement(first, second) == 1.0
    first, second, _ = PAIRED["wide 0..20 scale, partly used"]
    assert exact_agreement(first, second) == pytest.approx(4 / 12)
    assert adjacent_agreement(first, second) == pytest.approx(10 / 12)
    assert adjacent_agreement(first, second, tolerance=2) == 1.0


def test_severity_is_signed_towards_leniency() -> None:
    lenient = severity([3, 4, 4, 2], [2, 3, 4, 1])
    assert lenient.mean == pytest.approx(0.75)
    assert lenient.spread == pytest.approx(np.std([1, 1, 0, 1], ddof=1))
    harsh = severity([1, 2], [3, 3])
    assert harsh.mean == pytest.approx(-1.5)
    assert severity([2], [3]).spread is None


# ---------------------------------------------------------------------------------------------
# Random data against the libraries


@st.composite
def paired_scores(draw: st.DrawFn) -> tuple[list[int], list[int], range]:
    top = draw(st.integers(min_value=1, max_value=20))
    # Often only part of the scale, to exercise categories nobody used.
    low = draw(st.integers(min_value=0, max_value=top))
    high = draw(st.integers(min_value=low, max_value=top))
    size = draw(st.integers(min_value=1, max_value=60))
    scores = st.lists(st.integers(low, high), min_size=size, max_size=size)
    return draw(scores), draw(scores), range(top + 1)


@st.composite
def rated_units(draw: st.DrawFn) -> tuple[list[list[int | None]], range]:
    top = draw(st.integers(min_value=1, max_value=20))
    raters = draw(st.integers(min_value=2, max_value=5))
    low = draw(st.integers(min_value=0, max_value=top))
    high = draw(st.integers(min_value=low, max_value=top))
    score = st.one_of(st.none(), st.integers(low, high))
    units = draw(
        st.lists(st.lists(score, min_size=raters, max_size=raters), min_size=1, max_size=40)
    )
    return units, range(top + 1)


@settings(max_examples=200, deadline=None)
@given(paired_scores())
def test_kappa_matches_scikit_learn_on_random_data(
    data: tuple[list[int], list[int], range],
) -> None:
    first, second, scale = data
    assert_same(
        quadratic_weighted_kappa(first, second, scale), reference_kappa(first, second, scale)
    )


@settings(max_examples=200, deadline=None)
@given(rated_units())
def test_alpha_matches_krippendorff_on_random_data(
    data: tuple[list[list[int | None]], range],
) -> None:
    units, scale = data
    if not any(sum(score is not None for score in unit) >= 2 for unit in units):
        # Both refuse data in which no unit was scored twice.
        with pytest.raises(ValueError, match="two raters"):
            krippendorff_alpha(units, scale)
        return
    assert_same(krippendorff_alpha(units, scale), reference_alpha(units, scale))


@settings(max_examples=100, deadline=None)
@given(paired_scores(), st.integers(min_value=0, max_value=3))
def test_agreement_and_severity_match_numpy_on_random_data(
    data: tuple[list[int], list[int], range], tolerance: int
) -> None:
    first, second, _ = data
    differences = np.array(first) - np.array(second)
    assert exact_agreement(first, second) == pytest.approx(np.mean(differences == 0))
    adjacent = adjacent_agreement(first, second, tolerance)
    assert adjacent == pytest.approx(np.mean(np.abs(differences) <= tolerance))
    assert adjacent >= exact_agreement(first, second)
    found = severity(first, second)
    assert found.mean == pytest.approx(np.mean(differences), abs=TOLERANCE)
    if len(first) > 1:
        assert found.spread == pytest.approx(np.std(differences, ddof=1), abs=TOLERANCE)


# ---------------------------------------------------------------------------------------------
# summarize: what pages show

TYPICAL_PAIRS = list(zip(PAIRED["typical"][0], PAIRED["typical"][1], strict=True))


def test_summarize_gives_every_statistic_matching_the_libraries() -> None:
    result = summarize(TYPICAL_PAIRS, range(5))
    rater, reference = PAIRED["typical"][0], PAIRED["typical"][1]
    assert [statistic.name for statistic in result.statistics] == [
        "Exact agreement",
        "Adjacent agreement (within 1 point)",
        KAPPA,
        ALPHA,
        SEVERITY,
        "Spread of differences (standard deviation)",
    ]
    assert all(statistic.enough and statistic.pairs == 15 for statistic in result.statistics)
    assert_same(result.kappa.value, reference_kappa(rater, reference, range(5)))
    assert_same(result.alpha.value, reference_alpha(TYPICAL_PAIRS, range(5)))
    assert result.exact.value == pytest.approx(7 / 15)
    assert result.severity.value == pytest.approx(np.mean(np.array(rater) - np.array(reference)))


def test_too_few_pairs_gives_no_value() -> None:
    result = summarize(TYPICAL_PAIRS[:9], range(5))
    for statistic in result.statistics:
        assert statistic.value is None
        assert statistic.enough is False
        assert statistic.meets is None
        assert statistic.summary.endswith("not enough data (9 of 10 pairs)")
    assert result.concerns == ()
    assert result.kappa.summary == "Quadratic-weighted kappa: not enough data (9 of 10 pairs)"
    assert summarize(TYPICAL_PAIRS[:10], range(5)).kappa.value is not None


def test_minimum_is_configurable_and_no_pairs_is_not_enough_data() -> None:
    assert summarize(TYPICAL_PAIRS[:3], range(5), minimum=3).alpha.enough is True
    assert summarize(TYPICAL_PAIRS[:3], range(5), minimum=4).alpha.value is None
    nothing = summarize([], range(5))
    assert nothing.exact.summary == "Exact agreement: not enough data (0 of 10 pairs)"


def test_undefined_statistics_say_why() -> None:
    result = summarize([(2, 2)] * 12, range(5))
    assert result.kappa.value is None
    assert result.kappa.enough is True
    assert result.kappa.undefined_reason == SAME_SCORE_EVERYWHERE
    assert result.kappa.summary == (
        f"Quadratic-weighted kappa: cannot be measured: {SAME_SCORE_EVERYWHERE} (12 pairs)"
    )
    assert result.alpha.value is None
    assert result.exact.value == 1.0
    assert result.exact.undefined_reason == ""


def test_thresholds_name_the_statistic_and_flag_a_lenient_rater() -> None:
    # The rater scores one point above the reference on most pairs.
    pairs = [(min(reference + 1, 4), reference) for reference in [0, 1, 2, 3, 1, 2, 3, 0, 2, 1]]
    pairs += [(2, 2), (3, 3)]
    result = summarize(pairs, range(5), thresholds=Thresholds(exact=0.5, severity=0.5))
    assert result.severity.value == pytest.approx(10 / 12)
    assert result.severity.meets is False
    assert result.adjacent.meets is True
    assert result.exact.meets is False
    rater, reference = zip(*pairs, strict=True)
    assert result.kappa.value == pytest.approx(reference_kappa(rater, reference, range(5)))
    assert set(result.concerns) == {result.severity, result.exact, result.kappa}
    assert result.severity.summary == (
        "Severity (mean difference from reference): +0.83 points (12 pairs; "
        "needs to be within 0.5 points either way)"
    )
    assert result.exact.summary == "Exact agreement: 16.7% (12 pairs; needs at least 50%)"
    assert result.kappa.summary.startswith("Quadratic-weighted kappa: 0.")
    assert result.kappa.summary.endswith("(12 pairs; needs at least 0.7)")


def test_severity_threshold_holds_either_way() -> None:
    harsh = Statistic(SEVERITY, -0.6, 12, 10, threshold=0.5, unit="difference")
    assert harsh.meets is False
    assert Statistic(SEVERITY, -0.4, 12, 10, threshold=0.5, unit="difference").meets is True
    assert harsh.shown_value == "-0.60 points"


def test_tolerance_names_adjacent_agreement() -> None:
    result = summarize(TYPICAL_PAIRS, range(5), tolerance=2)
    assert result.adjacent.name == "Adjacent agreement (within 2 points)"


# ---------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: exact_agreement([1, 2], [1]), "different lengths \\(2 and 1\\)"),
        (lambda: quadratic_weighted_kappa([1, 2, 3], [1, 2], range(5)), "different lengths"),
        (lambda: exact_agreement([], []), "no scores to compare"),
        (lambda: severity([], []), "no scores to compare"),
        (lambda: quadratic_weighted_kappa([], [], range(5)), "no scores to compare"),
        (lambda: krippendorff_alpha([], range(5)), "no scored units"),
        (lambda: krippendorff_alpha([[1, None], [None, 2]], range(5)), "two raters"),
        (lambda: adjacent_agreement([1, -1], [1, 1]), "cannot be negative \\(got -1\\)"),
        (lambda: krippendorff_alpha([[1, -2]], range(5)), "cannot be negative"),
        (
            lambda: quadratic_weighted_kappa([1, 7], [1, 1], range(5)),
            "7 is not on the scale 0 to 4",
        ),
        (lambda: krippendorff_alpha([[2, 3]], (0, 2, 4)), "3 is not on the scale 0, 2, 4"),
        (lambda: quadratic_weighted_kappa([1], [1], [1]), "at least two points"),
        (lambda: quadratic_weighted_kappa([1], [1], [3, 1]), "lowest to highest"),
        (lambda: quadratic_weighted_kappa([1], [1], range(-1, 3)), "cannot be negative"),
        (lambda: exact_agreement([1.5], [1]), "whole number of points"),
        (lambda: exact_agreement([True], [1]), "whole number of points"),
        (lambda: adjacent_agreement([1], [1], tolerance=-1), "tolerance"),
        (lambda: summarize([(1, 2, 3)], range(5)), "exactly two scores"),
        (lambda: summarize([4], range(5)), "exactly two scores, not 4"),
        (lambda: summarize([(1, 9)], range(5)), "9 is not on the scale"),
        (lambda: summarize([(1, -1)], range(5)), "cannot be negative"),
        (lambda: summarize(TYPICAL_PAIRS, range(5), minimum=1), "minimum number of pairs"),
        (lambda: Thresholds(adjacent=80), "adjacent agreement must be between 0 and 1"),
        (lambda: Thresholds(severity=-0.5), "Severity"),
    ],
)
def test_bad_input_is_refused_in_plain_words(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()

"""Each rule kind's arithmetic and caps, without a database."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from microcred.recognition import arithmetic
from microcred.recognition.models import RecognitionRule


def rule(**fields) -> RecognitionRule:
    return RecognitionRule(**fields)


@pytest.mark.parametrize(
    ("hours", "per_ceu", "expected"),
    [("12", "10", "1.20"), ("15", "10", "1.50"), ("10", "12", "0.83"), ("0.5", "10", "0.05")],
)
def test_ceus_from_hours_round_half_up_to_hundredths(hours, per_ceu, expected):
    ceu = rule(kind="ceu", ceu_source="hours", hours_per_ceu=D(per_ceu))
    granted, funded = arithmetic.grant(ceu, hours=D(hours), difficulty="advanced")
    assert granted.quantity == D(expected) and granted.amount == 0 and funded


def test_fixed_ceus_ignore_hours_and_no_hours_grant_nothing():
    assert arithmetic.ceus(rule(kind="ceu", ceu_source="fixed", fixed_ceus=D("1.5")), None) == D(
        "1.50"
    )
    hourly = rule(kind="ceu", ceu_source="hours", hours_per_ceu=D("10"))
    assert arithmetic.grant(hourly, hours=None, difficulty="")[0].empty


def test_an_mc_counts_once_toward_renewal_and_toward_a_role():
    for kind in ("renewal_count", "role"):
        granted, _ = arithmetic.grant(rule(kind=kind, mcs_required=4), hours=D(15), difficulty="")
        assert granted.quantity == 1 and granted.amount == 0


def test_stipend_is_funded_while_the_budget_covers_it_exactly():
    stipend = rule(kind="stipend", amount=D("300"), budget=D("600"))
    assert arithmetic.grant(stipend, hours=None, difficulty="", budget_used=D("0"))[1]
    assert arithmetic.grant(stipend, hours=None, difficulty="", budget_used=D("300"))[1]
    granted, funded = arithmetic.grant(stipend, hours=None, difficulty="", budget_used=D("600"))
    assert granted.amount == D("300.00") and not funded
    # 250 left of a 300 stipend: no partial stipend, the entry is unfunded.
    assert not arithmetic.grant(stipend, hours=None, difficulty="", budget_used=D("350"))[1]
    # No budget set: never runs out.
    assert arithmetic.grant(
        rule(kind="stipend", amount=D("50")), hours=None, difficulty="", budget_used=D("10000")
    )[1]


@pytest.mark.parametrize(
    ("difficulty", "expected"),
    [("foundational", "200"), ("intermediate", "400"), ("advanced", "600"), ("other", "0")],
)
def test_salary_step_by_difficulty(difficulty, expected):
    salary = rule(
        kind="salary",
        salary_foundational=D(200),
        salary_intermediate=D(400),
        salary_advanced=D(600),
    )
    assert arithmetic.grant(salary, hours=None, difficulty=difficulty)[0].amount == D(expected)


def test_masters_credit_two_mcs_per_credit_up_to_the_cap():
    masters = rule(kind="masters", mcs_per_credit=2, cap=D("15"))
    assert arithmetic.grant(masters, hours=None, difficulty="", held=D("0"))[0].quantity == D("0.5")
    last = arithmetic.grant(masters, hours=None, difficulty="", held=D("14.75"))[0]
    assert last.quantity == D("0.25") and "at most 15 credits" in last.note
    assert arithmetic.grant(masters, hours=None, difficulty="", held=D("15"))[0].empty


def test_contact_units_per_hour_up_to_the_cap():
    units = rule(kind="contact_units", units_per_hour=D("1"), cap=D("30"))
    assert arithmetic.grant(units, hours=D("15"), difficulty="", held=D(0))[0].quantity == 15
    capped = arithmetic.grant(units, hours=D("15"), difficulty="", held=D(20))[0]
    assert capped.quantity == 10 and capped.note
    uncapped = rule(kind="contact_units", units_per_hour=D("2"))
    assert arithmetic.grant(uncapped, hours=D("15"), difficulty="", held=D(100))[0].quantity == 30


def test_figures_read_plainly():
    assert arithmetic.figure("ceu", D("1.20"), D(0)) == "1.2 CEUs"
    assert arithmetic.figure("ceu", D("1.00"), D(0)) == "1 CEU"
    assert arithmetic.figure("ceu", D("-1.50"), D(0)) == "-1.5 CEUs"
    assert arithmetic.figure("stipend", D(0), D("300")) == "$300.00"
    assert arithmetic.figure("stipend", D(0), D("-300")) == "-$300.00"
    assert arithmetic.figure("salary", D(0), D("600")) == "$600.00 a year"
    assert arithmetic.figure("renewal_count", D(1), D(0)) == "1 MC toward renewal"
    assert arithmetic.figure("masters", D("0.5"), D(0)) == "0.5 credits"


def test_rules_describe_themselves():
    assert arithmetic.describe_rule(
        rule(kind="ceu", ceu_source="hours", hours_per_ceu=D("10.00"))
    ) == ("1 CEU per 10 hours of the micro-credential")
    assert "from a budget of $600.00 (Title II)" in arithmetic.describe_rule(
        rule(kind="stipend", amount=D(300), budget=D(600), funding_source="Title II")
    )
    assert arithmetic.describe_rule(rule(kind="masters", mcs_per_credit=2, cap=D(15))) == (
        "2 micro-credentials make 1 master's-equivalency credit, up to 15 credits"
    )

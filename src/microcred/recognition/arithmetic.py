"""What each kind of rule grants for one micro-credential: pure arithmetic, no database.

Every figure is a Decimal rounded half up: CEUs and credits to hundredths (the ledger keeps
two places; 12 hours at 10 hours per CEU is 1.2 CEU), money to cents."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .models import RecognitionRule

Kind = RecognitionRule.Kind
ZERO = Decimal("0")
CENT = Decimal("0.01")


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Grant:
    """What one rule grants for one credential. `quantity` counts CEUs, MCs, credits or
    units; `amount` is money. `note` says why it is less than the rule's full figure."""

    quantity: Decimal = ZERO
    amount: Decimal = ZERO
    note: str = ""

    @property
    def empty(self) -> bool:
        return self.quantity == ZERO and self.amount == ZERO


def ceus(rule: Any, hours: Decimal | None) -> Decimal:
    """CEUs for one MC: its estimated hours over the hours that make a CEU, or the fixed
    figure. An MC without hours earns nothing under an hours-based rule."""
    if rule.ceu_source == RecognitionRule.CeuSource.FIXED:
        return _round(rule.fixed_ceus or ZERO)
    if not hours or not rule.hours_per_ceu:
        return ZERO
    return _round(Decimal(hours) / rule.hours_per_ceu)


def salary_step(rule: Any, difficulty: str) -> Decimal:
    by_difficulty = {
        "foundational": rule.salary_foundational,
        "intermediate": rule.salary_intermediate,
        "advanced": rule.salary_advanced,
    }
    return _round(by_difficulty.get(difficulty) or ZERO)


def capped(full: Decimal, cap: Decimal | None, held: Decimal, unit: str) -> Grant:
    """`full` more of something of which the educator already holds `held`, under `cap`."""
    if cap is None:
        return Grant(quantity=_round(full))
    room = max(cap - held, ZERO)
    if full <= room:
        return Grant(quantity=_round(full))
    return Grant(quantity=_round(room), note=f"Capped: at most {_plain(cap)} {unit} in all.")


def grant(
    rule: Any,
    *,
    hours: Decimal | None,
    difficulty: str,
    held: Decimal = ZERO,
    budget_used: Decimal = ZERO,
) -> tuple[Grant, bool]:
    """(what `rule` grants for one MC of `hours` and `difficulty`, whether it is funded).

    `held` is what the educator already holds under the rule's policy (for caps);
    `budget_used` what the rule's budget has already committed (for stipends)."""
    kind = rule.kind
    if kind == Kind.CEU:
        return Grant(quantity=ceus(rule, hours)), True
    if kind in (Kind.RENEWAL_COUNT, Kind.ROLE):
        return Grant(quantity=Decimal("1")), True
    if kind == Kind.STIPEND:
        amount = _round(rule.amount or ZERO)
        funded = rule.budget is None or budget_used + amount <= rule.budget
        return Grant(amount=amount), funded
    if kind == Kind.SALARY:
        return Grant(amount=salary_step(rule, difficulty)), True
    if kind == Kind.MASTERS:
        per_mc = Decimal("1") / Decimal(rule.mcs_per_credit or 1)
        # Thirds and the like are kept to hundredths per MC, but never past the cap.
        return capped(per_mc, rule.cap, held, "credits"), True
    if kind == Kind.CONTACT_UNITS:
        full = Decimal(hours or 0) * (rule.units_per_hour or ZERO)
        return capped(full, rule.cap, held, "contact units"), True
    raise ValueError(f"Unknown rule kind {kind!r}")


def _plain(value: Decimal) -> str:
    """1.20 -> "1.2", 8.00 -> "8"."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money(value: Decimal) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


_UNITS = {
    Kind.CEU: ("CEU", "CEUs"),
    Kind.RENEWAL_COUNT: ("MC toward renewal", "MCs toward renewal"),
    Kind.MASTERS: ("credit", "credits"),
    Kind.CONTACT_UNITS: ("contact unit", "contact units"),
    Kind.ROLE: ("role", "roles"),
}


def figure(kind: str, quantity: Decimal, amount: Decimal) -> str:
    """An entry's figure as a person reads it: "1.2 CEUs", "$300.00", "-0.5 credits"."""
    if kind in (Kind.STIPEND, Kind.SALARY):
        return money(amount) + (" a year" if kind == Kind.SALARY else "")
    one, many = _UNITS[kind]
    return f"{_plain(quantity)} {one if abs(quantity) == 1 else many}"


def describe_rule(rule: Any) -> str:
    """The rule in one plain sentence, as the approval and policy pages show it."""
    kind = rule.kind
    if kind == Kind.CEU:
        if rule.ceu_source == RecognitionRule.CeuSource.FIXED:
            return f"{_plain(rule.fixed_ceus or ZERO)} CEUs per micro-credential"
        return f"1 CEU per {_plain(rule.hours_per_ceu or ZERO)} hours of the micro-credential"
    if kind == Kind.RENEWAL_COUNT:
        return f"{rule.mcs_required or 0} approved micro-credentials renew a license"
    if kind == Kind.STIPEND:
        text = f"{money(rule.amount or ZERO)} stipend per micro-credential"
        if rule.budget is not None:
            text += f", from a budget of {money(rule.budget)}"
        return text + (f" ({rule.funding_source})" if rule.funding_source else "")
    if kind == Kind.SALARY:
        steps = ", ".join(
            f"{money(value)} {label}"
            for label, value in (
                ("foundational", rule.salary_foundational),
                ("intermediate", rule.salary_intermediate),
                ("advanced", rule.salary_advanced),
            )
            if value is not None
        )
        return f"Base salary up by {steps} per micro-credential, each year"
    if kind == Kind.MASTERS:
        text = f"{rule.mcs_per_credit or 1} micro-credentials make 1 master's-equivalency credit"
        return text + (f", up to {_plain(rule.cap)} credits" if rule.cap is not None else "")
    if kind == Kind.CONTACT_UNITS:
        text = f"{_plain(rule.units_per_hour or ZERO)} contact units per hour"
        return text + (f", up to {_plain(rule.cap)} units" if rule.cap is not None else "")
    if kind == Kind.ROLE:
        return f"Eligibility for the role “{rule.role_title}”"
    return str(kind)

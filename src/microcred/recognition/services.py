"""Writes of recognition: policies and their versions, moving ledger entries on (approval,
export, payment). Posting itself lives in `posting.py`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from microcred.orgs.models import Organization
from microcred.orgs.services import record_audit

from .models import LedgerEntry, LedgerExport, RecognitionPolicy, RecognitionRule

Status = RecognitionPolicy.Status
Kind = RecognitionRule.Kind

# The fields each kind of rule needs, and the plain words for each when it is missing.
REQUIRED_FIELDS: dict[str, dict[str, str]] = {
    Kind.CEU: {"ceu_source": "Say where the CEUs come from: the hours, or a fixed number."},
    Kind.RENEWAL_COUNT: {"mcs_required": "Say how many micro-credentials renew a license."},
    Kind.STIPEND: {
        "amount": "Give the stipend paid for each micro-credential.",
        "budget": "Give the budget the stipends are paid from.",
        "funding_source": "Name the funding source (for example “Title II”).",
    },
    Kind.SALARY: {},
    Kind.MASTERS: {"mcs_per_credit": "Say how many micro-credentials make one credit."},
    Kind.CONTACT_UNITS: {"units_per_hour": "Say how many contact units an hour is worth."},
    Kind.ROLE: {"role_title": "Name the role."},
}


def _require(actor: Any, perm: str, obj: Any, message: str) -> None:
    if not actor.has_perm(perm, obj):
        raise PermissionDenied(message)


def check_rule(rule: RecognitionRule) -> None:
    """A rule that says what it grants, or ValidationError naming what is missing."""
    errors = {
        name: message
        for name, message in REQUIRED_FIELDS.get(rule.kind, {}).items()
        if getattr(rule, name) in (None, "")
    }
    if rule.kind == Kind.CEU and not errors:
        if rule.ceu_source == RecognitionRule.CeuSource.HOURS and not rule.hours_per_ceu:
            errors["hours_per_ceu"] = "Say how many hours make one CEU (10 in most states)."
        if rule.ceu_source == RecognitionRule.CeuSource.FIXED and rule.fixed_ceus is None:
            errors["fixed_ceus"] = "Give the CEUs each micro-credential is worth."
    if rule.kind == Kind.SALARY and all(
        getattr(rule, f"salary_{level}") is None
        for level in ("foundational", "intermediate", "advanced")
    ):
        errors["salary_foundational"] = "Give the increase for at least one difficulty."
    for name in ("amount", "budget", "fixed_ceus", "units_per_hour", "cap", "hours_per_ceu"):
        value = getattr(rule, name)
        if value is not None and value < 0:
            errors[name] = "This cannot be negative."
    if errors:
        raise ValidationError(errors)


def create_policy(
    actor: Any,
    recognizer: Organization,
    *,
    name: str,
    effective_from: date,
    effective_until: date | None = None,
    description: str = "",
) -> RecognitionPolicy:
    """A new policy, as a draft version 1."""
    _require(actor, "recognition.manage_policy", recognizer, "You do not set this office's policy.")
    _check_dates(effective_from, effective_until)
    with transaction.atomic():
        policy = RecognitionPolicy.objects.create(
            recognizer=recognizer,
            name=name.strip(),
            description=description.strip(),
            effective_from=effective_from,
            effective_until=effective_until,
            created_by=actor,
        )
        _audit(actor, "policy.created", policy)
    return policy


def _check_dates(starts: date, ends: date | None) -> None:
    if ends is not None and ends < starts:
        raise ValidationError(
            {"effective_until": "The last day comes before the first: check the dates."}
        )


def _editable(policy: RecognitionPolicy) -> None:
    if policy.status != Status.DRAFT:
        raise ValidationError(
            f"Version {policy.number} is {policy.get_status_display().lower()}: it cannot change. "
            "Start a new version to change the policy."
        )


def add_rule(actor: Any, policy: RecognitionPolicy, **fields: Any) -> RecognitionRule:
    """A rule added to a draft version. `stacks` and `micro_credentials` (role rules) are
    lists."""
    _require(actor, "recognition.manage_policy", policy, "You do not set this office's policy.")
    _editable(policy)
    stacks = fields.pop("stacks", None) or []
    mcs = fields.pop("micro_credentials", None) or []
    rule = RecognitionRule(policy=policy, **fields)
    check_rule(rule)
    if rule.kind == Kind.ROLE and not stacks and not mcs:
        raise ValidationError({"stacks": "Choose the stacks or micro-credentials the role needs."})
    with transaction.atomic():
        _save_rule(rule, stacks, mcs)
        _audit(actor, "policy.rule_added", policy, {"rule": rule.pk, "kind": rule.kind})
    return rule


def _save_rule(rule: RecognitionRule, stacks: Iterable[Any], mcs: Iterable[Any]) -> None:
    rule.save()
    rule.stacks.set(stacks)
    rule.micro_credentials.set(mcs)


def _audit(
    actor: Any, action: str, policy: RecognitionPolicy, data: dict[str, Any] | None = None
) -> None:
    """The audit row of a change to a policy version, kept with its office."""
    record_audit(actor, action, policy, organization=policy.recognizer, data=data)


def remove_rule(actor: Any, rule: RecognitionRule) -> None:
    policy = rule.policy
    _require(actor, "recognition.manage_policy", policy, "You do not set this office's policy.")
    _editable(policy)
    with transaction.atomic():
        _audit(actor, "policy.rule_removed", policy, {"rule": rule.pk, "kind": rule.kind})
        rule.delete()


def overlapping(policy: RecognitionPolicy) -> RecognitionPolicy | None:
    """Another version of the same policy in force on any of this one's days."""
    others = RecognitionPolicy.objects.filter(series=policy.series, status=Status.ACTIVE).exclude(
        pk=policy.pk
    )
    if policy.effective_until is not None:
        others = others.filter(effective_from__lte=policy.effective_until)
    return others.filter(
        Q(effective_until__isnull=True) | Q(effective_until__gte=policy.effective_from)
    ).first()


def activate(actor: Any, policy: RecognitionPolicy) -> RecognitionPolicy:
    """Put a draft version in force. Its dates may not overlap another version in force:
    end that one first (`new_version` does, for a version that takes over)."""
    _require(actor, "recognition.manage_policy", policy, "You do not set this office's policy.")
    with transaction.atomic():
        policy = RecognitionPolicy.objects.select_for_update().get(pk=policy.pk)
        _editable(policy)
        if not policy.rules.exists():
            raise ValidationError("Add at least one rule before putting the policy in force.")
        clash = overlapping(policy)
        if clash is not None:
            until = f"{clash.effective_until:%B %-d, %Y}" if clash.effective_until else "open-ended"
            raise ValidationError(
                {
                    "effective_from": (
                        f"Version {clash.number} is in force from "
                        f"{clash.effective_from:%B %-d, %Y} ({until}); the dates of two "
                        "versions may not overlap. Start this one after it ends."
                    )
                }
            )
        policy.status = Status.ACTIVE
        policy.activated_at = timezone.now()
        policy.save(update_fields=["status", "activated_at"])
        _audit(actor, "policy.activated", policy)
    return policy


def new_version(actor: Any, policy: RecognitionPolicy, effective_from: date) -> RecognitionPolicy:
    """A draft copy of `policy` (its rules included) taking effect on `effective_from`. When
    it is put in force, the version it copies ends the day before (see `activate_version`)."""
    _require(actor, "recognition.manage_policy", policy, "You do not set this office's policy.")
    if effective_from <= policy.effective_from:
        raise ValidationError(
            {"effective_from": "A new version starts after the version it replaces starts."}
        )
    with transaction.atomic():
        latest = (
            RecognitionPolicy.objects.select_for_update()
            .filter(series=policy.series)
            .order_by("-number")
            .first()
        )
        if RecognitionPolicy.objects.filter(series=policy.series, status=Status.DRAFT).exists():
            raise ValidationError("A draft of this policy is already open: finish that one first.")
        copy = RecognitionPolicy.objects.create(
            recognizer=policy.recognizer,
            series=policy.series,
            number=latest.number + 1,
            name=policy.name,
            description=policy.description,
            effective_from=effective_from,
            effective_until=None,
            created_by=actor,
        )
        for rule in policy.rules.all():
            stacks, mcs = list(rule.stacks.all()), list(rule.micro_credentials.all())
            rule.pk = None
            rule.policy = copy
            _save_rule(rule, stacks, mcs)
        _audit(actor, "policy.version_started", copy, {"from": policy.pk})
    return copy


def activate_version(actor: Any, draft: RecognitionPolicy) -> RecognitionPolicy:
    """Put a new version in force, ending the open-ended version before it the day before."""
    with transaction.atomic():
        previous = (
            RecognitionPolicy.objects.select_for_update()
            .filter(
                series=draft.series, status=Status.ACTIVE, effective_from__lt=draft.effective_from
            )
            .filter(Q(effective_until__isnull=True) | Q(effective_until__gte=draft.effective_from))
            .first()
        )
        if previous is not None:
            _require(actor, "recognition.manage_policy", previous, "You do not set this policy.")
            previous.effective_until = draft.effective_from - timedelta(days=1)
            previous.save(update_fields=["effective_until"])
            _audit(
                actor,
                "policy.ended",
                previous,
                {"until": previous.effective_until.isoformat(), "replaced_by": draft.pk},
            )
        return activate(actor, draft)


def retire(actor: Any, policy: RecognitionPolicy, last_day: date) -> RecognitionPolicy:
    """End a version in force on `last_day`: it posts nothing for credentials earned after."""
    _require(actor, "recognition.manage_policy", policy, "You do not set this office's policy.")
    with transaction.atomic():
        policy = RecognitionPolicy.objects.select_for_update().get(pk=policy.pk)
        if policy.status != Status.ACTIVE:
            raise ValidationError("Only a version in force can be ended.")
        _check_dates(policy.effective_from, last_day)
        policy.effective_until = last_day
        policy.status = Status.RETIRED if last_day < timezone.localdate() else policy.status
        policy.save(update_fields=["effective_until", "status"])
        _audit(actor, "policy.ended", policy, {"until": last_day.isoformat()})
    return policy


# ---------------------------------------------------------------------------- entries
def approve_entries(actor: Any, entries: Iterable[LedgerEntry]) -> tuple[int, int]:
    """Approve pending entries the actor may approve: (approved, skipped). An entry already
    approved, exported, unfunded or someone else's is skipped, never changed."""
    ids = [entry.pk for entry in entries]
    approved = skipped = 0
    now = timezone.now()
    with transaction.atomic():
        rows = (
            LedgerEntry.objects.select_for_update(of=("self",))
            .filter(pk__in=ids)
            .select_related("policy__recognizer")
            .order_by("posted_at", "pk")
        )
        for entry in rows:
            if entry.status != LedgerEntry.Status.PENDING or not actor.has_perm(
                "recognition.approve_entry", entry
            ):
                skipped += 1
                continue
            entry.status = LedgerEntry.Status.APPROVED
            entry.approved_at, entry.approved_by = now, actor
            entry.save(update_fields=["status", "approved_at", "approved_by"])
            record_audit(actor, "ledger.approved", entry, organization=entry.policy.recognizer)
            approved += 1
    return approved, skipped + (len(set(ids)) - approved - skipped)


def export_entries(actor: Any, recognizer: Organization) -> LedgerExport | None:
    """Mark every approved, not yet exported entry of the recognizer's policies exported, in
    one LedgerExport; None when there is nothing new (a second export exports nothing twice:
    download an earlier export again instead)."""
    _require(actor, "recognition.export_entries", recognizer, "You do not export for this office.")
    with transaction.atomic():
        rows = list(
            LedgerEntry.objects.select_for_update()
            .filter(policy__recognizer=recognizer, status=LedgerEntry.Status.APPROVED)
            .values_list("pk", flat=True)
        )
        if not rows:
            return None
        export = LedgerExport.objects.create(
            recognizer=recognizer, created_by=actor, entry_count=len(rows)
        )
        LedgerEntry.objects.filter(pk__in=rows).update(
            status=LedgerEntry.Status.EXPORTED, export=export, exported_at=timezone.now()
        )
        record_audit(
            actor, "ledger.exported", export, organization=recognizer, data={"entries": len(rows)}
        )
    return export


def mark_paid(actor: Any, export: LedgerExport) -> int:
    """The HR or payroll system paid an export: its money entries move to paid."""
    _require(actor, "recognition.export_entries", export.recognizer, "Not your office's export.")
    with transaction.atomic():
        count = (
            LedgerEntry.objects.filter(export=export, status=LedgerEntry.Status.EXPORTED)
            .filter(kind__in=[Kind.STIPEND, Kind.SALARY])
            .update(status=LedgerEntry.Status.PAID, paid_at=timezone.now())
        )
        record_audit(
            actor, "ledger.paid", export, organization=export.recognizer, data={"entries": count}
        )
    return count

"""Reads of recognition policies: whose policies a user sees, what each posted, and what an
office's policies in force grant for one micro-credential version (the approval screens show
that beside each use instead of free text)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.utils import timezone

from microcred.catalog.models import (
    Approval,
    ApprovedUse,
    MicroCredential,
    MicroCredentialVersion,
    Stack,
    StackMember,
)
from microcred.orgs.models import ROLE_ORG_KINDS, Organization, Role
from microcred.orgs.rules import is_active_superuser

from . import arithmetic
from .models import LedgerEntry, RecognitionPolicy, RecognitionRule
from .posting import budget_used, policies_in_force
from .rules import recognizer_ids_of

Kind = RecognitionRule.Kind
PUBLISHED = MicroCredentialVersion.Status.PUBLISHED


# ---------------------------------------------------------------------------- whose policies
def policy_offices(user: Any) -> QuerySet[Organization]:
    """The offices whose policy the user sets (for a superuser, who may step in for any of
    them, every active organization where the recognizer role can be held)."""
    orgs = Organization.objects.order_by("name")
    if is_active_superuser(user):
        return orgs.filter(kind__in=ROLE_ORG_KINDS[Role.RECOGNIZER_ADMIN], active=True)
    return orgs.filter(pk__in=recognizer_ids_of(user))


def visible_policies(user: Any) -> QuerySet[RecognitionPolicy]:
    """Every version of the policies of the user's offices, rules and their role lists
    loaded; another office's policy is simply not there (its page is a 404)."""
    qs = RecognitionPolicy.objects.select_related("recognizer").prefetch_related(
        "rules__stacks", "rules__micro_credentials"
    )
    if is_active_superuser(user):
        return qs
    return qs.filter(recognizer_id__in=recognizer_ids_of(user))


def entry_counts(policies: Iterable[RecognitionPolicy]) -> dict[int, list[tuple[str, int]]]:
    """Policy id -> (status label, entries) for each status its entries are in, in the order
    an entry moves through them."""
    ids = [p.pk for p in policies]
    counted: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    rows = (
        LedgerEntry.objects.filter(policy_id__in=ids)
        .values_list("policy_id", "status")
        .annotate(n=Count("pk"))
    )
    for policy_id, status, n in rows:
        counted[policy_id][status] = n
    labels = LedgerEntry.Status.choices
    return {
        pk: [(label, by_status[value]) for value, label in labels if value in by_status]
        for pk, by_status in counted.items()
    }


def versions_of(policy: RecognitionPolicy) -> list[RecognitionPolicy]:
    """Every version of the policy's series, newest first."""
    return list(RecognitionPolicy.objects.filter(series=policy.series).order_by("-number"))


def in_force_before(draft: RecognitionPolicy) -> RecognitionPolicy | None:
    """The version in force that putting `draft` in force ends (see
    services.activate_version): one that starts earlier and still runs on its first day."""
    return (
        RecognitionPolicy.objects.filter(
            series=draft.series,
            status=RecognitionPolicy.Status.ACTIVE,
            effective_from__lt=draft.effective_from,
        )
        .exclude(effective_until__lt=draft.effective_from)
        .exclude(pk=draft.pk)
        .first()
    )


def published_stacks() -> QuerySet[Stack]:
    return Stack.objects.filter(status=Stack.Status.PUBLISHED).order_by("title")


def published_micro_credentials() -> QuerySet[MicroCredential]:
    """Micro-credentials in the catalog now, each with `title`: its published version's."""
    title = MicroCredentialVersion.objects.filter(
        micro_credential=OuterRef("pk"), status=PUBLISHED
    ).values("title")[:1]
    return (
        MicroCredential.objects.filter(versions__status=PUBLISHED)
        .annotate(title=Subquery(title))
        .order_by("title")
        .distinct()
    )


def with_role_lists(rules: Iterable[RecognitionRule]) -> list[RecognitionRule]:
    """The rules, each role rule with `mc_titles`: the titles of the micro-credentials it
    lists (each one's newest version)."""
    rules = list(rules)
    ids = {mc.pk for rule in rules for mc in rule.micro_credentials.all()}
    titles: dict[int, str] = {}
    for mc_id, title in (
        MicroCredentialVersion.objects.filter(micro_credential_id__in=ids)
        .order_by("micro_credential_id", "number")
        .values_list("micro_credential_id", "title")
    ):
        titles[mc_id] = title
    for rule in rules:
        rule.mc_titles = [  # type: ignore[attr-defined]
            titles.get(mc.pk, mc.slug) for mc in rule.micro_credentials.all()
        ]
    return rules


# ---------------------------------------------------------------------------- credit
def _in_role(rule: RecognitionRule, version: MicroCredentialVersion) -> bool:
    mc_id = version.micro_credential_id
    if any(mc.pk == mc_id for mc in rule.micro_credentials.all()):
        return True
    stack_ids = [stack.pk for stack in rule.stacks.all()]
    return (
        bool(stack_ids)
        and StackMember.objects.filter(stack_id__in=stack_ids, micro_credential_id=mc_id).exists()
    )


def rule_credit(rule: RecognitionRule, version: MicroCredentialVersion) -> str:
    """What `rule` grants one educator for one credential of `version`, in plain words."""
    kind = rule.kind
    if kind == Kind.ROLE:
        if _in_role(rule, version):
            return f"Counts toward eligibility for the role “{rule.role_title}”"
        return f"Not among what the role “{rule.role_title}” asks for"
    if kind == Kind.STIPEND:
        used = budget_used(rule)
        granted, funded = arithmetic.grant(
            rule, hours=version.estimated_hours, difficulty=version.difficulty, budget_used=used
        )
        text = f"{arithmetic.money(granted.amount)} stipend"
        if rule.budget is not None:
            left = max(rule.budget - used, Decimal("0"))
            text += f", {arithmetic.money(left)} of {arithmetic.money(rule.budget)} left"
            if not funded:
                text += ": the budget is spent, new stipends are not paid"
        return text
    granted, _ = arithmetic.grant(
        rule, hours=version.estimated_hours, difficulty=version.difficulty
    )
    text = arithmetic.figure(kind, granted.quantity, granted.amount)
    if kind == Kind.RENEWAL_COUNT:
        return f"{text}: {rule.mcs_required} approved micro-credentials renew a license"
    if kind == Kind.SALARY:
        level = version.get_difficulty_display().lower()
        return f"{text} added to base salary ({level})"
    if kind in (Kind.MASTERS, Kind.CONTACT_UNITS) and rule.cap is not None:
        return f"{text}, up to {arithmetic.figure(kind, rule.cap, Decimal('0'))} in all"
    return text


def credit_for(
    version: MicroCredentialVersion,
    recognizer: Organization,
    *,
    on: date | None = None,
    policies: list[RecognitionPolicy] | None = None,
) -> dict[str, list[str]]:
    """Use -> what the recognizer's policies in force on `on` (today) grant for one credential
    of `version` under that use, one line per rule naming its policy; an empty list where no
    policy of the office grants anything for the use. Pass `policies` (policies_in_force of
    the recognizer) to reuse them across versions."""
    if policies is None:
        policies = policies_in_force([recognizer.pk], on or timezone.localdate())
    return _credit(version, recognizer.pk, policies)


def _credit(
    version: MicroCredentialVersion, recognizer_id: int, policies: list[RecognitionPolicy]
) -> dict[str, list[str]]:
    credit: dict[str, list[str]] = {use: [] for use in ApprovedUse.values}
    for policy in policies:
        if policy.recognizer_id != recognizer_id:
            continue
        for rule in policy.rules.all():
            credit[rule.use].append(f"{rule_credit(rule, version)} ({policy.name})")
    return credit


def with_credit(approvals: Iterable[Approval]) -> list[Approval]:
    """The approvals, each with `credit`: what its office's policies in force today grant
    for its use (computed once per version and office)."""
    approvals = list(approvals)
    today = timezone.localdate()
    policies: dict[int, list[RecognitionPolicy]] = {}
    credits: dict[tuple[int, int], dict[str, list[str]]] = {}
    for approval in approvals:
        office = approval.recognizer_id
        if office not in policies:
            policies[office] = policies_in_force([office], today)
        key = (approval.version_id, office)
        if key not in credits:
            credits[key] = _credit(approval.version, office, policies[office])
        approval.credit = credits[key][approval.use]  # type: ignore[attr-defined]
    return approvals

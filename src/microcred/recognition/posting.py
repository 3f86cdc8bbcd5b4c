"""Posting to the ledger: what a credential's issue or revocation grants, exactly once.

Each posting runs in one transaction that first locks the educator's row, so a retried task,
a second worker or the repair sweep after a crash finds the `Posting` the first one committed
and posts nothing twice; the unique constraints on `LedgerEntry` back this up in the database.
A stipend rule's row is locked while its budget is read, so two educators cannot both take
its last dollars.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, Sum

from microcred.catalog.models import Approval, MicroCredentialVersion
from microcred.credentials.models import IssuedCredential, Revocation
from microcred.orgs.models import AuditEvent, Organization
from microcred.orgs.selectors import ancestor_ids
from microcred.orgs.services import SYSTEM, build_audit_event

from . import arithmetic
from .models import ExternalCredential, LedgerEntry, Posting, RecognitionPolicy, RecognitionRule
from .signals import ledger_entry_posted

Kind = RecognitionRule.Kind
ZERO = Decimal("0")


@dataclass(frozen=True)
class Earned:
    """What one credential is, as far as the ledger cares."""

    educator_id: int
    title: str
    earned_on: date
    version: MicroCredentialVersion | None  # None for a stack, or an unmatched external one
    credential: IssuedCredential | None = None
    external: ExternalCredential | None = None
    hours: Decimal | None = None
    difficulty: str = ""
    attempt_id: int | None = None

    @property
    def source(self) -> dict[str, Any]:
        return {"credential": self.credential} if self.credential else {"external": self.external}


def earned_from_credential(credential: IssuedCredential) -> Earned:
    if credential.award_id is None:  # a stack's credential: only role rules look at it
        return Earned(
            educator_id=credential.stack_award.earner_id,
            title=credential.stack_award.stack.title,
            earned_on=credential.issued_at.date(),
            version=None,
            credential=credential,
        )
    award = credential.award
    version = award.attempt.version
    return Earned(
        educator_id=award.earner_id,
        title=version.title,
        earned_on=credential.issued_at.date(),
        version=version,
        credential=credential,
        hours=version.estimated_hours,
        difficulty=version.difficulty,
        attempt_id=award.attempt_id,
    )


def earned_from_external(external: ExternalCredential) -> Earned:
    version = external.matched_version
    return Earned(
        educator_id=external.educator_id,
        title=external.name,
        earned_on=external.issued_on or external.uploaded.date(),
        version=version,
        external=external,
        hours=external.hours
        if external.hours is not None
        else getattr(version, "estimated_hours", None),
        difficulty=getattr(version, "difficulty", ""),
    )


# ---------------------------------------------------------------------------- who recognizes
def recognizer_ids(educator_id: int) -> set[int]:
    """The organizations whose policies can count an educator's credentials: their schools
    and districts, and every organization above them (the state)."""
    # A school sits under an LEA under the state: three levels are read in one query.
    rows = Organization.objects.filter(
        memberships__user_id=educator_id, memberships__active=True
    ).values_list("pk", "parent_id", "parent__parent_id", "parent__parent__parent_id")
    ids = {pk for row in rows for pk in row if pk is not None}
    deeper = Organization.objects.filter(pk__in=ids, parent__parent__parent__isnull=False)
    for org in deeper:  # a deeper tree than the usual state, LEA, school
        ids.update(ancestor_ids(org))
    return ids


def policies_in_force(recognizers: Iterable[int], on: date) -> list[RecognitionPolicy]:
    return list(
        RecognitionPolicy.objects.filter(
            recognizer_id__in=list(recognizers),
            status=RecognitionPolicy.Status.ACTIVE,
            effective_from__lte=on,
        )
        .filter(Q(effective_until__isnull=True) | Q(effective_until__gte=on))
        .select_related("recognizer")
        .prefetch_related("rules__stacks", "rules__micro_credentials")
    )


def _approvals(earned: Earned) -> dict[tuple[int, str], Approval]:
    """(recognizer id, use) -> the active approval of the credential's MC version."""
    if earned.version is None:
        return {}
    return {
        (a.recognizer_id, a.use): a
        for a in Approval.objects.filter(version=earned.version, withdrawn_at__isnull=True)
    }


def _preapproved_uses(earned: Earned) -> set[str]:
    from microcred.earning.models import PreApproval

    if earned.attempt_id is None:
        return set()
    return set(
        PreApproval.objects.filter(
            attempt_id=earned.attempt_id, status=PreApproval.Status.APPROVED
        ).values_list("use", flat=True)
    )


def applicable_rules(
    earned: Earned, policies: list[RecognitionPolicy] | None = None
) -> list[RecognitionRule]:
    """The rules that count this credential: in force on the day it was earned, of a
    recognizer of the educator, for a use the recognizer approved its MC for (with the
    pre-approval the approval asks for). An external credential counts only with the
    recognizer that accepted it, for the uses it accepted. Role rules are looked at apart
    (`post_role_eligibility`). `policies`: those in force for the educator's recognizers on
    the day, when the caller has read them already."""
    if earned.external is not None:
        recognizers = {earned.external.recognizer_id}
        accepted = set(earned.external.accepted_uses)
        allowed = lambda rule: rule.use in accepted  # noqa: E731
    else:
        recognizers = (
            recognizer_ids(earned.educator_id)
            if policies is None
            else {policy.recognizer_id for policy in policies}
        )
        approvals = _approvals(earned)
        preapproved = _preapproved_uses(earned)

        def allowed(rule: RecognitionRule) -> bool:
            approval = approvals.get((rule.policy.recognizer_id, rule.use))
            if approval is None:
                return False
            return not approval.requires_preapproval or rule.use in preapproved

    if earned.version is None and earned.external is None:
        return []
    if policies is None or earned.external is not None:
        policies = policies_in_force(recognizers, earned.earned_on)
    return [
        rule
        for policy in policies
        if policy.recognizer_id in recognizers
        for rule in policy.rules.all()
        if rule.kind != Kind.ROLE and allowed(rule)
    ]


# ---------------------------------------------------------------------------- posting
def _lock_educator(educator_id: int) -> None:
    get_user_model().objects.select_for_update().filter(pk=educator_id).first()


def _held_under(rule: RecognitionRule, educator_id: int) -> Decimal:
    """What the educator already holds under the rule's policy (every version) and kind."""
    total = (
        LedgerEntry.objects.filter(
            educator_id=educator_id, kind=rule.kind, policy__series=rule.policy.series
        )
        .exclude(status=LedgerEntry.Status.UNFUNDED)
        .aggregate(total=Sum("quantity"))["total"]
    )
    return total or ZERO


def budget_used(rule: RecognitionRule) -> Decimal:
    """Money the rule has committed: every funded entry, less what reversals gave back."""
    total = (
        LedgerEntry.objects.filter(rule=rule)
        .exclude(status=LedgerEntry.Status.UNFUNDED)
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or ZERO


def _post_rule(rule: RecognitionRule, earned: Earned) -> LedgerEntry | None:
    """The entry `rule` grants for `earned`, unsaved (None when it grants nothing)."""
    held = budget = ZERO
    if rule.kind in (Kind.MASTERS, Kind.CONTACT_UNITS):
        held = _held_under(rule, earned.educator_id)
    if rule.kind == Kind.STIPEND:
        RecognitionRule.objects.select_for_update().filter(pk=rule.pk).first()
        budget = budget_used(rule)
    granted, funded = arithmetic.grant(
        rule, hours=earned.hours, difficulty=earned.difficulty, held=held, budget_used=budget
    )
    if granted.empty:
        return None  # nothing to grant (a cap reached, an MC without hours)
    note = granted.note
    if not funded:
        source = f" from {rule.funding_source}" if rule.funding_source else ""
        note = f"The stipend budget of {arithmetic.money(rule.budget or ZERO)}{source} is spent."
    return LedgerEntry(
        educator_id=earned.educator_id,
        policy=rule.policy,
        rule=rule,
        kind=rule.kind,
        quantity=granted.quantity,
        amount=granted.amount,
        title=earned.title,
        earned_on=earned.earned_on,
        note=note,
        status=LedgerEntry.Status.PENDING if funded else LedgerEntry.Status.UNFUNDED,
        **earned.source,
    )


def _post(earned: Earned, event_source: dict[str, Any], grants: bool = True) -> list[LedgerEntry]:
    """Post what `earned` grants, once: inside the caller's transaction, educator locked.
    A credential revoked before its issue was posted grants nothing (`grants` False): it is
    marked posted with no entries, and its revocation then has nothing to reverse."""
    if Posting.objects.filter(event=Posting.Event.ISSUED, **event_source).exists():
        return []
    if not grants:
        Posting.objects.create(event=Posting.Event.ISSUED, entries=0, **event_source)
        return []
    policies = policies_in_force(recognizer_ids(earned.educator_id), earned.earned_on)
    entries = LedgerEntry.objects.bulk_create(
        [
            entry
            for rule in applicable_rules(earned, policies)
            if (entry := _post_rule(rule, earned)) is not None
        ]
    )
    entries += post_role_eligibility(earned.educator_id, earned, policies)
    Posting.objects.create(event=Posting.Event.ISSUED, entries=len(entries), **event_source)
    _audit(entries, "ledger.posted")
    return entries


def _announce(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """Tell other apps (webhooks) of new entries once they are committed; every public
    posting function below passes what it posted through here."""
    if entries:
        transaction.on_commit(lambda: ledger_entry_posted.send(LedgerEntry, entries=entries))
    return entries


def _audit(entries: list[LedgerEntry], action: str, reason: str = "") -> None:
    """One audit row per entry, written together."""
    AuditEvent.objects.bulk_create(
        build_audit_event(
            SYSTEM,
            action,
            entry,
            reason=reason,
            organization=entry.policy.recognizer,
            data={"rule": entry.rule_id, "status": entry.status, "reverses": entry.reverses_id},
        )
        for entry in entries
    )


def post_issued(credential_id: int) -> list[LedgerEntry]:
    """Post what an issued credential grants (nothing on a second call)."""
    credential = IssuedCredential.objects.select_related(
        "award__attempt__version", "stack_award__stack"
    ).get(pk=credential_id)
    earned = earned_from_credential(credential)
    with transaction.atomic():
        _lock_educator(earned.educator_id)
        revoked = Revocation.objects.filter(credential=credential).exists()
        return _announce(_post(earned, {"credential": credential}, grants=not revoked))


def post_external(external_id: int) -> list[LedgerEntry]:
    """Post what an accepted external credential grants (nothing on a second call)."""
    external = ExternalCredential.objects.select_related("matched_version").get(pk=external_id)
    if external.status != ExternalCredential.Status.ACCEPTED:
        return []
    with transaction.atomic():
        _lock_educator(external.educator_id)
        return _announce(_post(earned_from_external(external), {"external": external}))


# ---------------------------------------------------------------------------- roles
@dataclass
class Held:
    mcs: set[int] = field(default_factory=set)
    stacks: set[int] = field(default_factory=set)


def held_by(educator_ids: Any) -> dict[int, Held]:
    """What each educator holds: MCs by an unrevoked credential or an accepted external one
    matched to an MC, stacks by an unrevoked stack credential. Three queries, whatever the
    number of educators; `educator_ids` may be a subquery."""
    held: dict[int, Held] = defaultdict(Held)
    live = IssuedCredential.objects.filter(revocation__isnull=True)
    for educator_id, mc_id in live.filter(award__earner_id__in=educator_ids).values_list(
        "award__earner_id", "award__attempt__version__micro_credential_id"
    ):
        held[educator_id].mcs.add(mc_id)
    for educator_id, mc_id in ExternalCredential.objects.filter(
        educator_id__in=educator_ids,
        status=ExternalCredential.Status.ACCEPTED,
        matched_version__isnull=False,
    ).values_list("educator_id", "matched_version__micro_credential_id"):
        held[educator_id].mcs.add(mc_id)
    for educator_id, stack_id in live.filter(stack_award__earner_id__in=educator_ids).values_list(
        "stack_award__earner_id", "stack_award__stack_id"
    ):
        held[educator_id].stacks.add(stack_id)
    return dict(held)


def _held_mcs_and_stacks(educator_id: int) -> tuple[set[int], set[int]]:
    """The MCs and stacks one educator holds (`held_by` for one)."""
    mine = held_by([educator_id]).get(educator_id, Held())
    return mine.mcs, mine.stacks


def is_eligible(rule: RecognitionRule, mcs: set[int], stacks: set[int]) -> bool:
    needed_stacks = {s.pk for s in rule.stacks.all()}
    listed = {m.pk for m in rule.micro_credentials.all()}
    needed = len(listed) if rule.mcs_needed is None else rule.mcs_needed
    return needed_stacks <= stacks and len(listed & mcs) >= needed


def _eligibility_held(rule: RecognitionRule, educator_id: int) -> bool:
    """An entry for the role under the policy (any version) that no reversal undid."""
    return LedgerEntry.objects.filter(
        educator_id=educator_id,
        kind=Kind.ROLE,
        policy__series=rule.policy.series,
        rule__role_title=rule.role_title,
        reverses__isnull=True,
        reversal__isnull=True,
    ).exists()


def post_role_eligibility(
    educator_id: int, earned: Earned, policies: list[RecognitionPolicy] | None = None
) -> list[LedgerEntry]:
    """An entry for each role the educator has just become eligible for, tied to the
    credential that completed it. Inside the caller's transaction, educator locked."""
    if policies is None:
        policies = policies_in_force(recognizer_ids(educator_id), earned.earned_on)
    role_rules = [
        rule for policy in policies for rule in policy.rules.all() if rule.kind == Kind.ROLE
    ]
    if not role_rules:
        return []
    mcs, stacks = _held_mcs_and_stacks(educator_id)
    entries = []
    for rule in role_rules:
        if not is_eligible(rule, mcs, stacks) or _eligibility_held(rule, educator_id):
            continue
        if LedgerEntry.objects.filter(rule=rule, reverses__isnull=True, **earned.source).exists():
            continue  # this credential completed the role once before, then lost it
        entries.append(
            LedgerEntry.objects.create(
                educator_id=educator_id,
                policy=rule.policy,
                rule=rule,
                kind=Kind.ROLE,
                quantity=Decimal("1"),
                title=rule.role_title,
                earned_on=earned.earned_on,
                note=f"Completed with “{earned.title}”.",
                **earned.source,
            )
        )
    return entries


# ---------------------------------------------------------------------------- reversals
def _reverse(entry: LedgerEntry, reason: str) -> LedgerEntry:
    return LedgerEntry.objects.create(
        educator_id=entry.educator_id,
        credential_id=entry.credential_id,
        external_id=entry.external_id,
        policy=entry.policy,
        rule_id=entry.rule_id,
        kind=entry.kind,
        quantity=-entry.quantity,
        amount=-entry.amount,
        title=entry.title,
        earned_on=entry.earned_on,
        reverses=entry,
        reason=reason,
        note="Reverses an earlier entry.",
    )


def _reverse_all(source: dict[str, Any], educator_id: int, reason: str) -> list[LedgerEntry]:
    """Reverse every live entry of a credential (an unfunded stipend granted nothing), then
    give back any role the educator still qualifies for through other credentials."""
    if Posting.objects.filter(event=Posting.Event.REVOKED, **source).exists():
        return []
    live = (
        LedgerEntry.objects.filter(reverses__isnull=True, reversal__isnull=True, **source)
        .exclude(status=LedgerEntry.Status.UNFUNDED)
        .select_related("policy__recognizer")
    )
    reversals = [_reverse(entry, reason) for entry in live]
    Posting.objects.create(event=Posting.Event.REVOKED, entries=len(reversals), **source)
    _audit(reversals, "ledger.reversed", reason)
    return reversals


def post_revoked(credential_id: int) -> list[LedgerEntry]:
    """Post reversing entries for a revoked credential (nothing on a second call)."""
    revocation = Revocation.objects.select_related(
        "credential__award", "credential__stack_award"
    ).get(credential_id=credential_id)
    credential = revocation.credential
    with transaction.atomic():
        _lock_educator(credential.earner_id)
        # Revoked before its issue was posted: the issue posting grants nothing.
        _post(earned_from_credential(credential), {"credential": credential}, grants=False)
        reversals = _reverse_all(
            {"credential": credential},
            credential.earner_id,
            f"The credential was revoked: {revocation.reason}",
        )
        regained = _regain_roles(credential.earner_id)
        return _announce(reversals + regained)


def post_external_withdrawn(external: ExternalCredential, reason: str) -> list[LedgerEntry]:
    with transaction.atomic():
        _lock_educator(external.educator_id)
        return _announce(_reverse_all({"external": external}, external.educator_id, reason))


def _regain_roles(educator_id: int) -> list[LedgerEntry]:
    """After a reversal, a role the educator still qualifies for through their other
    credentials is posted again, tied to the latest of them."""
    latest = (
        IssuedCredential.objects.filter(revocation__isnull=True)
        .filter(Q(award__earner_id=educator_id) | Q(stack_award__earner_id=educator_id))
        .select_related("award__attempt__version", "stack_award__stack")
        .order_by("-issued_at", "-pk")
        .first()
    )
    if latest is None:
        return []
    return post_role_eligibility(educator_id, earned_from_credential(latest))


# ---------------------------------------------------------------------------- repair
def unposted(limit: int | None = 500) -> tuple[list[int], list[int], list[int]]:
    """(credentials issued but never posted, revoked but never reversed, accepted external
    credentials never posted): what a lost task left behind."""
    issued = list(
        IssuedCredential.objects.exclude(
            pk__in=Posting.objects.filter(
                event=Posting.Event.ISSUED, credential__isnull=False
            ).values("credential_id")
        ).values_list("pk", flat=True)[:limit]
    )
    revoked = list(
        Revocation.objects.exclude(
            credential_id__in=Posting.objects.filter(
                event=Posting.Event.REVOKED, credential__isnull=False
            ).values("credential_id")
        ).values_list("credential_id", flat=True)[:limit]
    )
    external = list(
        ExternalCredential.objects.filter(status=ExternalCredential.Status.ACCEPTED)
        .exclude(
            pk__in=Posting.objects.filter(
                event=Posting.Event.ISSUED, external__isnull=False
            ).values("external_id")
        )
        .values_list("pk", flat=True)[:limit]
    )
    return issued, revoked, external


def repair() -> int:
    """Post whatever a crash or a lost task left unposted; the number of entries posted.
    Issues before revocations: a credential revoked before its first posting is posted,
    then reversed, so the ledger tells its whole story."""
    count = 0
    while True:
        issued, revoked, external = unposted()
        if not (issued or revoked or external):
            return count
        count += sum(len(post_issued(pk)) for pk in issued)
        count += sum(len(post_external(pk)) for pk in external)
        count += sum(len(post_revoked(pk)) for pk in revoked)

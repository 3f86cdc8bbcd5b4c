"""The events webhooks tell: what each payload holds, and which organizations may hear it.

Payloads carry ids and URLs and as little personal data as the receiver needs to act: the
earner's email (what a district's HR or PD system matches people on), never names, evidence,
feedback, points or who assessed (scoring is blind, and a decision payload must not undo it).

Who hears what:
- a credential issued or revoked, a decision made: the organizations above each earner (their
  school's district and the state, where they hold the earner role: schools own no endpoints)
  and the issuer organization that signs (for a decision, the one that will sign its award;
  a "not yet" decision has none);
- a ledger entry: the recognizer whose policy granted it, only: a district's stipends and
  salary steps are its own business, not the state's, and the reverse.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from microcred.orgs.models import Organization, Role
from microcred.orgs.selectors import ancestor_ids, organizations_where

from .delivery import schedule_on_commit
from .models import EventType, WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)


def _url(name: str, *args: Any) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def earner_chain(users: Iterable[Any]) -> set[int]:
    """The organizations where the users earn, and every one above them."""
    ids: set[int] = set()
    for user in users:
        for org in organizations_where(user, Role.EARNER):
            ids.add(org.pk)
            ids.update(ancestor_ids(org))
    return ids


# ---------------------------------------------------------------------------- payloads
def _credential_data(credential: Any) -> dict[str, Any]:
    if credential.award_id:
        version = credential.award.attempt.version
        achievement = {
            "micro_credential": version.micro_credential.slug,
            "version": version.number,
            "title": version.title,
        }
    else:
        stack = credential.stack_award.stack
        achievement = {"stack": stack.slug, "title": stack.title}
    issuer_org = credential.issuer.organization
    return {
        "credential": {
            "id": str(credential.uuid),
            "url": _url("credentials:credential", credential.uuid),
            "json_url": _url("credentials:credential_json", credential.uuid),
            "name": credential.document.get("name", ""),
            "issued_at": _iso(credential.issued_at),
        },
        "achievement": achievement,
        "earner": {"email": credential.earner.email},
        "issuer": {"organization": issuer_org.slug, "name": credential.issuer.name},
    }


def _credential_scope(credential: Any) -> list[int]:
    return sorted(earner_chain([credential.earner]) | {credential.issuer.organization_id})


def credential_issued(credential: Any) -> WebhookEvent | None:
    return record_event(
        EventType.CREDENTIAL_ISSUED,
        _credential_data(credential),
        _credential_scope(credential),
        source_key=f"credential.issued:{credential.uuid}",
    )


def credential_revoked(credential: Any, revocation: Any) -> WebhookEvent | None:
    # The reason is left out: it is written for the earner and may say more than a
    # receiving system needs.
    data = _credential_data(credential)
    data["credential"]["revoked_at"] = _iso(revocation.revoked_at)
    return record_event(
        EventType.CREDENTIAL_REVOKED,
        data,
        _credential_scope(credential),
        source_key=f"credential.revoked:{credential.uuid}",
    )


def _decision_issuer(decision: Any) -> Organization | None:
    from microcred.credentials.issuing import NoIssuer, issuer_organization

    award = decision.awards.select_related("attempt__school").first()
    if award is None:
        return None
    try:
        return issuer_organization(award)
    except NoIssuer:
        return None


def decision_made(decision: Any) -> WebhookEvent | None:
    from microcred.earning.selectors import attempt_members

    submission = decision.submission
    attempt = submission.attempt
    version = attempt.version
    earners = list(attempt_members(attempt))
    data = {
        "decision": {
            "id": decision.pk,
            "outcome": decision.outcome,
            "decided_at": _iso(decision.decided_at),
        },
        "attempt": {"id": str(attempt.uuid), "submission": submission.number},
        "micro_credential": {
            "slug": version.micro_credential.slug,
            "version": version.number,
            "title": version.title,
        },
        "earners": [{"email": user.email} for user in earners],
    }
    scope = earner_chain(earners)
    issuer = _decision_issuer(decision)
    if issuer is not None:
        scope.add(issuer.pk)
    return record_event(
        EventType.DECISION_MADE, data, sorted(scope), source_key=f"decision.made:{decision.pk}"
    )


def ledger_entry_posted(entry: Any) -> WebhookEvent | None:
    policy = entry.policy
    data = {
        "entry": {
            "id": entry.pk,
            "kind": entry.kind,
            "quantity": str(entry.quantity),
            "amount": str(entry.amount),
            "status": entry.status,
            "title": entry.title,
            "earned_on": _iso(entry.earned_on),
            "posted_at": _iso(entry.posted_at),
            "reverses": entry.reverses_id,
        },
        "policy": {"id": policy.pk, "name": policy.name, "recognizer": policy.recognizer.slug},
        "educator": {"email": entry.educator.email},
        "credential": {"id": str(entry.credential.uuid)} if entry.credential_id else None,
        "external_credential": {"id": str(entry.external.uuid)} if entry.external_id else None,
    }
    return record_event(
        EventType.LEDGER_ENTRY_POSTED,
        data,
        [policy.recognizer_id],
        source_key=f"ledger_entry.posted:{entry.pk}",
    )


# ---------------------------------------------------------------------------- storing
def record_event(
    event_type: str, payload: dict[str, Any], scope: list[int], *, source_key: str
) -> WebhookEvent | None:
    """Store the event once and give each active endpoint in scope that subscribes to it one
    delivery, sent once committed. Nothing is stored when no endpoint listens; the same
    source again (a signal sent twice) finds the event already stored and adds nothing."""
    endpoints = list(
        WebhookEndpoint.objects.filter(organization_id__in=scope, active=True).order_by("pk")
    )
    listening = [e for e in endpoints if e.subscribes_to(event_type)]
    if not listening:
        return None
    with transaction.atomic():
        event, created = WebhookEvent.objects.get_or_create(
            source_key=source_key,
            defaults={"type": event_type, "payload": payload, "scope": scope},
        )
        if not created:
            return event
        for endpoint in listening:
            WebhookDelivery.objects.create(
                endpoint=endpoint, event=event, next_attempt_at=event.created
            )
            schedule_on_commit(endpoint.pk)
    return event

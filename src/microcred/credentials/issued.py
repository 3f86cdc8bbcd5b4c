"""What an issuer admin's organizations issued: the searchable list they revoke from.

One query for a page of rows, whatever its length: each row's earner, micro-credential or
stack, issuer and revocation come joined, never fetched row by row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from microcred.orgs.models import Role
from microcred.orgs.selectors import is_active_superuser, role_organization_ids

from .models import IssuedCredential


class Revoked:
    """The values of the list's revocation filter."""

    ANY = ""
    YES = "yes"
    NO = "no"
    CHOICES = ((ANY, "All credentials"), (NO, "Valid (not revoked)"), (YES, "Revoked"))


def issuer_organization_ids(user: Any) -> frozenset[int] | None:
    """The issuer organizations whose credentials the user lists: None means every one (a
    superuser); an empty set, none."""
    if is_active_superuser(user):
        return None
    return role_organization_ids(user).get(Role.ISSUER_ADMIN, frozenset())


def can_list_issued(user: Any) -> bool:
    ids = issuer_organization_ids(user)
    return ids is None or bool(ids)


def _search(query: str) -> Q:
    try:
        return Q(uuid=uuid.UUID(query))
    except ValueError:
        pass
    match = Q()
    for earner in ("award__earner", "stack_award__earner"):
        for field in ("email", "display_name", "first_name", "last_name"):
            match |= Q(**{f"{earner}__{field}__icontains": query})
    # "Inez Earner": a full name typed as the earner gave it.
    first, _, last = query.partition(" ")
    if last.strip():
        for earner in ("award__earner", "stack_award__earner"):
            match |= Q(
                **{
                    f"{earner}__first_name__iexact": first,
                    f"{earner}__last_name__icontains": last.strip(),
                }
            )
    match |= Q(award__attempt__version__title__icontains=query)
    match |= Q(stack_award__stack__achievement_name__icontains=query)
    match |= Q(stack_award__stack__title__icontains=query)
    return match


def issued_by(
    user: Any, *, query: str = "", revoked: str = Revoked.ANY
) -> QuerySet[IssuedCredential]:
    """The credentials the user's issuer organizations issued, newest first, matching
    `query` (earner name or email, credential name, or the credential's uuid) and the
    revocation filter."""
    credentials = IssuedCredential.objects.select_related(
        "award__earner",
        "award__attempt__version",
        "stack_award__earner",
        "stack_award__stack",
        "issuer",
        "revocation",
    ).order_by("-issued_at", "-pk")
    ids = issuer_organization_ids(user)
    if ids is not None:
        credentials = credentials.filter(issuer__organization_id__in=ids)
    query = query.strip()
    if query:
        credentials = credentials.filter(_search(query))
    if revoked == Revoked.YES:
        credentials = credentials.filter(revocation__isnull=False)
    elif revoked == Revoked.NO:
        credentials = credentials.filter(revocation__isnull=True)
    return credentials


@dataclass(frozen=True)
class IssuedRow:
    credential: IssuedCredential
    title: str
    is_stack: bool
    earner_name: str
    earner_email: str
    issuer_name: str
    revoked_at: datetime | None
    revoked_reason: str


def row(credential: IssuedCredential) -> IssuedRow:
    """What the list shows of one credential, from the rows `issued_by` joined."""
    if credential.award_id is None:
        earner = credential.stack_award.earner
        title = credential.stack_award.stack.achievement_name or credential.stack_award.stack.title
    else:
        earner = credential.award.earner
        title = credential.award.attempt.version.title
    revocation = getattr(credential, "revocation", None)
    return IssuedRow(
        credential=credential,
        title=title,
        is_stack=credential.award_id is None,
        earner_name=earner.full_name,
        earner_email=earner.email,
        issuer_name=credential.issuer.name,
        revoked_at=revocation.revoked_at if revocation else None,
        revoked_reason=revocation.reason if revocation else "",
    )

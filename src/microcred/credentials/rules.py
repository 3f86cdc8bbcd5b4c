"""Who may manage an issuer's identity, as `rules` predicates.

An issuer admin manages the profile and keys of the issuer organization where they hold the
role, and of no other; superusers manage every issuer. Everything public (issuer pages, DID
documents, status lists, the verifier) needs no permission.
"""

from __future__ import annotations

from typing import Any

import rules

from microcred.orgs.models import Organization, Role
from microcred.orgs.selectors import is_active_superuser, role_organization_ids

from .models import IssuedCredential, IssuerProfile


def issuer_organization_id(obj: Any) -> int | None:
    """The issuer organization an object (an issuer organization or profile) stands for."""
    if isinstance(obj, IssuerProfile):
        return obj.organization_id
    if isinstance(obj, Organization) and obj.kind == Organization.Kind.ISSUER:
        return obj.pk
    return None


@rules.predicate
def is_superuser(user: Any) -> bool:
    return is_active_superuser(user)


@rules.predicate
def administers_issuer(user: Any, obj: Any) -> bool:
    org_id = issuer_organization_id(obj)
    return org_id is not None and org_id in role_organization_ids(user).get(
        Role.ISSUER_ADMIN, frozenset()
    )


rules.add_perm("credentials.manage_issuer", is_superuser | administers_issuer)


# ---------------------------------------------------------------------------- issued credentials
# An earner always sees their own credential and alone decides whether others may; an issuer
# admin of the issuing organization sees it too and may revoke it.


@rules.predicate
def is_public_credential(user: Any, credential: Any) -> bool:
    return isinstance(credential, IssuedCredential) and credential.public


@rules.predicate
def earned_credential(user: Any, credential: Any) -> bool:
    return (
        isinstance(credential, IssuedCredential)
        and user.is_authenticated
        and credential.earner_id == user.pk
    )


@rules.predicate
def administers_credential_issuer(user: Any, credential: Any) -> bool:
    return isinstance(credential, IssuedCredential) and administers_issuer(user, credential.issuer)


rules.add_perm(
    "credentials.view_credential",
    is_public_credential | earned_credential | is_superuser | administers_credential_issuer,
)
rules.add_perm("credentials.change_credential_visibility", earned_credential)
rules.add_perm("credentials.revoke_credential", is_superuser | administers_credential_issuer)

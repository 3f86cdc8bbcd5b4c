"""Who may author, vet, publish and approve micro-credentials, as `rules` predicates.

A role alone is never enough where an object belongs to an organization: a provider author may
touch only their own provider's micro-credentials and stacks; a recognizer withdraws only their
own organization's approvals. State conditions (a version is editable, approved...) sit in the
permission too, so a page shows a button only when the step can happen; the services check the
state again under a row lock. Superusers pass everything.

`ROLE_ONLY` gives, for the state-dependent permissions, the same rule without the state: views
use it to tell someone who could take the step at another moment (a form posted twice, a page
left open) why it did not happen, instead of a bare 403.
"""

from __future__ import annotations

from typing import Any

import rules

from microcred.orgs.models import Organization, Role
from microcred.orgs.selectors import is_active_superuser, role_organization_ids

from .models import Approval, MicroCredential, MicroCredentialVersion, Stack

Status = MicroCredentialVersion.Status


def _org_ids(user: Any, role: str) -> frozenset[int]:
    return role_organization_ids(user).get(role, frozenset())


def provider_id_of(obj: Any) -> int | None:
    """The provider organization an authoring object belongs to."""
    if isinstance(obj, Organization):
        return obj.pk if obj.kind == Organization.Kind.PROVIDER else None
    if isinstance(obj, MicroCredential | Stack):
        return obj.provider_id
    if isinstance(obj, MicroCredentialVersion):
        return obj.micro_credential.provider_id
    return None


@rules.predicate
def is_superuser(user: Any) -> bool:
    return is_active_superuser(user)


@rules.predicate
def is_provider_author(user: Any, obj: Any) -> bool:
    """An author at the provider the object (organization, MC, version, stack) belongs to."""
    provider_id = provider_id_of(obj)
    return provider_id is not None and provider_id in _org_ids(user, Role.PROVIDER_AUTHOR)


@rules.predicate
def authors_anywhere(user: Any) -> bool:
    return bool(_org_ids(user, Role.PROVIDER_AUTHOR))


@rules.predicate
def is_vetting_reviewer(user: Any) -> bool:
    return bool(_org_ids(user, Role.VETTING_REVIEWER))


@rules.predicate
def is_recognizer(user: Any) -> bool:
    return bool(_org_ids(user, Role.RECOGNIZER_ADMIN))


@rules.predicate
def is_own_work(user: Any, version: Any) -> bool:
    """The user created the micro-credential or this version of it."""
    if not isinstance(version, MicroCredentialVersion) or user.pk is None:
        return False
    return user.pk in {version.created_by_id, version.micro_credential.created_by_id}


@rules.predicate
def recognizes_for(user: Any, approval: Any) -> bool:
    """A recognizer admin at the organization that gave the approval."""
    return isinstance(approval, Approval) and approval.recognizer_id in _org_ids(
        user, Role.RECOGNIZER_ADMIN
    )


def _version_in(*statuses: str) -> rules.Predicate:
    allowed = frozenset(statuses)

    def check(user: Any, version: Any) -> bool:
        return isinstance(version, MicroCredentialVersion) and version.status in allowed

    return rules.predicate(check, name=f"version_in_{'_'.join(sorted(allowed))}")


version_editable = _version_in(*MicroCredentialVersion.EDITABLE)
version_approved = _version_in(Status.APPROVED)
version_vetted = _version_in(Status.APPROVED, Status.PUBLISHED)
version_retirable = _version_in(Status.PUBLISHED, Status.SUPERSEDED)


@rules.predicate
def stack_is_draft(user: Any, stack: Any) -> bool:
    return isinstance(stack, Stack) and stack.status == Stack.Status.DRAFT


# Authors vet nothing of their own provider: independence is the point of vetting.
may_review = is_vetting_reviewer & ~is_own_work & ~is_provider_author
may_publish = is_provider_author | is_vetting_reviewer

ROLE_ONLY: dict[str, rules.Predicate] = {
    "catalog.edit_version": is_superuser | is_provider_author,
    "catalog.submit_version": is_superuser | is_provider_author,
    "catalog.publish_version": is_superuser | may_publish,
    "catalog.retire_version": is_superuser | is_provider_author,
    "catalog.approve_for_use": is_superuser | is_recognizer,
    "catalog.manage_stack": is_superuser | is_provider_author,
}

rules.add_perm("catalog.access_authoring", is_superuser | authors_anywhere)
rules.add_perm("catalog.author_in_provider", is_superuser | is_provider_author)
rules.add_perm("catalog.start_new_version", is_superuser | is_provider_author)
rules.add_perm("catalog.edit_version", is_superuser | (is_provider_author & version_editable))
rules.add_perm("catalog.submit_version", is_superuser | (is_provider_author & version_editable))
rules.add_perm(
    "catalog.view_draft",
    is_superuser | is_provider_author | is_vetting_reviewer | is_recognizer,
)
# Without a state condition: a version no longer in review still shows its page and history;
# services.record_review refuses a second decision.
rules.add_perm("catalog.review_version", is_superuser | may_review)
rules.add_perm("catalog.view_vetting_queue", is_superuser | is_vetting_reviewer)
rules.add_perm("catalog.publish_version", is_superuser | (may_publish & version_approved))
rules.add_perm("catalog.retire_version", is_superuser | (is_provider_author & version_retirable))
rules.add_perm("catalog.manage_approvals", is_superuser | is_recognizer)
rules.add_perm("catalog.approve_for_use", is_superuser | (is_recognizer & version_vetted))
rules.add_perm("catalog.withdraw_approval", is_superuser | recognizes_for)
rules.add_perm("catalog.manage_stack", is_superuser | (is_provider_author & stack_is_draft))

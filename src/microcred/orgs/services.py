"""Writes about people, organizations and roles.

Each function checks that the actor may make the change (views check too; the services
do not trust them), makes it in one transaction and leaves an AuditEvent in the same one.
Bad input raises ValidationError with messages keyed by field, which forms display as is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower
from django.utils.text import slugify

from . import imports, selectors
from .models import (
    AuditEvent,
    Membership,
    Organization,
    Role,
    User,
    role_fit_problem,
    with_article,
)
from .tasks import send_invitations

# Slugs the management URLs use for themselves (organizations/new/).
RESERVED_SLUGS = frozenset({"new", "issued"})
# What a create or edit form may set; `kind` and `slug` only on creation, because schools,
# memberships and links depend on them.
ORGANIZATION_FIELDS = (
    "name",
    "parent",
    "code",
    "region",
    "locale",
    "low_wealth",
    "size",
    "website",
)


class SystemActor:
    """The command line and data loaders act as the system: no person, every permission.
    Their audit events have no actor."""

    is_authenticated = False
    is_active = True
    is_superuser = True
    pk = None
    name = "microcred"

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return True


SYSTEM = SystemActor()


def build_audit_event(
    actor: Any,
    action: str,
    target: models.Model,
    *,
    reason: str = "",
    data: dict[str, Any] | None = None,
    organization: Organization | None = None,
) -> AuditEvent:
    return AuditEvent(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=str(target)[:255],
        organization=organization,
        reason=reason,
        data=data or {},
    )


def record_audit(
    actor: Any,
    action: str,
    target: models.Model,
    *,
    reason: str = "",
    data: dict[str, Any] | None = None,
    organization: Organization | None = None,
) -> AuditEvent:
    """Append who did what to which record, and why. Call inside the transaction of the change
    so the record and its audit event land together or not at all."""
    event = build_audit_event(
        actor, action, target, reason=reason, data=data, organization=organization
    )
    event.save()
    return event


# --- Organizations --------------------------------------------------------------------------


def unique_slug(name: str, *, hint: str = "") -> str:
    """A free slug from the name: 'lincoln-elementary', then 'lincoln-elementary-pine' (the
    district's slug as hint), then numbered."""
    base = slugify(name)[:60].strip("-") or "organization"
    taken = set(Organization.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    taken |= RESERVED_SLUGS
    candidates = [base] + ([f"{base}-{slugify(hint)}"[:75]] if hint else [])
    candidates += [f"{base}-{n}" for n in range(2, len(taken) + 3)]
    return next(slug for slug in candidates if slug not in taken)


def _check_organization(actor: Any, org: Organization, *, moved: bool) -> None:
    """Reach, tree shape, field formats and friendly uniqueness, as one error dict."""
    errors: dict[str, list[str]] = {}
    if moved and not selectors.can_place_under(actor, org.kind, org.parent):
        where = org.parent.name if org.parent else "the top level"
        errors["parent"] = [
            f"You cannot put {with_article(org.get_kind_display())} in "
            f"{where}: choose an organization you manage."
        ]
    try:
        org.full_clean(validate_constraints=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    kind_label = org.get_kind_display()
    others = Organization.objects.exclude(pk=org.pk).filter(kind=org.kind)
    if org.code and others.filter(code=org.code).exists():
        errors.setdefault("code", []).append(
            f"Another {kind_label} already uses the code {org.code}."
        )
    same_name = others.annotate(lower_name=Lower("name")).filter(
        lower_name=org.name.lower(), parent=org.parent
    )
    if org.name and same_name.exists():
        where = f"in {org.parent.name}" if org.parent else "at the top level"
        errors.setdefault("name", []).append(
            f"There is already {with_article(kind_label)} named {org.name} {where}."
        )
    if errors:
        raise ValidationError(errors)


def _save_organization(org: Organization) -> None:
    """Save; two identical forms posted at once both pass the checks, and the database's
    unique constraints stop the second: tell that person in the same words."""
    try:
        with transaction.atomic():
            org.save()
    except IntegrityError as exc:
        raise ValidationError(
            {
                "name": [
                    "This organization was just created or changed by someone else "
                    "(perhaps the form was sent twice). Check the list before trying again."
                ]
            }
        ) from exc


def create_organization(
    actor: Any, *, kind: str, name: str, slug: str = "", **fields: Any
) -> Organization:
    unknown = set(fields) - set(ORGANIZATION_FIELDS)
    if unknown:
        raise TypeError(f"Unknown organization fields: {sorted(unknown)}")
    parent = fields.get("parent")
    if not actor.has_perm("orgs.add_organization", parent):
        raise PermissionDenied("You cannot add organizations there.")
    org = Organization(kind=kind, name=name.strip(), **fields)
    org.code = org.code.strip()
    with transaction.atomic():
        if slug in RESERVED_SLUGS or (slug and Organization.objects.filter(slug=slug).exists()):
            raise ValidationError(
                {"slug": [f"The short name {slug} is taken; choose another or leave it empty."]}
            )
        org.slug = slug or unique_slug(org.name, hint=parent.slug if parent else "")
        _check_organization(actor, org, moved=True)
        _save_organization(org)
        record_audit(
            actor,
            "organization.created",
            org,
            organization=org,
            data={"kind": kind, "parent": parent.slug if parent else None},
        )
    return org


def update_organization(actor: Any, organization: Organization, **changes: Any) -> list[str]:
    """Apply the changes; returns the names of the fields that really changed (none: no
    write and no audit event, so saving an unchanged form twice records nothing)."""
    unknown = set(changes) - set(ORGANIZATION_FIELDS)
    if unknown:
        raise TypeError(f"Unknown organization fields: {sorted(unknown)}")
    if not actor.has_perm("orgs.manage_organization", organization):
        raise PermissionDenied("You do not manage this organization.")
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        if isinstance(changes.get("code"), str):
            changes["code"] = changes["code"].strip()
        if isinstance(changes.get("name"), str):
            changes["name"] = changes["name"].strip()
        before = {name: getattr(org, name) for name in changes}
        changed = [name for name, value in changes.items() if before[name] != value]
        if not changed:
            return []
        for name in changed:
            setattr(org, name, changes[name])
        _check_organization(actor, org, moved="parent" in changed)
        _save_organization(org)
        record_audit(
            actor,
            "organization.updated",
            org,
            organization=org,
            data={
                name: {"from": _plain(before[name]), "to": _plain(changes[name])}
                for name in changed
            },
        )
    organization.refresh_from_db()
    return changed


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a field value for the audit log."""
    if isinstance(value, models.Model):
        return str(value)
    return value


# --- People and memberships -----------------------------------------------------------------


def _invite_after_commit(actor: Any, users: list[User]) -> None:
    """New accounts get an email with a link to choose their password, sent only once the
    transaction that created them has committed (a rolled-back import sends nothing)."""
    if not users:
        return
    ids = [user.pk for user in users]
    inviter = getattr(actor, "name", "") or "An administrator"
    transaction.on_commit(lambda: send_invitations.enqueue(user_ids=ids, inviter=inviter))


def _new_user(email: str, first_name: str = "", last_name: str = "") -> User:
    # No usable password: the person sets one through the emailed link.
    return User.objects.create_user(email=email, first_name=first_name, last_name=last_name)


RACE_MESSAGE = (
    "Someone else changed the same records at the same moment, so nothing was "
    "saved. Please try again."
)


def _find_user(email: str) -> User | None:
    return (
        User.objects.annotate(email_lower=Lower("email")).filter(email_lower=email.lower()).first()
    )


@dataclass(frozen=True)
class MembershipResult:
    membership: Membership
    outcome: str  # "added" or "restored"
    user_created: bool


def add_membership(
    actor: Any,
    organization: Organization,
    *,
    email: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
) -> MembershipResult:
    """Give the person with this email the role at the organization; a new email gets an
    account and an invitation. A role removed earlier is restored; a role already held is
    refused with a plain message (so a form posted twice adds nothing)."""
    if not actor.has_perm("orgs.manage_memberships", organization):
        raise PermissionDenied("You do not manage the people of this organization.")
    email = email.strip().lower()
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [
            f"'{email}' is not a valid email address." if email else "Enter an email address."
        ]
    if role not in Role.values:
        errors["role"] = ["Choose a role from the list."]
    elif problem := role_fit_problem(role, organization):
        errors["role"] = [problem]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user = _find_user(email)
        created = user is None
        if user is None:
            try:
                with transaction.atomic():
                    user = _new_user(email, first_name.strip(), last_name.strip())
            except IntegrityError as exc:  # the same email added twice at once
                raise ValidationError({"email": [RACE_MESSAGE]}) from exc
            record_audit(actor, "user.invited", user, organization=organization)
        membership, made = Membership.objects.select_for_update().get_or_create(
            user=user, organization=organization, role=role
        )
        if not made and membership.active:
            raise ValidationError(
                {
                    "email": [
                        f"{user.name} already holds the role {membership.get_role_display()} here."
                    ]
                }
            )
        outcome = "added" if made else "restored"
        if not made:
            membership.active = True
            membership.save(update_fields=["active"])
        record_audit(
            actor,
            f"membership.{outcome}",
            membership,
            organization=organization,
            data={"email": user.email, "role": role},
        )
        if created:
            _invite_after_commit(actor, [user])
    selectors.forget_cached_access(user)
    return MembershipResult(membership, outcome, created)


def deactivate_membership(actor: Any, membership: Membership, *, reason: str = "") -> bool:
    """Remove a role (the record stays, inactive, for history). False if it was already
    removed, so a second click changes nothing."""
    if not actor.has_perm("orgs.manage_memberships", membership.organization):
        raise PermissionDenied("You do not manage the people of this organization.")
    if (
        membership.user_id == getattr(actor, "pk", None)
        and membership.role == Role.PROGRAM_ADMIN
        and not selectors.is_active_superuser(actor)
    ):
        # Removing your own admin role could leave the organization with nobody to run it.
        raise ValidationError("You cannot remove your own admin role; ask another admin.")
    with transaction.atomic():
        current = Membership.objects.select_for_update().get(pk=membership.pk)
        if not current.active:
            return False
        current.active = False
        current.save(update_fields=["active"])
        record_audit(
            actor,
            "membership.removed",
            current,
            organization=current.organization,
            reason=reason,
            data={"email": current.user.email, "role": current.role},
        )
    membership.active = False
    selectors.forget_cached_access(membership.user)
    return True


# --- Imports --------------------------------------------------------------------------------


class ImportRejected(Exception):
    """The file has problems; nothing was written. The plan says which."""

    def __init__(self, plan: imports.ImportPlan) -> None:
        super().__init__(f"{len(plan.problems)} problem(s) in the file")
        self.plan = plan


def preview_import(actor: Any, kind: str, text: str) -> imports.ImportPlan:
    """The dry run: nothing is written."""
    if not actor.has_perm("orgs.access_management"):
        raise PermissionDenied("Only program admins import people and schools.")
    return imports.build_plan(actor, kind, text)


def run_import(actor: Any, kind: str, text: str, *, filename: str = "") -> imports.ImportPlan:
    """Check the file again (the database may have changed since the dry run) and apply it
    in one transaction: everything or nothing. Rows already in place are left alone, so
    importing the same file twice creates nothing the second time."""
    if not actor.has_perm("orgs.access_management"):
        raise PermissionDenied("Only program admins import people and schools.")
    try:
        with transaction.atomic():
            plan = imports.build_plan(actor, kind, text)
            if not plan.is_valid:
                raise ImportRejected(plan)
            if plan.has_changes:
                _apply_plan(actor, plan, text, filename)
    except IntegrityError as exc:
        # Another admin created the same person or school meanwhile; all was rolled back.
        problem = imports.Problem(None, "", RACE_MESSAGE)
        raise ImportRejected(imports.ImportPlan(kind, file_problems=[problem])) from exc
    return plan


def _apply_plan(actor: Any, plan: imports.ImportPlan, text: str, filename: str) -> None:
    if plan.kind == imports.ImportKind.PEOPLE:
        _apply_people(actor, plan)
    elif plan.kind == imports.ImportKind.ONEROSTER:
        from . import oneroster  # it builds on this module

        _invite_after_commit(actor, oneroster.apply_plan(actor, plan))  # type: ignore[arg-type]
    else:
        _apply_schools(actor, plan)
    # One summary event per organization touched, so each district sees its own imports.
    digest = hashlib.sha256(text.encode()).hexdigest()
    touched = {
        row.organization.pk: row.organization
        for row in plan.rows_to_change
        if row.organization is not None
    }
    AuditEvent.objects.bulk_create(
        [
            build_audit_event(
                actor,
                f"import.{plan.kind}",
                org,
                organization=org,
                data={
                    "file": filename,
                    "sha256": digest,
                    "counts": dict(plan.counts),
                    "rows": sum(1 for row in plan.rows_to_change if row.organization == org),
                },
            )
            for org in touched.values()
        ]
    )


def _apply_people(actor: Any, plan: imports.ImportPlan) -> None:
    events: list[AuditEvent] = []
    new_users: dict[str, User] = {}
    for row in plan.rows_to_change:
        email, org = row.values["email"], row.organization
        assert org is not None  # a row without problems has its organization
        user = row.user or new_users.get(email)
        if user is None:
            user = _new_user(email, row.values["first_name"], row.values["last_name"])
            new_users[email] = user
            events.append(
                build_audit_event(
                    actor, "user.invited", user, organization=org, data={"source": "import"}
                )
            )
        elif row.changes:
            User.objects.filter(pk=user.pk).update(**row.changes)
            events.append(
                build_audit_event(
                    actor, "user.names_filled", user, organization=org, data=dict(row.changes)
                )
            )
        if row.action in {"create_user", "add_role"}:
            membership = Membership.objects.create(user=user, organization=org, role=row.role)
            events.append(
                build_audit_event(
                    actor,
                    "membership.added",
                    membership,
                    organization=org,
                    data={"source": "import"},
                )
            )
        elif row.action == "restore_role" and row.membership is not None:
            Membership.objects.filter(pk=row.membership.pk).update(active=True)
            events.append(
                build_audit_event(
                    actor,
                    "membership.restored",
                    row.membership,
                    organization=org,
                    data={"source": "import"},
                )
            )
    AuditEvent.objects.bulk_create(events)
    _invite_after_commit(actor, list(new_users.values()))


def _apply_schools(actor: Any, plan: imports.ImportPlan) -> None:
    events: list[AuditEvent] = []
    for row in plan.rows_to_change:
        lea = row.organization
        assert lea is not None
        if row.action == "create_school":
            school = Organization.objects.create(
                kind=Organization.Kind.SCHOOL,
                name=row.values["name"],
                code=row.values["code"],
                region=row.values.get("region", ""),
                parent=lea,
                slug=unique_slug(row.values["name"], hint=lea.slug),
            )
            events.append(
                build_audit_event(
                    actor,
                    "organization.created",
                    school,
                    organization=school,
                    data={"source": "import"},
                )
            )
        elif row.school is not None:
            Organization.objects.filter(pk=row.school.pk).update(**row.changes)
            events.append(
                build_audit_event(
                    actor,
                    "organization.updated",
                    row.school,
                    organization=row.school,
                    data={"source": "import", **row.changes},
                )
            )
    AuditEvent.objects.bulk_create(events)

"""Writes for the catalog: authoring versions, the vetting lifecycle, approvals for use, stacks.

Every state change happens here, inside one transaction with its AuditEvent, and checks the
state it starts from so a form posted twice, or a stale page, changes nothing.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from microcred.orgs.models import Organization
from microcred.orgs.services import record_audit

from .content import VersionContent, check_content
from .models import (
    Alignment,
    Approval,
    ApprovedUse,
    CriterionRating,
    EvidenceRequirement,
    GradeBand,
    KeyMethodComponent,
    LearningResource,
    MicroCredential,
    MicroCredentialVersion,
    OutcomeBand,
    QualityCriterion,
    Rubric,
    RubricComponent,
    RubricCriterion,
    Stack,
    StackMember,
    StandardItem,
    Subject,
    VettingReview,
)
from .selectors import content_of

Status = MicroCredentialVersion.Status


class TransitionError(ValidationError):
    """The version is not in a state that allows this step (often: the form was posted twice)."""


class AlreadySavedError(TransitionError):
    """A create form was posted twice: the first post already made the record, found here."""

    def __init__(self, message: str, existing: MicroCredential | Stack) -> None:
        super().__init__(message)
        self.existing = existing


def _refuse_second_post(
    provider: Organization,
    model: type[MicroCredential] | type[Stack],
    key: uuid.UUID | None,
    what: str,
) -> None:
    """A create form carries a key that becomes the new record's uuid; seeing it again means
    the same form was sent twice (a double click, a reload), so nothing new is made."""
    if key is None:
        return
    # Serialise creations per provider so two simultaneous posts cannot both pass the check.
    list(Organization.objects.select_for_update().filter(pk=provider.pk))
    existing = model.objects.filter(uuid=key).first()
    if existing is not None:
        raise AlreadySavedError(
            f"This {what} was already saved: the form was sent twice.",
            existing,
        )


def _require_status(version: MicroCredentialVersion, allowed: set[str], doing: str) -> None:
    if version.status not in allowed:
        raise TransitionError(
            f"This version is {version.get_status_display().lower()}, so it cannot be {doing}."
        )


def _locked(version: MicroCredentialVersion) -> MicroCredentialVersion:
    """Re-read the version under a row lock so two requests cannot both make the same step."""
    return MicroCredentialVersion.objects.select_for_update().get(pk=version.pk)


def unique_slug(title: str, model: type[MicroCredential] | type[Stack]) -> str:
    base = slugify(title)[:100] or "item"
    slug, n = base, 1
    while model.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


# ---------------------------------------------------------------------------- authoring
def _resolve_vocab(
    content: VersionContent,
) -> tuple[list[GradeBand], list[Subject], list[StandardItem]]:
    problems: dict[str, list[str]] = {}
    bands = list(GradeBand.objects.filter(code__in=content.get("grade_bands", [])))
    if len(bands) != len(set(content.get("grade_bands", []))):
        problems["grade_bands"] = ["One of the grade bands is not in the list."]
    subjects = list(Subject.objects.filter(code__in=content.get("subjects", [])))
    if len(subjects) != len(set(content.get("subjects", []))):
        problems["subjects"] = ["One of the subjects is not in the list."]
    wanted = set(content.get("alignments", []))
    try:
        items = list(StandardItem.objects.filter(identifier__in=[uuid.UUID(x) for x in wanted]))
    except ValueError:
        items = []
    if len(items) != len(wanted):
        problems["alignments"] = ["One of the aligned standards could not be found."]
    if problems:
        raise ValidationError(problems)
    return bands, subjects, items


def _write_parts(version: MicroCredentialVersion, content: VersionContent) -> None:
    bands, subjects, items = _resolve_vocab(content)
    version.grade_bands.set(bands)
    version.subjects.set(subjects)
    components = [
        KeyMethodComponent.objects.create(
            version=version,
            order=i,
            title=c["title"].strip(),
            description=c.get("description", "").strip(),
        )
        for i, c in enumerate(content["components"])
    ]
    for i, r in enumerate(content.get("resources", [])):
        LearningResource.objects.create(
            version=version,
            order=i,
            title=r["title"].strip(),
            url=r.get("url", ""),
            description=r.get("description", ""),
        )
    for i, e in enumerate(content["evidence"]):
        EvidenceRequirement.objects.create(
            version=version,
            order=i,
            kind=e["kind"],
            title=e["title"].strip(),
            instructions=e["instructions"].strip(),
            word_limit=e.get("word_limit"),
            min_duration_seconds=e.get("min_duration_seconds"),
            max_duration_seconds=e.get("max_duration_seconds"),
            requires_annotations=e.get("requires_annotations", False),
            min_annotations=e.get("min_annotations", 0),
            allowed_types=e.get("allowed_types", []),
            max_file_size_mb=e.get("max_file_size_mb"),
            max_files=e.get("max_files", 1),
        )
    spec = content["rubric"]
    rubric = Rubric.objects.create(
        version=version, scoring=spec["scoring"], instructions=spec.get("instructions", "")
    )
    for i, rc in enumerate(spec["components"]):
        link = rc.get("component")
        rubric_component = RubricComponent.objects.create(
            rubric=rubric,
            order=i,
            title=rc["title"].strip(),
            max_points=rc["max_points"],
            component=components[link] if link is not None else None,
        )
        RubricCriterion.objects.bulk_create(
            RubricCriterion(
                rubric_component=rubric_component,
                order=j,
                text=c["text"].strip(),
                points=c.get("points", 1),
                label=c.get("label", ""),
            )
            for j, c in enumerate(rc["criteria"])
        )
    for b in spec["bands"]:
        OutcomeBand.objects.create(
            rubric=rubric,
            label=b["label"].strip(),
            min_points=b["min_points"],
            max_points=b["max_points"],
            passing=b["passing"],
            description=b.get("description", ""),
        )
    Alignment.objects.bulk_create(Alignment(version=version, standard_item=s) for s in items)


def _set_fields(version: MicroCredentialVersion, content: VersionContent) -> None:
    for field in ("title", "summary", "competency_statement", "key_method", "research_basis"):
        setattr(version, field, str(content[field]).strip())  # type: ignore[literal-required]
    version.estimated_hours = Decimal(str(content["estimated_hours"]))
    version.difficulty = content["difficulty"]
    version.career_phase = content.get("career_phase", MicroCredentialVersion.CareerPhase.ANY)


@transaction.atomic
def create_micro_credential(
    *,
    provider: Organization,
    author: Any,
    content: VersionContent,
    slug: str | None = None,
    key: uuid.UUID | None = None,
) -> MicroCredentialVersion:
    """A new micro-credential with its first version as a draft. `key` (the create form's
    token) makes a second post of the same form raise AlreadySavedError instead of a twin."""
    check_content(content)
    if provider.kind != Organization.Kind.PROVIDER:
        raise ValidationError(
            {"provider": "Only a provider organization can author micro-credentials."}
        )
    _refuse_second_post(provider, MicroCredential, key, "micro-credential")
    mc = MicroCredential.objects.create(
        uuid=key or uuid.uuid4(),
        provider=provider,
        slug=slug or unique_slug(content["title"], MicroCredential),
        created_by=author if getattr(author, "is_authenticated", False) else None,
    )
    version = MicroCredentialVersion(micro_credential=mc, number=1, created_by=mc.created_by)
    _set_fields(version, content)
    version.save()
    _write_parts(version, content)
    record_audit(author, "catalog.version.created", version, organization=provider)
    return version


@transaction.atomic
def update_draft(
    version: MicroCredentialVersion, *, author: Any, content: VersionContent
) -> MicroCredentialVersion:
    """Replace a draft's content as a whole (frozen versions refuse)."""
    version = _locked(version)
    _require_status(version, set(MicroCredentialVersion.EDITABLE), "edited")
    check_content(content)
    for related in (
        version.components,
        version.resources,
        version.evidence_requirements,
        version.alignments,
    ):
        for part in related.all():
            part.delete()
    if hasattr(version, "rubric"):
        rubric = version.rubric
        for band in rubric.bands.all():
            band.delete()
        for component in rubric.components.all():
            for criterion in component.criteria.all():
                criterion.delete()
            component.delete()
        rubric.delete()
    _set_fields(version, content)
    version.save()
    version = MicroCredentialVersion.objects.get(pk=version.pk)
    _write_parts(version, content)
    record_audit(
        author, "catalog.version.edited", version, organization=version.micro_credential.provider
    )
    return version


@transaction.atomic
def start_new_version(micro_credential: MicroCredential, *, author: Any) -> MicroCredentialVersion:
    """A new draft copied from the latest version; earlier versions stay exactly as they were."""
    latest = micro_credential.versions.order_by("-number").first()
    if latest is None:
        raise TransitionError("This micro-credential has no version to copy.")
    if micro_credential.versions.filter(
        status__in=[Status.DRAFT, Status.CHANGES_REQUESTED, Status.IN_REVIEW, Status.APPROVED]
    ).exists():
        raise TransitionError(
            "A newer version is already being worked on: finish or withdraw it first."
        )
    content = content_of(latest)
    version = MicroCredentialVersion(
        micro_credential=micro_credential,
        number=latest.number + 1,
        created_by=author if getattr(author, "is_authenticated", False) else None,
    )
    _set_fields(version, content)
    version.save()
    _write_parts(version, content)
    record_audit(
        author,
        "catalog.version.started",
        version,
        organization=micro_credential.provider,
        data={"copied_from": latest.number},
    )
    return version


# ---------------------------------------------------------------------------- vetting
@transaction.atomic
def submit_for_vetting(version: MicroCredentialVersion, *, author: Any) -> MicroCredentialVersion:
    version = _locked(version)
    _require_status(version, set(MicroCredentialVersion.EDITABLE), "sent for vetting")
    check_content(content_of(version))
    version.status = Status.IN_REVIEW
    version.submitted_at = timezone.now()
    version.save()
    record_audit(
        author, "catalog.version.submitted", version, organization=version.micro_credential.provider
    )
    return version


_DECISION_STATUS = {
    VettingReview.Decision.CHANGES_REQUESTED: Status.CHANGES_REQUESTED,
    VettingReview.Decision.APPROVED: Status.APPROVED,
    VettingReview.Decision.REJECTED: Status.REJECTED,
}


@transaction.atomic
def record_review(
    version: MicroCredentialVersion,
    *,
    reviewer: Any,
    decision: str,
    comments: str,
    ratings: dict[int, tuple[str, str]],
) -> VettingReview:
    """A reviewer's ratings of every active quality criterion and their decision.

    `ratings` maps criterion id -> (rating, comment). Approval needs every criterion met;
    asking for changes or rejecting needs comments the provider can act on.
    """
    version = _locked(version)
    _require_status(version, {Status.IN_REVIEW}, "reviewed")
    if version.micro_credential.created_by_id == getattr(reviewer, "pk", None):
        raise ValidationError("You cannot vet a micro-credential you authored.")
    criteria = list(QualityCriterion.objects.filter(active=True))
    problems: dict[str, list[str]] = {}
    if decision not in _DECISION_STATUS:
        problems["decision"] = ["Choose a decision: approve, request changes, or reject."]
    missing = [c.title for c in criteria if c.pk not in ratings]
    if missing:
        problems["ratings"] = [f"Rate every criterion; missing: {', '.join(missing)}."]
    valid = set(CriterionRating.Rating.values)
    if any(r not in valid for r, _ in ratings.values()):
        problems.setdefault("ratings", []).append("One of the ratings is not a valid choice.")
    if decision == VettingReview.Decision.APPROVED and any(
        r != CriterionRating.Rating.MEETS for r, _ in ratings.values()
    ):
        problems["decision"] = [
            "A version can be approved only when it meets every quality criterion."
        ]
    if decision != VettingReview.Decision.APPROVED and not comments.strip():
        problems["comments"] = ["Tell the provider what to change (comments are required)."]
    if problems:
        raise ValidationError(problems)
    review = VettingReview.objects.create(
        version=version, reviewer=reviewer, decision=decision, comments=comments.strip()
    )
    by_id = {c.pk: c for c in criteria}
    CriterionRating.objects.bulk_create(
        CriterionRating(review=review, criterion=by_id[cid], rating=rating, comment=comment)
        for cid, (rating, comment) in ratings.items()
        if cid in by_id
    )
    version.status = _DECISION_STATUS[decision]
    version.save()
    record_audit(
        reviewer,
        f"catalog.version.{decision}",
        version,
        reason=comments,
        organization=version.micro_credential.provider,
    )
    return review


@transaction.atomic
def publish_version(version: MicroCredentialVersion, *, actor: Any) -> MicroCredentialVersion:
    """Put an approved version in the catalog; the version it replaces stops taking new
    attempts but stays valid for the attempts and credentials pinned to it."""
    version = _locked(version)
    _require_status(version, {Status.APPROVED}, "published")
    previous = MicroCredentialVersion.objects.select_for_update().filter(
        micro_credential_id=version.micro_credential_id, status=Status.PUBLISHED
    )
    for old in previous:
        old.status = Status.SUPERSEDED
        old.save()
        record_audit(
            actor, "catalog.version.superseded", old, organization=old.micro_credential.provider
        )
    version.status = Status.PUBLISHED
    version.published_at = timezone.now()
    version.save()
    record_audit(
        actor, "catalog.version.published", version, organization=version.micro_credential.provider
    )
    return version


@transaction.atomic
def retire_version(
    version: MicroCredentialVersion, *, actor: Any, reason: str
) -> MicroCredentialVersion:
    """Hide from new attempts; whatever was earned with it stays valid."""
    version = _locked(version)
    _require_status(version, {Status.PUBLISHED, Status.SUPERSEDED}, "retired")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the micro-credential is retired."})
    version.status = Status.RETIRED
    version.retired_at = timezone.now()
    version.save()
    record_audit(
        actor,
        "catalog.version.retired",
        version,
        reason=reason,
        organization=version.micro_credential.provider,
    )
    return version


# ---------------------------------------------------------------------------- approvals for use
@transaction.atomic
def approve_for_use(
    version: MicroCredentialVersion,
    *,
    recognizer: Organization,
    actor: Any,
    use: str,
    requires_preapproval: bool = False,
) -> Approval:
    """Approve a vetted version for one of the structured uses (ApprovedUse). What it is
    worth for that use is not set here: the recognizer's policies say it."""
    if use not in ApprovedUse.values:
        raise ValidationError({"use": "Choose what the micro-credential is approved for."})
    version = _locked(version)
    _require_status(version, {Status.APPROVED, Status.PUBLISHED}, "approved for a use")
    try:
        with transaction.atomic():
            approval = Approval.objects.create(
                version=version,
                use=use,
                recognizer=recognizer,
                approved_by=actor,
                requires_preapproval=requires_preapproval,
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"use": "This version is already approved for that use by your organization."}
        ) from exc
    record_audit(
        actor,
        "catalog.approval.granted",
        approval,
        organization=recognizer,
        data={"use": use, "version": version.pk},
    )
    return approval


@transaction.atomic
def withdraw_approval(approval: Approval, *, actor: Any, reason: str) -> Approval:
    approval = Approval.objects.select_for_update().get(pk=approval.pk)
    if approval.withdrawn_at:
        raise ValidationError("This approval was already withdrawn.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the approval is withdrawn."})
    approval.withdrawn_at = timezone.now()
    approval.save(update_fields=["withdrawn_at"])
    record_audit(
        actor,
        "catalog.approval.withdrawn",
        approval,
        reason=reason,
        organization=approval.recognizer,
    )
    return approval


# ---------------------------------------------------------------------------- stacks
@transaction.atomic
def save_stack(
    *,
    provider: Organization,
    author: Any,
    data: dict[str, Any],
    members: list[tuple[MicroCredential, bool]],
    stack: Stack | None = None,
    key: uuid.UUID | None = None,
) -> Stack:
    """Create or edit a draft stack; `members` is the ordered pathway (mc, required). `key`
    guards creation against a double post, as in create_micro_credential."""
    problems: dict[str, list[str]] = {}
    for field in ("title", "description", "target_role", "achievement_name"):
        if not str(data.get(field) or "").strip():
            problems[field] = [f"The {field.replace('_', ' ')} is required."]
    if data.get("level") not in Stack.Level.values:
        problems["level"] = ["Choose a level."]
    mcs = [mc for mc, _ in members]
    if len(mcs) < 2:
        problems["members"] = ["A stack needs at least two micro-credentials."]
    if len({mc.pk for mc in mcs}) != len(mcs):
        problems["members"] = ["A micro-credential appears twice in the stack."]
    electives = sum(1 for _, required in members if not required)
    min_electives = int(data.get("min_electives") or 0)
    if min_electives > electives:
        problems["min_electives"] = [
            f"The stack asks for {min_electives} electives but offers only {electives}."
        ]
    if stack is not None and stack.status != Stack.Status.DRAFT:
        problems["status"] = ["Only a draft stack can be changed."]
    if problems:
        raise ValidationError(problems)
    if stack is None:
        _refuse_second_post(provider, Stack, key, "stack")
        stack = Stack(
            provider=provider, slug=unique_slug(data["title"], Stack), uuid=key or uuid.uuid4()
        )
    for field in (
        "title",
        "description",
        "target_role",
        "achievement_name",
        "achievement_description",
        "level",
    ):
        setattr(stack, field, str(data.get(field) or "").strip())
    stack.min_electives = min_electives
    stack.save()
    stack.members.all().delete()
    StackMember.objects.bulk_create(
        StackMember(stack=stack, micro_credential=mc, order=i, required=required)
        for i, (mc, required) in enumerate(members)
    )
    record_audit(author, "catalog.stack.saved", stack, organization=provider)
    return stack


@transaction.atomic
def publish_stack(stack: Stack, *, actor: Any) -> Stack:
    stack = Stack.objects.select_for_update().get(pk=stack.pk)
    if stack.status != Stack.Status.DRAFT:
        raise TransitionError("Only a draft stack can be published.")
    unpublished = [
        m.micro_credential.slug
        for m in stack.members.select_related("micro_credential")
        if not m.micro_credential.versions.filter(status=Status.PUBLISHED).exists()
    ]
    if unpublished:
        raise ValidationError(
            {
                "members": [
                    f"These micro-credentials are not published yet: {', '.join(unpublished)}."
                ]
            }
        )
    stack.status = Stack.Status.PUBLISHED
    stack.published_at = timezone.now()
    stack.save()
    record_audit(actor, "catalog.stack.published", stack, organization=stack.provider)
    return stack

"""Reads for the catalog."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    When,
)

from microcred.orgs.models import ROLE_ORG_KINDS, Organization, Role
from microcred.orgs.selectors import is_active_superuser, role_organization_ids

from .content import VersionContent
from .models import (
    Approval,
    ApprovedUse,
    CriterionRating,
    MicroCredential,
    MicroCredentialVersion,
    RubricComponent,
    Stack,
    StackMember,
    StandardFramework,
    StandardItem,
    VettingReview,
)


def version_with_parts(pk: int) -> MicroCredentialVersion:
    """A version with everything its page shows, in a fixed number of queries."""
    return (
        MicroCredentialVersion.objects.select_related("micro_credential__provider", "rubric")
        .prefetch_related(
            "components",
            "resources",
            "evidence_requirements",
            "grade_bands",
            "subjects",
            "alignments__standard_item__framework",
            Prefetch(
                "rubric__components",
                queryset=RubricComponent.objects.prefetch_related("criteria"),
            ),
            "rubric__bands",
        )
        .get(pk=pk)
    )


def content_of(version: MicroCredentialVersion) -> VersionContent:
    """The version as plain data (the inverse of services._write_parts)."""
    version = version_with_parts(version.pk)
    components = list(version.components.all())
    index = {c.pk: i for i, c in enumerate(components)}
    rubric = version.rubric
    return {
        "title": version.title,
        "summary": version.summary,
        "competency_statement": version.competency_statement,
        "key_method": version.key_method,
        "research_basis": version.research_basis,
        "estimated_hours": version.estimated_hours,
        "difficulty": version.difficulty,
        "career_phase": version.career_phase,
        "grade_bands": [g.code for g in version.grade_bands.all()],
        "subjects": [s.code for s in version.subjects.all()],
        "components": [{"title": c.title, "description": c.description} for c in components],
        "resources": [
            {"title": r.title, "url": r.url, "description": r.description}
            for r in version.resources.all()
        ],
        "evidence": [
            {
                "kind": e.kind,
                "title": e.title,
                "instructions": e.instructions,
                "word_limit": e.word_limit,
                "min_duration_seconds": e.min_duration_seconds,
                "max_duration_seconds": e.max_duration_seconds,
                "requires_annotations": e.requires_annotations,
                "min_annotations": e.min_annotations,
                "allowed_types": list(e.allowed_types),
                "max_file_size_mb": e.max_file_size_mb,
                "max_files": e.max_files,
            }
            for e in version.evidence_requirements.all()
        ],
        "rubric": {
            "scoring": rubric.scoring,
            "instructions": rubric.instructions,
            "components": [
                {
                    "title": rc.title,
                    "max_points": rc.max_points,
                    "component": index.get(rc.component_id) if rc.component_id else None,
                    "criteria": [
                        {"text": c.text, "points": c.points, "label": c.label}
                        for c in rc.criteria.all()
                    ],
                }
                for rc in rubric.components.all()
            ],
            "bands": [
                {
                    "label": b.label,
                    "min_points": b.min_points,
                    "max_points": b.max_points,
                    "passing": b.passing,
                    "description": b.description,
                }
                for b in rubric.bands.all()
            ],
        },
        "alignments": [str(a.standard_item.identifier) for a in version.alignments.all()],
    }


def published_versions() -> QuerySet[MicroCredentialVersion]:
    return MicroCredentialVersion.objects.filter(status=MicroCredentialVersion.Status.PUBLISHED)


# ---------------------------------------------------------------------------- public catalog
# What anyone may read without an account: versions that are or were in the catalog, and
# published stacks. Drafts and versions in vetting stay with their authors and reviewers.
PUBLISHED = MicroCredentialVersion.Status.PUBLISHED
PUBLIC_STATUSES = (
    MicroCredentialVersion.Status.PUBLISHED,
    MicroCredentialVersion.Status.SUPERSEDED,
    MicroCredentialVersion.Status.RETIRED,
)


def with_listing_parts(
    qs: QuerySet[MicroCredentialVersion],
) -> QuerySet[MicroCredentialVersion]:
    """What a result row shows: provider, grade bands, subjects and current approvals (as
    `active_approvals`, ordered by use)."""
    return qs.select_related("micro_credential__provider").prefetch_related(
        "grade_bands",
        "subjects",
        Prefetch(
            "approvals",
            queryset=Approval.objects.filter(withdrawn_at__isnull=True).order_by("use", "pk"),
            to_attr="active_approvals",
        ),
    )


def approved_uses(version: MicroCredentialVersion) -> list[tuple[str, str]]:
    """(use, label) for each use a version is approved for, once each, from the prefetched
    `active_approvals` of `with_listing_parts`."""
    labels = dict(ApprovedUse.choices)
    uses = dict.fromkeys(a.use for a in version.active_approvals)  # type: ignore[attr-defined]
    return [(use, labels[use]) for use in uses]


@dataclass(frozen=True)
class PublicMicroCredential:
    """One public version of a micro-credential with what its page and API entry show."""

    version: MicroCredentialVersion  # with the parts of version_with_parts
    history: list[MicroCredentialVersion]  # every public version, newest first
    approvals: list[Approval]  # current approvals for use, with their recognizer
    stacks: list[Stack]  # published stacks it belongs to

    @property
    def current(self) -> MicroCredentialVersion | None:
        """The version now in the catalog, if any (none once the micro-credential is retired)."""
        return next((v for v in self.history if v.status == PUBLISHED), None)

    @property
    def is_current(self) -> bool:
        return self.version.status == PUBLISHED

    @property
    def total_points(self) -> int:
        return sum(c.max_points for c in self.version.rubric.components.all())

    @property
    def unapproved_uses(self) -> list[tuple[str, str]]:
        """(use, label) of each use no recognizer has approved this version for yet."""
        approved = {a.use for a in self.approvals}
        return [(use, label) for use, label in ApprovedUse.choices if use not in approved]


def public_micro_credential(slug: str, number: int | None = None) -> PublicMicroCredential:
    """Version `number` of the micro-credential if it was ever published; without a number, the
    current version, or the last one when it was retired. Raises
    MicroCredentialVersion.DoesNotExist for anything else (drafts, vetting, unknown slugs)."""
    history = list(
        MicroCredentialVersion.objects.filter(
            micro_credential__slug=slug, status__in=PUBLIC_STATUSES
        )
        .only("pk", "number", "status", "published_at", "retired_at")
        .order_by("-number")
    )
    if number is not None:
        chosen = next((v for v in history if v.number == number), None)
    else:
        chosen = next((v for v in history if v.status == PUBLISHED), None) or next(
            (v for v in history if v.status == MicroCredentialVersion.Status.RETIRED), None
        )
    if chosen is None:
        raise MicroCredentialVersion.DoesNotExist(f"No public version of {slug!r}.")
    version = version_with_parts(chosen.pk)
    approvals = active_approvals(version)
    # As with_listing_parts prefetches it, so approved_uses() reads this version too.
    version.active_approvals = approvals  # type: ignore[attr-defined]
    stacks = list(
        Stack.objects.filter(
            status=Stack.Status.PUBLISHED, members__micro_credential_id=version.micro_credential_id
        ).order_by("title")
    )
    return PublicMicroCredential(version, history, approvals, stacks)


def _stacks_with_counts() -> QuerySet[Stack]:
    """Stacks with their provider and how many steps are required or elective."""
    return Stack.objects.select_related("provider").annotate(
        required_count=Count("members", filter=Q(members__required=True)),
        elective_count=Count("members", filter=Q(members__required=False)),
    )


def public_stacks() -> QuerySet[Stack]:
    return _stacks_with_counts().filter(status=Stack.Status.PUBLISHED).order_by("title")


@dataclass(frozen=True)
class PathwayStep:
    number: int  # 1-based position in the pathway
    required: bool
    micro_credential: MicroCredential
    # The current version, or the last one if the micro-credential was retired since.
    version: MicroCredentialVersion

    @property
    def offered(self) -> bool:
        return self.version.status == PUBLISHED


@dataclass(frozen=True)
class PublicStack:
    stack: Stack
    steps: list[PathwayStep]

    @property
    def required_steps(self) -> list[PathwayStep]:
        return [s for s in self.steps if s.required]

    @property
    def elective_steps(self) -> list[PathwayStep]:
        return [s for s in self.steps if not s.required]


def public_stack(slug: str) -> PublicStack:
    """A published (or retired) stack with its pathway in order. Raises Stack.DoesNotExist
    for drafts and unknown slugs."""
    # Published, else the newest retired version: what /catalog/mc/<slug>/ shows.
    shown_versions = with_listing_parts(
        MicroCredentialVersion.objects.filter(
            status__in=[PUBLISHED, MicroCredentialVersion.Status.RETIRED]
        ).order_by(Case(When(status=PUBLISHED, then=0), default=1), "-number")
    )
    stack = (
        _stacks_with_counts()
        .filter(slug=slug, status__in=[Stack.Status.PUBLISHED, Stack.Status.RETIRED])
        .prefetch_related(
            Prefetch(
                "members",
                queryset=StackMember.objects.select_related("micro_credential").order_by(
                    "order", "pk"
                ),
            ),
            Prefetch(
                "members__micro_credential__versions",
                queryset=shown_versions,
                to_attr="shown_versions",
            ),
        )
        .get()
    )
    steps = [
        PathwayStep(
            number=i,
            required=member.required,
            micro_credential=member.micro_credential,
            version=member.micro_credential.shown_versions[0],
        )
        for i, member in enumerate(stack.members.all(), start=1)
        if member.micro_credential.shown_versions  # a member was published once, at least
    ]
    return PublicStack(stack, steps)


def standard_frameworks() -> QuerySet[StandardFramework]:
    """Every imported standards framework with its number of items."""
    return StandardFramework.objects.annotate(item_count=Count("items")).order_by("title")


# ---------------------------------------------------------------------------- authoring
_Status = MicroCredentialVersion.Status
# A micro-credential whose newest version is in one of these states has no work in progress,
# so its provider may start a new version (services.start_new_version has the last word).
FINISHED_STATUSES = frozenset(
    {_Status.PUBLISHED, _Status.SUPERSEDED, _Status.RETIRED, _Status.REJECTED}
)


@dataclass
class MicroCredentialWork:
    """A micro-credential on its provider's authoring page, with its versions newest first;
    each version carries `feedback_count`, the comments of its latest vetting review."""

    micro_credential: MicroCredential
    versions: list[MicroCredentialVersion]

    @property
    def latest(self) -> MicroCredentialVersion:
        return self.versions[0]

    @property
    def published(self) -> MicroCredentialVersion | None:
        return next((v for v in self.versions if v.status == _Status.PUBLISHED), None)

    @property
    def may_start_new_version(self) -> bool:
        return self.latest.status in FINISHED_STATUSES


@dataclass
class ProviderWork:
    provider: Organization
    micro_credentials: list[MicroCredentialWork]
    stacks: list[Stack]


def feedback_counts(version_ids: Iterable[int]) -> dict[int, int]:
    """For each version, how many comments its latest review left: the overall comment plus
    each criterion's comment."""
    reviews = (
        VettingReview.objects.filter(version_id__in=list(version_ids))
        .annotate(rating_comments=Count("ratings", filter=~Q(ratings__comment="")))
        .order_by("version_id", "-created", "-id")
        .values_list("version_id", "comments", "rating_comments")
    )
    counts: dict[int, int] = {}
    for version_id, comments, rating_comments in reviews:
        counts.setdefault(version_id, rating_comments + (1 if comments.strip() else 0))
    return counts


def authoring_overview(providers: Iterable[Organization]) -> list[ProviderWork]:
    """Each provider's micro-credentials (all versions) and stacks, in four queries."""
    providers = list(providers)
    versions = list(
        MicroCredentialVersion.objects.filter(micro_credential__provider__in=providers)
        .select_related("micro_credential")
        .order_by("micro_credential_id", "-number")
    )
    counts = feedback_counts(v.pk for v in versions)
    by_mc: dict[int, MicroCredentialWork] = {}
    for version in versions:
        version.feedback_count = counts.get(version.pk, 0)  # type: ignore[attr-defined]
        work = by_mc.setdefault(
            version.micro_credential_id, MicroCredentialWork(version.micro_credential, [])
        )
        work.versions.append(version)
    stacks = list(
        Stack.objects.filter(provider__in=providers)
        .annotate(member_count=Count("members"))
        .order_by("title")
    )
    return [
        ProviderWork(
            provider=provider,
            micro_credentials=sorted(
                (w for w in by_mc.values() if w.micro_credential.provider_id == provider.pk),
                key=lambda w: w.latest.title.lower(),
            ),
            stacks=[s for s in stacks if s.provider_id == provider.pk],
        )
        for provider in providers
    ]


def versions_of(micro_credential: MicroCredential) -> QuerySet[MicroCredentialVersion]:
    return micro_credential.versions.order_by("-number")


def provider_micro_credentials(provider: Organization) -> QuerySet[MicroCredential]:
    """The provider's micro-credentials named by their newest version's title, with whether
    one of their versions is published (a stack can be published only when all are)."""
    versions = MicroCredentialVersion.objects.filter(micro_credential=OuterRef("pk"))
    return (
        MicroCredential.objects.filter(provider=provider)
        .annotate(
            latest_title=Subquery(versions.order_by("-number").values("title")[:1]),
            is_published=Exists(versions.filter(status=_Status.PUBLISHED)),
        )
        .order_by("latest_title")
    )


def stack_members(stack: Stack) -> list[tuple[MicroCredential, bool]]:
    return [
        (m.micro_credential, m.required)
        for m in stack.members.select_related("micro_credential").order_by("order")
    ]


def standard_item_groups() -> list[tuple[StandardFramework, list[StandardItem]]]:
    """Imported standard items grouped by framework, for choosing alignments."""
    groups: dict[int, tuple[StandardFramework, list[StandardItem]]] = {}
    for item in StandardItem.objects.select_related("framework").order_by(
        "framework__title", "sequence", "human_coding_scheme", "pk"
    ):
        groups.setdefault(item.framework_id, (item.framework, []))[1].append(item)
    return list(groups.values())


# ---------------------------------------------------------------------------- vetting
def vetting_queue() -> QuerySet[MicroCredentialVersion]:
    """Versions waiting for a reviewer, oldest first; `changes_requested_count` > 0 marks a
    version sent back after changes were asked for."""
    return (
        MicroCredentialVersion.objects.filter(status=_Status.IN_REVIEW)
        .select_related("micro_credential__provider")
        .annotate(
            changes_requested_count=Count(
                "reviews", filter=Q(reviews__decision=VettingReview.Decision.CHANGES_REQUESTED)
            ),
            last_reviewed=Max("reviews__created"),
        )
        .order_by("submitted_at", "pk")
    )


def reviews_of(version: MicroCredentialVersion) -> QuerySet[VettingReview]:
    """The version's vetting reviews, newest first, with their ratings in criterion order."""
    return (
        VettingReview.objects.filter(version=version)
        .select_related("reviewer")
        .prefetch_related(
            Prefetch(
                "ratings",
                queryset=CriterionRating.objects.select_related("criterion").order_by(
                    "criterion__order", "pk"
                ),
            )
        )
        .order_by("-created", "-pk")
    )


def active_approvals(
    version: MicroCredentialVersion, recognizer: Organization | None = None
) -> list[Approval]:
    """The version's approvals in force (of one office, when given), each with `credit`:
    what its office's policies grant for its use (see `with_credit`)."""
    qs = Approval.objects.filter(version=version, withdrawn_at__isnull=True).select_related(
        "recognizer", "approved_by", "version"
    )
    if recognizer is not None:
        qs = qs.filter(recognizer=recognizer)
    return with_credit(qs.order_by("recognizer__name", "use"))


def with_credit(approvals: Iterable[Approval]) -> list[Approval]:
    """The approvals, each with `credit`: the lines saying what the approving office's
    policies in force grant for its use (an empty list where no policy does yet)."""
    from microcred.recognition.selectors_policies import with_credit as credited

    return credited(approvals)


def credit_for(version: MicroCredentialVersion, recognizer: Organization) -> dict[str, list[str]]:
    """Use -> what the office's policies in force grant for one credential of `version`."""
    from microcred.recognition.selectors_policies import credit_for as credit

    return credit(version, recognizer)


def versions_for_approval(
    recognizer: Organization, query: str = ""
) -> QuerySet[MicroCredentialVersion]:
    """Vetted versions a recognizer may approve for a use, each with `recognizer_approvals`:
    that recognizer's approvals in force."""
    qs = MicroCredentialVersion.objects.filter(
        status__in=[_Status.APPROVED, _Status.PUBLISHED]
    ).select_related("micro_credential__provider")
    if query.strip():
        qs = qs.filter(
            Q(title__icontains=query.strip())
            | Q(micro_credential__provider__name__icontains=query.strip())
        )
    return qs.prefetch_related(
        Prefetch(
            "approvals",
            queryset=Approval.objects.filter(
                recognizer=recognizer, withdrawn_at__isnull=True
            ).order_by("use"),
            to_attr="recognizer_approvals",
        )
    ).order_by("title", "-number")


# ---------------------------------------------------------------------------- whose work
def authored_providers(user: Any) -> QuerySet[Organization]:
    """The providers whose micro-credentials the user authors (every provider for a
    superuser, who may step in for any of them)."""
    providers = Organization.objects.filter(kind=Organization.Kind.PROVIDER).order_by("name")
    if is_active_superuser(user):
        return providers
    return providers.filter(pk__in=role_organization_ids(user).get(Role.PROVIDER_AUTHOR, ()))


def recognizer_organizations(user: Any) -> QuerySet[Organization]:
    """The organizations for which the user approves micro-credentials for use (for a
    superuser, every organization where that role can be held)."""
    orgs = Organization.objects.filter(
        kind__in=ROLE_ORG_KINDS[Role.RECOGNIZER_ADMIN], active=True
    ).order_by("name")
    if is_active_superuser(user):
        return orgs
    return orgs.filter(pk__in=role_organization_ids(user).get(Role.RECOGNIZER_ADMIN, ()))

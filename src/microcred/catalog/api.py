"""The catalog's read-only JSON API: published micro-credentials, stacks and standards.

No account is needed and nothing unpublished is ever returned. The endpoints read through the
same selectors as the catalog pages (search.py, selectors.py), so the API and the site always
agree on what matches and what is public.
"""

# No `from __future__ import annotations`: django-ninja reads these annotations at run time.
from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from microcred.api.pagination import CheckedPageNumberPagination

from .models import ApprovedUse, MicroCredentialVersion, Stack
from .search import MAX_QUERY_LENGTH, PAGE_SIZE, CatalogQuery, search
from .selectors import (
    PublicMicroCredential,
    PublicStack,
    approved_uses,
    public_micro_credential,
    public_stack,
    public_stacks,
    standard_frameworks,
    with_credit,
)

router = Router(tags=["catalog"])


def _absolute(context: Any, name: str, *args: Any) -> str:
    return context["request"].build_absolute_uri(reverse(name, args=args))


# ---------------------------------------------------------------------------- input
class CatalogFilters(Schema):
    """The catalog page's search and filters. Within one filter, any of the values matches;
    every filter given must match."""

    q: str = Field(
        "",
        max_length=MAX_QUERY_LENGTH,
        description='Words to find in the title, competency and key method; "a phrase", '
        "OR, and -word work as in a web search engine.",
    )
    grade_band: list[str] = Field([], description="Grade band codes, such as 3-5 or k-12.")
    subject: list[str] = Field([], description="Subject codes, such as literacy.")
    difficulty: list[MicroCredentialVersion.Difficulty] = Field([])
    use: list[ApprovedUse] = Field([], description="Uses a recognizer has approved it for.")
    provider: list[str] = Field([], description="Provider slugs.")
    stack: list[str] = Field([], description="Slugs of published stacks it belongs to.")
    framework: list[UUID] = Field([], description="CASE identifiers of standards frameworks.")
    standard: list[UUID] = Field([], description="CASE identifiers of standard items.")

    def to_query(self) -> CatalogQuery:
        return CatalogQuery.from_params(self.model_dump())


# ---------------------------------------------------------------------------- output
class CodeName(Schema):
    code: str
    name: str


class OrganizationOut(Schema):
    slug: str
    name: str


class _VersionFacts(Schema):
    title: str
    summary: str
    difficulty: str
    estimated_hours: float
    grade_bands: list[CodeName]
    subjects: list[CodeName]
    provider: OrganizationOut

    @staticmethod
    def resolve_provider(obj: MicroCredentialVersion) -> Any:
        return obj.micro_credential.provider


class MicroCredentialSummary(_VersionFacts):
    """A published micro-credential as a search result."""

    slug: str
    version: int
    approved_uses: list[ApprovedUse]
    url: str = Field(description="Its page in the catalog.")
    api_url: str

    @staticmethod
    def resolve_slug(obj: MicroCredentialVersion) -> str:
        return obj.micro_credential.slug

    @staticmethod
    def resolve_version(obj: MicroCredentialVersion) -> int:
        return obj.number

    @staticmethod
    def resolve_approved_uses(obj: MicroCredentialVersion) -> list[str]:
        return [use for use, _label in approved_uses(obj)]

    @staticmethod
    def resolve_url(obj: MicroCredentialVersion, context: Any) -> str:
        return _absolute(context, "catalog:detail", obj.micro_credential.slug)

    @staticmethod
    def resolve_api_url(obj: MicroCredentialVersion, context: Any) -> str:
        return _absolute(context, "api-1.0.0:catalog_micro_credential", obj.micro_credential.slug)


class ComponentOut(Schema):
    title: str
    description: str


class ResourceOut(Schema):
    title: str
    url: str
    description: str

    @staticmethod
    def resolve_url(obj: Any, context: Any) -> str:
        if obj.url or not obj.file:
            return str(obj.url)
        return str(context["request"].build_absolute_uri(obj.file.url))


class EvidenceRequirementOut(Schema):
    kind: str
    title: str
    instructions: str
    word_limit: int | None
    min_duration_seconds: int | None
    max_duration_seconds: int | None
    requires_annotations: bool
    min_annotations: int
    allowed_types: list[str] = Field(description="Accepted MIME types.")
    max_file_size_mb: int | None
    max_files: int


class CriterionOut(Schema):
    label: str
    text: str
    points: int


class RubricComponentOut(Schema):
    title: str
    max_points: int
    criteria: list[CriterionOut]


class OutcomeBandOut(Schema):
    label: str
    min_points: int
    max_points: int
    passing: bool
    description: str


class RubricOut(Schema):
    scoring: str
    instructions: str
    total_points: int
    components: list[RubricComponentOut]
    bands: list[OutcomeBandOut]

    @staticmethod
    def resolve_total_points(obj: Any) -> int:
        return sum(c.max_points for c in obj.components.all())


class FrameworkRef(Schema):
    identifier: UUID = Field(description="CASE CFDocument identifier.")
    uri: str
    title: str


class AlignmentOut(Schema):
    """A CASE CFItem the micro-credential is aligned to."""

    identifier: UUID = Field(description="CASE CFItem identifier.")
    uri: str
    human_coding_scheme: str
    full_statement: str
    framework: FrameworkRef


class VersionOut(_VersionFacts):
    number: int
    status: str
    competency_statement: str
    key_method: str
    research_basis: str
    career_phase: str
    published_at: datetime | None
    retired_at: datetime | None
    components: list[ComponentOut]
    resources: list[ResourceOut]
    evidence_requirements: list[EvidenceRequirementOut]
    rubric: RubricOut
    alignments: list[AlignmentOut]

    @staticmethod
    def resolve_alignments(obj: MicroCredentialVersion) -> list[Any]:
        return [a.standard_item for a in obj.alignments.all()]


class ApprovalOut(Schema):
    use: ApprovedUse
    recognizer: OrganizationOut
    credit: list[str] = Field(
        description="What the recognizer's policies in force grant for this use, one line per "
        "rule; empty while no policy of the recognizer grants anything for it."
    )
    requires_preapproval: bool
    approved_on: datetime

    @staticmethod
    def resolve_credit(obj: Any) -> list[str]:
        if not hasattr(obj, "credit"):
            with_credit([obj])
        return obj.credit

    @staticmethod
    def resolve_approved_on(obj: Any) -> datetime:
        return obj.created


class StackRef(Schema):
    slug: str
    title: str


class VersionRef(Schema):
    number: int
    status: str
    published_at: datetime | None
    retired_at: datetime | None


class MicroCredentialOut(Schema):
    """A micro-credential: the version shown (the current one, an earlier one when asked by
    number, or the last one once retired) and how it is recognized."""

    slug: str
    accepting_attempts: bool = Field(description="False for earlier and retired versions.")
    current_version: int | None
    version: VersionOut
    approvals: list[ApprovalOut]
    stacks: list[StackRef]
    versions: list[VersionRef] = Field(description="Every public version, newest first.")

    @staticmethod
    def resolve_slug(obj: PublicMicroCredential) -> str:
        return obj.version.micro_credential.slug

    @staticmethod
    def resolve_accepting_attempts(obj: PublicMicroCredential) -> bool:
        return obj.is_current

    @staticmethod
    def resolve_current_version(obj: PublicMicroCredential) -> int | None:
        return obj.current.number if obj.current else None

    @staticmethod
    def resolve_versions(obj: PublicMicroCredential) -> list[Any]:
        return obj.history


class StackSummary(Schema):
    slug: str
    title: str
    description: str
    target_role: str
    level: str
    status: str
    provider: OrganizationOut
    achievement_name: str
    achievement_description: str
    required_count: int
    elective_count: int
    min_electives: int = Field(description="Electives to earn, at least.")
    url: str

    @staticmethod
    def resolve_url(obj: Stack, context: Any) -> str:
        return _absolute(context, "catalog:stack", obj.slug)


class StepOut(Schema):
    number: int
    required: bool
    offered: bool = Field(description="False once the micro-credential was retired.")
    micro_credential: MicroCredentialSummary

    @staticmethod
    def resolve_micro_credential(obj: Any) -> MicroCredentialVersion:
        return obj.version


class StackOut(Schema):
    stack: StackSummary
    steps: list[StepOut] = Field(description="The pathway, in order.")


class FrameworkOut(Schema):
    identifier: UUID
    uri: str
    title: str
    creator: str
    publisher: str
    description: str
    version: str
    adoption_status: str
    language: str
    last_change: datetime | None
    item_count: int


# ---------------------------------------------------------------------------- endpoints
@router.get(
    "/micro-credentials",
    response=list[MicroCredentialSummary],
    url_name="catalog_micro_credentials",
    summary="Search published micro-credentials",
)
@paginate(CheckedPageNumberPagination, page_size=PAGE_SIZE)
def list_micro_credentials(request: HttpRequest, filters: Query[CatalogFilters]) -> Any:
    return search(filters.to_query())


def _public_micro_credential(slug: str, number: int | None = None) -> PublicMicroCredential:
    try:
        return public_micro_credential(slug, number)
    except MicroCredentialVersion.DoesNotExist as exc:
        which = f"version {number} of " if number is not None else ""
        message = f"There is no {which}micro-credential '{slug}' in the catalog."
        raise HttpError(404, message) from exc


@router.get(
    "/micro-credentials/{slug}",
    response=MicroCredentialOut,
    url_name="catalog_micro_credential",
    summary="A micro-credential's current version in full",
)
def get_micro_credential(request: HttpRequest, slug: str) -> PublicMicroCredential:
    return _public_micro_credential(slug)


@router.get(
    "/micro-credentials/{slug}/versions/{number}",
    response=MicroCredentialOut,
    url_name="catalog_micro_credential_version",
    summary="One published, superseded or retired version of a micro-credential",
)
def get_micro_credential_version(
    request: HttpRequest, slug: str, number: int
) -> PublicMicroCredential:
    return _public_micro_credential(slug, number)


@router.get(
    "/stacks",
    response=list[StackSummary],
    url_name="catalog_stacks",
    summary="Published stacks",
)
def list_stacks(request: HttpRequest) -> Any:
    return public_stacks()


@router.get(
    "/stacks/{slug}",
    response=StackOut,
    url_name="catalog_stack",
    summary="A stack and its pathway",
)
def get_stack(request: HttpRequest, slug: str) -> PublicStack:
    try:
        return public_stack(slug)
    except Stack.DoesNotExist as exc:
        raise HttpError(404, f"There is no stack '{slug}' in the catalog.") from exc


@router.get(
    "/standards",
    response=list[FrameworkOut],
    url_name="catalog_standards",
    summary="Standards frameworks (CASE documents) micro-credentials align to",
)
def list_standards(request: HttpRequest) -> Any:
    return standard_frameworks()

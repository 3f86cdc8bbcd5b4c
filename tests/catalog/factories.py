"""Test data for the catalog, made the way real data is: through catalog.services.

`publish(content, provider, author, reviewer)` takes a version through the whole vetting
lifecycle; `vary(content, **changes)` derives distinct content from a sample. Other test modules
may import these.
"""

from __future__ import annotations

import copy
import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from microcred.catalog import services
from microcred.catalog.content import VersionContent
from microcred.catalog.models import (
    Approval,
    CriterionRating,
    MicroCredential,
    MicroCredentialVersion,
    QualityCriterion,
    Stack,
    StandardFramework,
    StandardItem,
)
from microcred.catalog.samples import coaching_content
from microcred.catalog.selectors import content_of
from microcred.orgs.models import Organization

_serial = itertools.count(1)


def vary(content: VersionContent | None = None, **changes: Any) -> VersionContent:
    """A deep copy of `content` (the coaching sample by default) with top-level fields
    replaced, such as vary(title="Phonics routines", difficulty="foundational")."""
    varied = copy.deepcopy(content if content is not None else coaching_content())
    varied.update(changes)  # type: ignore[typeddict-item]
    return varied


def meets_everything() -> dict[int, tuple[str, str]]:
    """Ratings of every active quality criterion as met: what an approval needs."""
    return {
        c.pk: (CriterionRating.Rating.MEETS, "")
        for c in QualityCriterion.objects.filter(active=True)
    }


def approve(version: MicroCredentialVersion, *, author: Any, reviewer: Any) -> None:
    """Submit a draft for vetting and record an approving review."""
    services.submit_for_vetting(version, author=author)
    services.record_review(
        version,
        reviewer=reviewer,
        decision="approved",
        comments="Meets every quality criterion.",
        ratings=meets_everything(),
    )


def publish(
    content: VersionContent, provider: Organization, author: Any, reviewer: Any
) -> MicroCredentialVersion:
    """A new micro-credential whose first version is published in the catalog."""
    version = services.create_micro_credential(provider=provider, author=author, content=content)
    approve(version, author=author, reviewer=reviewer)
    return services.publish_version(version, actor=reviewer)


def publish_next_version(
    micro_credential: MicroCredential,
    author: Any,
    reviewer: Any,
    **changes: Any,
) -> MicroCredentialVersion:
    """Start, change, vet and publish the next version; the current one becomes superseded."""
    draft = services.start_new_version(micro_credential, author=author)
    if changes:
        draft = services.update_draft(
            draft, author=author, content=vary(content_of(draft), **changes)
        )
    approve(draft, author=author, reviewer=reviewer)
    return services.publish_version(draft, actor=reviewer)


def approve_use(
    version: MicroCredentialVersion,
    recognizer: Organization,
    actor: Any,
    use: str,
) -> Approval:
    return services.approve_for_use(version, recognizer=recognizer, actor=actor, use=use)


def publish_stack(
    provider: Organization,
    author: Any,
    members: list[tuple[MicroCredential, bool]],
    *,
    min_electives: int = 0,
    **data: Any,
) -> Stack:
    """A published stack of the given (micro-credential, required) steps, in order."""
    fields = {
        "title": f"Pathway {next(_serial)}",
        "description": "A pathway for growing coaches.",
        "target_role": "Instructional coach",
        "level": "intermediate",
        "achievement_name": "Certified Instructional Coach",
        "achievement_description": "Awarded when the whole pathway is complete.",
        "min_electives": min_electives,
        **data,
    }
    stack = services.save_stack(provider=provider, author=author, data=fields, members=members)
    return services.publish_stack(stack, actor=author)


def standard(
    framework: StandardFramework | None = None, code: str = "", statement: str = ""
) -> StandardItem:
    """A standard item (in a new framework unless one is given), CASE-shaped."""
    n = next(_serial)
    if framework is None:
        framework = StandardFramework.objects.create(
            identifier=uuid.uuid4(),
            title=f"Professional Teaching Standards {n}",
            uri=f"https://case.example.org/uri/{uuid.uuid4()}",
            publisher="State Board of Education",
        )
    return StandardItem.objects.create(
        framework=framework,
        identifier=uuid.uuid4(),
        uri=f"https://case.example.org/uri/{uuid.uuid4()}",
        human_coding_scheme=code or f"{n}.a",
        full_statement=statement or f"Teachers demonstrate skill number {n}.",
        sequence=n,
    )


@dataclass(frozen=True)
class CatalogPeople:
    """Who makes a catalog: a provider's author, a state vetting reviewer, a recognizer."""

    provider: Organization
    author: Any
    reviewer: Any
    recognizer_org: Organization
    recognizer: Any

    def publish(
        self, content: VersionContent | None = None, **changes: Any
    ) -> MicroCredentialVersion:
        return publish(vary(content, **changes), self.provider, self.author, self.reviewer)


def catalog_people(org_tree: dict[str, Organization], make_user: Any) -> CatalogPeople:
    return CatalogPeople(
        provider=org_tree["provider"],
        author=make_user("provider_author", org_tree["provider"]),
        reviewer=make_user("vetting_reviewer", org_tree["state"]),
        recognizer_org=org_tree["state"],
        recognizer=make_user("recognizer_admin", org_tree["state"]),
    )

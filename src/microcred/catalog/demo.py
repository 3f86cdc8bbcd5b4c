"""The demo catalog: our teaching-standards framework, the coaching micro-credential from the
seed documents, two stacks of micro-credentials, and a few versions caught in each vetting
state, so a new user of the demo meets every screen of the lifecycle.

Everything goes through the real services (import, create, submit, review, publish, retire,
approve, stacks), so the demo obeys the same rules and leaves the same audit trail as a real
provider and reviewer would. Micro-credentials are described in data/demo/micro-credentials/
as `{"slug", "provider", "standards": [codes], "approvals", "history": [steps], "content"}`;
each step of the history is one version taken to a vetting state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from microcred.orgs.demo import DemoWorld
from microcred.orgs.models import Role

from . import services
from .case import import_case_package, read_package_file
from .content import VersionContent
from .models import (
    CriterionRating,
    MicroCredential,
    MicroCredentialVersion,
    QualityCriterion,
    Stack,
    StandardFramework,
    VettingReview,
)
from .samples import COACHING_SLUG, coaching_content

DATA_DIR = Path(__file__).resolve().parent / "data"
STANDARDS_PACKAGE = DATA_DIR / "case" / "microcred-teaching-standards.json"
MC_DIR = DATA_DIR / "demo" / "micro-credentials"
STACKS_FILE = DATA_DIR / "demo" / "stacks.json"
RECOGNIZER_ORG = "state-dpi"

Status = MicroCredentialVersion.Status


def coaching_spec() -> dict[str, Any]:
    """The seed document's coaching micro-credential, offered by the demo's coaching provider
    and credited to its real author."""
    content = coaching_content()
    content["research_basis"] = (
        "Developed by the Illinois Principals Association (IPA) and offered here by the "
        "Coaching Leaders Institute. " + content["research_basis"]
    )
    return {
        "slug": COACHING_SLUG,
        "provider": "coaching-leaders-institute",
        "standards": ["MLC.1", "MLC.2", "MLC.3", "MLC.4"],
        "approvals": [
            {"use": "license_renewal"},
            {"use": "professional_learning"},
        ],
        "history": [{"state": "published"}],
        "content": content,
    }


def micro_credential_specs() -> list[dict[str, Any]]:
    files = sorted(MC_DIR.glob("*.json"))
    return [coaching_spec(), *(json.loads(f.read_text(encoding="utf-8")) for f in files)]


def stack_specs() -> list[dict[str, Any]]:
    return list(json.loads(STACKS_FILE.read_text(encoding="utf-8")))


@dataclass
class CatalogReport:
    standards: list[str] = field(default_factory=list)
    micro_credentials_created: list[str] = field(default_factory=list)
    micro_credentials_present: list[str] = field(default_factory=list)
    stacks_created: list[str] = field(default_factory=list)
    stacks_present: list[str] = field(default_factory=list)


class _Player:
    """Takes each micro-credential through its history with the demo's people."""

    def __init__(self, world: DemoWorld, codes: dict[str, str]) -> None:
        self.world = world
        self.codes = codes
        self.author = world.person(Role.PROVIDER_AUTHOR)
        self.reviewer = world.person(Role.VETTING_REVIEWER)
        self.recognizer = world.person(Role.RECOGNIZER_ADMIN)
        self.criteria = {c.code: c for c in QualityCriterion.objects.filter(active=True)}

    def play(self, spec: dict[str, Any]) -> MicroCredential:
        content: VersionContent = {
            **spec["content"],
            "alignments": [self.codes[code] for code in spec["standards"]],
        }
        provider = self.world.organizations[spec["provider"]]
        version: MicroCredentialVersion | None = None
        for step in spec["history"]:
            if version is None:
                version = services.create_micro_credential(
                    provider=provider, author=self.author, content=content, slug=spec["slug"]
                )
            else:
                content = {**content, **step.get("changes", {})}  # type: ignore[typeddict-item]
                version = services.start_new_version(version.micro_credential, author=self.author)
                version = services.update_draft(version, author=self.author, content=content)
            version = self._advance(version, step)
        assert version is not None, f"{spec['slug']} has an empty history"
        self._approve(version.micro_credential, spec.get("approvals", []))
        return version.micro_credential

    def _advance(
        self, version: MicroCredentialVersion, step: dict[str, Any]
    ) -> MicroCredentialVersion:
        state = step["state"]
        if state == Status.DRAFT:
            return version
        version = services.submit_for_vetting(version, author=self.author)
        if state == Status.IN_REVIEW:
            return version
        if state == Status.CHANGES_REQUESTED:
            review = step["review"]
            self._review(
                version,
                VettingReview.Decision.CHANGES_REQUESTED,
                review["comments"],
                review.get("ratings", {}),
            )
            return version
        self._review(
            version,
            VettingReview.Decision.APPROVED,
            step.get("note", "Meets every quality criterion."),
            {},
        )
        if state == Status.APPROVED:
            return version
        version = services.publish_version(version, actor=self.reviewer)
        if state == Status.RETIRED:
            version = services.retire_version(version, actor=self.author, reason=step["reason"])
        return version

    def _review(
        self,
        version: MicroCredentialVersion,
        decision: str,
        comments: str,
        exceptions: dict[str, list[str]],
    ) -> None:
        ratings = {
            c.pk: tuple(exceptions.get(code, (CriterionRating.Rating.MEETS, "")))
            for code, c in self.criteria.items()
        }
        services.record_review(
            version,
            reviewer=self.reviewer,
            decision=decision,
            comments=comments,
            ratings=ratings,  # type: ignore[arg-type]
        )

    def _approve(self, mc: MicroCredential, approvals: list[dict[str, str]]) -> None:
        published = mc.versions.filter(status=Status.PUBLISHED).first()
        if published is None:
            return
        for approval in approvals:
            services.approve_for_use(
                published,
                recognizer=self.world.organizations[RECOGNIZER_ORG],
                actor=self.recognizer,
                use=approval["use"],
            )


def _load_stacks(world: DemoWorld, report: CatalogReport) -> None:
    author = world.person(Role.PROVIDER_AUTHOR)
    for spec in stack_specs():
        provider = world.organizations[spec["provider"]]
        if Stack.objects.filter(provider=provider, title=spec["title"]).exists():
            report.stacks_present.append(spec["title"])
            continue
        members = [
            (MicroCredential.objects.get(slug=m["micro_credential"]), bool(m["required"]))
            for m in spec["members"]
        ]
        data = {k: v for k, v in spec.items() if k not in {"provider", "members"}}
        stack = services.save_stack(provider=provider, author=author, data=data, members=members)
        services.publish_stack(stack, actor=author)
        report.stacks_created.append(stack.title)


def load_catalog(world: DemoWorld) -> CatalogReport:
    """Load what is missing of the demo catalog; run it inside the caller's transaction."""
    report = CatalogReport()
    standards = import_case_package(read_package_file(STANDARDS_PACKAGE), actor=world.admin)
    report.standards.append(standards.framework_title)
    framework = StandardFramework.objects.get(identifier=standards.framework_identifier)
    codes = {item.human_coding_scheme: str(item.identifier) for item in framework.items.all()}
    player = _Player(world, codes)
    for spec in micro_credential_specs():
        if MicroCredential.objects.filter(slug=spec["slug"]).exists():
            report.micro_credentials_present.append(spec["slug"])
            continue
        player.play(spec)
        report.micro_credentials_created.append(spec["slug"])
    _load_stacks(world, report)
    return report

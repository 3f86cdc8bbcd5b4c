"""Building the Open Badges 3.0 `OpenBadgeCredential` of an Award (unsigned; services signs it).

The achievement describes the micro-credential version the earner earned (criteria, CASE
alignments, the rubric as `ResultDescription`s); the subject carries the earner's salted, hashed
email and their rubric result; evidence entries only say what was submitted, never its content.
Every term used is defined by the contexts in CONTEXTS, so the signing guard passes.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse

from microcred.assessment.models import Award, ComponentScore
from microcred.assessment.selectors import carrying_score
from microcred.catalog.models import (
    MicroCredentialVersion,
    OutcomeBand,
    Rubric,
    Stack,
    StandardItem,
)
from microcred.catalog.selectors import public_stack
from microcred.earning import public_evidence
from microcred.orgs.models import Organization
from microcred.orgs.selectors import ancestor_ids

from . import badge
from .models import StackAward
from .samples import OB_CONTEXTS, OB_SCHEMA, hashed_email_identity

# VC 2.0, OB 3.0.3, and the OB extensions: they alone define the credentialSchema type
# 1EdTechJsonSchemaValidator2019 (without them the signing guard rightly refuses).
CONTEXTS = OB_CONTEXTS
SCHEMA_VALIDATOR = "1EdTechJsonSchemaValidator2019"
URL_NAME = "credentials:credential"


class NoIssuer(RuntimeError):
    """No issuer organization can be chosen for an award (none, or several and none closer)."""


def credential_url(credential_uuid: Any) -> str:
    return settings.SITE_URL + reverse(URL_NAME, args=[credential_uuid])


def issuer_organization(award: Award) -> Organization:
    """The issuer of the earner's state: an issuer organization placed under one of the
    school's ancestors (the state agency); otherwise the site's only issuer organization."""
    issuers = Organization.objects.filter(kind=Organization.Kind.ISSUER).order_by("pk")
    school = award.attempt.school
    if school is not None:
        nearest = issuers.filter(parent_id__in=[school.pk, *ancestor_ids(school)]).first()
        if nearest is not None:
            return nearest
    candidates = list(issuers[:2])
    if len(candidates) == 1:
        return candidates[0]
    raise NoIssuer(
        "No issuer organization is set up for this earner's state"
        if not candidates
        else "Several issuer organizations exist and none belongs to this earner's state"
    )


# ---------------------------------------------------------------------------- achievement


def achievement_url(version: MicroCredentialVersion) -> str:
    slug = version.micro_credential.slug
    return settings.SITE_URL + reverse("catalog:version", args=[slug, version.number])


def badge_image(title: str) -> dict[str, str]:
    """The achievement's badge (badge.py) as a data: URI, so no image hosting is needed."""
    encoded = base64.b64encode(badge.badge_svg(title).encode("utf-8")).decode("ascii")
    return {"id": f"data:image/svg+xml;base64,{encoded}", "type": "Image", "caption": title}


def _alignment(item: StandardItem) -> dict[str, str]:
    # Every standard item is a CASE CFItem; its URI is where CASE publishes it.
    alignment = {
        "type": ["Alignment"],
        "targetType": "CFItem",
        "targetName": item.abbreviated_statement or item.full_statement[:255],
        "targetUrl": item.uri or f"urn:uuid:{item.identifier}",
        "targetFramework": item.framework.title,
    }
    if item.abbreviated_statement:
        alignment["targetDescription"] = item.full_statement
    if item.human_coding_scheme:
        alignment["targetCode"] = item.human_coding_scheme
    return alignment


def _band_id(base: str, band: OutcomeBand) -> str:
    return f"{base}#band-{band.pk}"


def _component_id(base: str, component_pk: int) -> str:
    return f"{base}#rubric-component-{component_pk}"


def rubric_score_id(base: str) -> str:
    return f"{base}#rubric-score"


def result_descriptions(rubric: Rubric, base: str) -> list[dict[str, Any]]:
    """The rubric as OB 3.0 sees it: the total score with its bands as levels (the passing
    band the required level), then each component's points."""
    bands = list(rubric.bands.order_by("min_points"))
    components = list(rubric.components.order_by("order"))
    passing = next((band for band in bands if band.passing), None)
    total: dict[str, Any] = {
        "id": rubric_score_id(base),
        "type": ["ResultDescription"],
        "name": "Rubric score",
        "resultType": "RubricScore",
        "valueMin": "0",
        "valueMax": str(sum(component.max_points for component in components)),
        "rubricCriterionLevel": [
            {
                "id": _band_id(base, band),
                "type": ["RubricCriterionLevel"],
                "name": band.label,
                "description": band.description or f"{band.min_points} to {band.max_points} points",
                "points": str(band.min_points),
            }
            for band in bands
        ],
    }
    if passing is not None:
        total["requiredLevel"] = _band_id(base, passing)
    return [
        total,
        *(
            {
                "id": _component_id(base, component.pk),
                "type": ["ResultDescription"],
                "name": component.title,
                "resultType": "RubricCriterion",
                "valueMin": "0",
                "valueMax": str(component.max_points),
            }
            for component in components
        ),
    ]


def criteria_narrative(version: MicroCredentialVersion, rubric: Rubric) -> str:
    passing = rubric.bands.filter(passing=True).order_by("min_points").first()
    requirements = ", ".join(r.title for r in version.evidence_requirements.order_by("order"))
    threshold = (
        f" An independent assessor scores it against the rubric; a score of "
        f"{passing.min_points} points or more (“{passing.label}”) earns it."
        if passing
        else " An independent assessor scores it against the rubric."
    )
    competency = version.competency_statement.strip()
    return f"{competency}\n\nThe educator submits: {requirements}.{threshold}"


def achievement(version: MicroCredentialVersion) -> dict[str, Any]:
    base = achievement_url(version)
    rubric = version.rubric
    document: dict[str, Any] = {
        "id": base,
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": version.title,
        "description": version.summary,
        "criteria": {"id": base, "narrative": criteria_narrative(version, rubric)},
        "image": badge_image(version.title),
        "creditsAvailable": float(version.estimated_hours),
        "resultDescription": result_descriptions(rubric, base),
    }
    items = StandardItem.objects.filter(alignments__version=version).select_related("framework")
    alignments = [_alignment(item) for item in items]
    if alignments:
        document["alignment"] = alignments
    return document


# ---------------------------------------------------------------------------- the subject


def _deciding_components(award: Award) -> list[ComponentScore]:
    """The component points of the read that carried the decision."""
    return list(
        ComponentScore.objects.filter(carrying_score(award.decision, prefix="score__"))
        .select_related("rubric_component")
        .order_by("rubric_component__order")
    )


def results(award: Award, base: str) -> list[dict[str, Any]]:
    decision = award.decision
    overall = {
        "type": ["Result"],
        "resultDescription": rubric_score_id(base),
        "value": str(decision.total_points),
        "achievedLevel": _band_id(base, decision.band),
        "status": "Completed",
    }
    return [
        overall,
        *(
            {
                "type": ["Result"],
                "resultDescription": _component_id(base, mark.rubric_component_id),
                "value": str(mark.points),
            }
            for mark in _deciding_components(award)
        ),
    ]


def evidence(award: Award) -> list[dict[str, str]]:
    """What was submitted, by requirement title only: the evidence itself stays private."""
    submission = award.decision.submission
    version = award.attempt.version
    parts = [
        f"{requirement.title} ({requirement.get_kind_display().lower()})"
        for requirement in version.evidence_requirements.order_by("order")
    ]
    return [
        {
            # The earners' public evidence page: 404 until they publish it (earning decides).
            "id": public_evidence.page_url(submission),
            "type": ["Evidence"],
            "name": f"Portfolio for “{version.title}”",
            "description": (
                f"Submission {submission.number}, made on "
                f"{submission.submitted_at:%Y-%m-%d}: {'; '.join(parts)}. The evidence itself "
                "is kept private; the earner may publish its written parts at this address."
            ),
            "genre": "Portfolio",
        }
    ]


@dataclass(frozen=True)
class Issuing:
    """What a credential needs besides what it was earned for, decided by the service."""

    credential_uuid: Any
    issuer: dict[str, Any]  # the embedded OB 3.0 Profile
    status_entry: dict[str, str]
    issued_at: datetime


def subject_identity(earner: Any) -> dict[str, Any]:
    """How a credential names `earner`: their own DID when they registered one (orgs.earner_did
    checked it), and always a salted hash of their email, with a fresh salt per credential so
    the hash cannot be matched across credentials or sites."""
    return {
        **({"id": earner.did} if earner.did else {}),
        "identifier": [hashed_email_identity(earner.email, secrets.token_hex(16))],
    }


def _subject(earner: Any, achieved: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": ["AchievementSubject"],
        **subject_identity(earner),
        "achievement": achieved,
        **extra,
    }


def _envelope(
    name: str, subject: dict[str, Any], evidence_entries: list[dict], issuing: Issuing
) -> dict[str, Any]:
    # Imported here: sharing (the credential page, the MFA QR code) imports this module for its
    # URLs alone, and proofs brings the signing stack (pyld, lxml, requests) (issue 8).
    from .proofs import xsd_datetime

    return {
        "@context": list(CONTEXTS),
        "id": credential_url(issuing.credential_uuid),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuing.issuer,
        "validFrom": xsd_datetime(issuing.issued_at),
        "name": name,
        "credentialSubject": subject,
        "evidence": evidence_entries,
        "credentialStatus": issuing.status_entry,
        "credentialSchema": [{"id": OB_SCHEMA, "type": SCHEMA_VALIDATOR}],
    }


def build_credential(award: Award, issuing: Issuing) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential of `award`."""
    version = award.attempt.version
    achieved = achievement(version)
    subject = _subject(
        award.earner,
        achieved,
        result=results(award, achieved["id"]),
        creditsEarned=float(version.estimated_hours),
    )
    return _envelope(version.title, subject, evidence(award), issuing)


# ---------------------------------------------------------------------------- stacks


def stack_url(stack: Stack) -> str:
    return settings.SITE_URL + reverse("catalog:stack", args=[stack.slug])


def stack_criteria(stack: Stack) -> str:
    pathway = public_stack(stack.slug)  # the pathway as the catalog shows it
    required = [step.version.title for step in pathway.required_steps]
    electives = [step.version.title for step in pathway.elective_steps]
    parts = []
    if required:
        parts.append("Earn each of these micro-credentials: " + "; ".join(required) + ".")
    if electives and stack.min_electives:
        parts.append(f"Earn at least {stack.min_electives} of these: " + "; ".join(electives) + ".")
    parts.append("Each is earned with classroom evidence scored by an independent assessor.")
    return " ".join(parts)


def stack_achievement(stack: Stack) -> dict[str, Any]:
    base = stack_url(stack)
    return {
        "id": base,
        "type": ["Achievement"],
        # A set of micro-credentials completed together: a certificate in OB 3.0's vocabulary.
        "achievementType": "Certificate",
        "name": stack.achievement_name,
        "description": stack.achievement_description or stack.description,
        "criteria": {"id": base, "narrative": stack_criteria(stack)},
        "image": badge_image(stack.achievement_name),
    }


def stack_evidence(parts: list[tuple[str, str, datetime]]) -> list[dict[str, str]]:
    """The micro-credentials the stack was completed with: (title, credential URL, issued)."""
    return [
        {
            "id": url,
            "type": ["Evidence"],
            "name": title,
            "description": f"Micro-credential earned on {issued:%Y-%m-%d}.",
            "genre": "Micro-credential",
        }
        for title, url, issued in parts
    ]


def build_stack_credential(
    stack_award: StackAward, parts: list[tuple[str, str, datetime]], issuing: Issuing
) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential of a completed stack."""
    stack = stack_award.stack
    subject = _subject(stack_award.earner, stack_achievement(stack))
    return _envelope(stack.achievement_name, subject, stack_evidence(parts), issuing)

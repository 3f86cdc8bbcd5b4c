"""Reads for the catalog."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from .content import VersionContent
from .models import (
    MicroCredentialVersion,
    RubricComponent,
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

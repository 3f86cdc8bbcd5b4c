"""The content of a micro-credential version as plain data, and its validation.

Authoring forms, the demo loader, the API and tests all describe a version the same way (a
`VersionContent` dict) and all go through `check_content`, so the rules for a well-formed
micro-credential live in one place. Problems name the field they concern, in words a provider
understands.
"""

from __future__ import annotations

import itertools
from decimal import Decimal, InvalidOperation
from typing import Any, NotRequired, TypedDict

from django.core.exceptions import ValidationError


class ComponentSpec(TypedDict):
    title: str
    description: NotRequired[str]


class ResourceSpec(TypedDict):
    title: str
    url: NotRequired[str]
    description: NotRequired[str]


class EvidenceSpec(TypedDict):
    kind: str
    title: str
    instructions: str
    word_limit: NotRequired[int | None]
    min_duration_seconds: NotRequired[int | None]
    max_duration_seconds: NotRequired[int | None]
    requires_annotations: NotRequired[bool]
    min_annotations: NotRequired[int]
    allowed_types: NotRequired[list[str]]
    max_file_size_mb: NotRequired[int | None]
    max_files: NotRequired[int]


class CriterionSpec(TypedDict):
    text: str
    points: NotRequired[int]
    label: NotRequired[str]


class RubricComponentSpec(TypedDict):
    title: str
    max_points: int
    criteria: list[CriterionSpec]
    component: NotRequired[int | None]  # index into VersionContent["components"]


class BandSpec(TypedDict):
    label: str
    min_points: int
    max_points: int
    passing: bool
    description: NotRequired[str]


class RubricSpec(TypedDict):
    scoring: str
    components: list[RubricComponentSpec]
    bands: list[BandSpec]
    instructions: NotRequired[str]


class VersionContent(TypedDict):
    title: str
    summary: str
    competency_statement: str
    key_method: str
    research_basis: str
    estimated_hours: Decimal | float | str
    difficulty: str
    career_phase: NotRequired[str]
    grade_bands: NotRequired[list[str]]
    subjects: NotRequired[list[str]]
    components: list[ComponentSpec]
    resources: NotRequired[list[ResourceSpec]]
    evidence: list[EvidenceSpec]
    rubric: RubricSpec
    alignments: NotRequired[list[str]]  # StandardItem identifiers (UUID strings)


# Content types accepted for file evidence when the provider does not narrow them.
DEFAULT_FILE_TYPES = ["application/pdf", "image/jpeg", "image/png"]
VIDEO_TYPES = ["video/mp4", "video/quicktime", "video/webm"]
AUDIO_TYPES = ["audio/mpeg", "audio/mp4", "audio/wav", "audio/webm", "audio/ogg"]
KNOWN_FILE_TYPES = {
    *DEFAULT_FILE_TYPES,
    *VIDEO_TYPES,
    *AUDIO_TYPES,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "text/plain",
}


class Problems:
    """Collects problems by field, then raises them together as one ValidationError."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def _required_text(problems: Problems, data: dict[str, Any], field: str, label: str) -> None:
    if not str(data.get(field) or "").strip():
        problems.add(field, f"{label} is required.")


def check_bands(
    bands: list[BandSpec], total_points: int, problems: Problems, field: str = "rubric.bands"
) -> None:
    """Outcome bands must tile the score range without overlaps or gaps, end at the rubric's
    total, and put a reachable passing band on top.

    The lowest band may start above zero (the seed rubric's Not Yet is 8-12): a score below it
    falls into that lowest band, which therefore must not pass.
    """
    if not bands:
        problems.add(field, "Add at least one outcome band, such as Yes / Almost / Not yet.")
        return
    labels = [b.get("label", "").strip() for b in bands]
    if any(not label for label in labels):
        problems.add(field, "Every outcome band needs a name.")
    if len(set(labels)) != len(labels):
        problems.add(field, "Two outcome bands have the same name.")
    for band in bands:
        if band["min_points"] > band["max_points"]:
            problems.add(
                field,
                f"Band '{band['label']}' starts at {band['min_points']} points but ends at "
                f"{band['max_points']}: the start must not be above the end.",
            )
    ordered = sorted(bands, key=lambda b: b["min_points"])
    for lower, upper in itertools.pairwise(ordered):
        if upper["min_points"] <= lower["max_points"]:
            problems.add(
                field,
                f"Bands '{lower['label']}' ({lower['min_points']}-{lower['max_points']}) and "
                f"'{upper['label']}' ({upper['min_points']}-{upper['max_points']}) overlap.",
            )
        elif upper["min_points"] > lower["max_points"] + 1:
            problems.add(
                field,
                f"No band covers {lower['max_points'] + 1}-{upper['min_points'] - 1} points, "
                f"between '{lower['label']}' and '{upper['label']}'.",
            )
    top = ordered[-1]
    if top["max_points"] != total_points:
        problems.add(
            field,
            f"The highest band '{top['label']}' ends at {top['max_points']} points, but the "
            f"rubric's total is {total_points}.",
        )
    passing = [b for b in ordered if b.get("passing")]
    if not passing:
        problems.add(field, "Mark one band as the passing band.")
        return
    first_pass = ordered.index(passing[0])
    if any(not b.get("passing") for b in ordered[first_pass:]):
        problems.add(field, "Passing bands must be the highest bands, above every band that fails.")
    if passing[0] is ordered[0]:
        problems.add(field, "The lowest band cannot be passing: every score would pass.")
    if passing[0]["min_points"] > total_points:
        problems.add(
            field,
            f"The passing band starts at {passing[0]['min_points']} points, more than the "
            f"rubric's total of {total_points}: nobody could pass.",
        )


def rubric_total(rubric: RubricSpec) -> int:
    return sum(int(c.get("max_points") or 0) for c in rubric.get("components", []))


def check_rubric(rubric: RubricSpec | None, n_components: int, problems: Problems) -> None:
    if not rubric:
        problems.add("rubric", "Add the rubric the assessor will score with.")
        return
    scoring = rubric.get("scoring")
    if scoring not in {"details", "levels"}:
        problems.add("rubric.scoring", "Choose how the rubric is scored: by details or by levels.")
    components = rubric.get("components") or []
    if not components:
        problems.add("rubric.components", "Add at least one rubric component.")
    for i, comp in enumerate(components, start=1):
        field = f"rubric.components[{i}]"
        name = comp.get("title", "").strip() or f"Component {i}"
        if not comp.get("title", "").strip():
            problems.add(field, f"Rubric component {i} needs a title.")
        criteria = comp.get("criteria") or []
        if not criteria:
            problems.add(field, f"'{name}' needs at least one detail or level to score.")
            continue
        if any(not c.get("text", "").strip() for c in criteria):
            problems.add(field, f"Every detail or level of '{name}' needs its text.")
        points = [int(c.get("points", 1)) for c in criteria]
        max_points = int(comp.get("max_points") or 0)
        if max_points <= 0:
            problems.add(field, f"'{name}' must be worth at least 1 point.")
        expected = sum(points) if scoring == "details" else max(points)
        if scoring in {"details", "levels"} and max_points != expected:
            how = "its details add up to" if scoring == "details" else "its highest level gives"
            problems.add(field, f"'{name}' is worth {max_points} points but {how} {expected}.")
        link = comp.get("component")
        if link is not None and not (0 <= link < n_components):
            problems.add(field, f"'{name}' points at a key method component that does not exist.")
    check_bands(list(rubric.get("bands") or []), rubric_total(rubric), problems)


def check_evidence(evidence: list[EvidenceSpec], problems: Problems) -> None:
    from .models import EvidenceRequirement

    kinds = {k.value for k in EvidenceRequirement.Kind}
    if not evidence:
        problems.add("evidence", "Say what evidence the earner must submit (at least one part).")
    for i, part in enumerate(evidence, start=1):
        field = f"evidence[{i}]"
        name = part.get("title", "").strip() or f"Part {i}"
        kind = part.get("kind")
        if kind not in kinds:
            problems.add(field, f"'{name}': choose the kind of evidence.")
            continue
        if not part.get("title", "").strip():
            problems.add(field, f"Evidence part {i} needs a title.")
        if not part.get("instructions", "").strip():
            problems.add(field, f"'{name}': tell the earner what to submit (instructions).")
        if kind in EvidenceRequirement.TEXT_KINDS:
            limit = part.get("word_limit")
            if limit is None or int(limit) <= 0:
                problems.add(field, f"'{name}': the word limit must be at least 1 word.")
        if kind in EvidenceRequirement.MEDIA_KINDS:
            low, high = part.get("min_duration_seconds"), part.get("max_duration_seconds")
            if not high or int(high) <= 0:
                problems.add(field, f"'{name}': set the longest allowed recording.")
            elif low is not None and int(low) > int(high):
                problems.add(
                    field, f"'{name}': the shortest length is longer than the longest length."
                )
        if part.get("requires_annotations") and kind != EvidenceRequirement.Kind.VIDEO:
            problems.add(field, f"'{name}': time-stamped notes can only be required on video.")
        unknown = set(part.get("allowed_types") or []) - KNOWN_FILE_TYPES
        if unknown:
            problems.add(field, f"'{name}': unsupported file types {', '.join(sorted(unknown))}.")
        size = part.get("max_file_size_mb")
        if size is not None and int(size) <= 0:
            problems.add(field, f"'{name}': the largest file size must be at least 1 MB.")


def check_content(content: VersionContent) -> None:
    """Raise a ValidationError naming every problem; return quietly when the content is sound."""
    from .models import MicroCredentialVersion

    data: dict[str, Any] = dict(content)
    problems = Problems()
    for field, label in [
        ("title", "The title"),
        ("summary", "The summary"),
        ("competency_statement", "The competency statement"),
        ("key_method", "The key method"),
        ("research_basis", "The research basis"),
    ]:
        _required_text(problems, data, field, label)
    try:
        hours = Decimal(str(data.get("estimated_hours")))
        if hours <= 0 or hours > 200:
            problems.add("estimated_hours", "Estimated hours must be between 0.5 and 200.")
    except (InvalidOperation, ValueError):
        problems.add("estimated_hours", "Estimated hours must be a number, such as 12 or 7.5.")
    if data.get("difficulty") not in MicroCredentialVersion.Difficulty.values:
        problems.add("difficulty", "Choose a difficulty: foundational, intermediate or advanced.")
    phase = data.get("career_phase", MicroCredentialVersion.CareerPhase.ANY)
    if phase not in MicroCredentialVersion.CareerPhase.values:
        problems.add("career_phase", "Choose a career phase from the list.")
    components = data.get("components") or []
    if not components:
        problems.add("components", "Describe at least one component of the key method.")
    for i, comp in enumerate(components, start=1):
        if not comp.get("title", "").strip():
            problems.add(f"components[{i}]", f"Key method component {i} needs a title.")
    for i, res in enumerate(data.get("resources") or [], start=1):
        if not res.get("title", "").strip():
            problems.add(f"resources[{i}]", f"Learning resource {i} needs a title.")
    check_evidence(list(data.get("evidence") or []), problems)
    check_rubric(data.get("rubric"), len(components), problems)
    problems.raise_if_any()

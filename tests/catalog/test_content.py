"""Content validation (catalog.content.check_content): the coaching sample is the valid base,
and each rule, broken on its own, yields a message under the field path it concerns."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from microcred.catalog import display
from microcred.catalog.content import KNOWN_FILE_TYPES, check_content
from microcred.catalog.samples import coaching_content


def problems_of(content: Any) -> dict[str, list[str]]:
    try:
        check_content(content)
    except ValidationError as exc:
        return exc.message_dict
    return {}


def changed(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    content: dict[str, Any] = coaching_content()  # type: ignore[assignment]
    change(content)
    return content


def bands(content: dict[str, Any]) -> list[dict[str, Any]]:
    return content["rubric"]["bands"]  # Yes 16-20 (passing), Almost 13-15, Not Yet 8-12


def test_the_coaching_sample_is_valid_including_not_yet_starting_at_8():
    assert bands(coaching_content())[2]["min_points"] == 8
    assert problems_of(coaching_content()) == {}


def test_levels_scoring_counts_the_highest_level():
    def to_levels(c: dict[str, Any]) -> None:
        c["rubric"]["scoring"] = "levels"
        for component in c["rubric"]["components"]:
            component["criteria"] = [
                {"label": "Proficient", "text": "All details evident", "points": 5},
                {"label": "Developing", "text": "Some details evident", "points": 3},
            ]

    assert problems_of(changed(to_levels)) == {}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda c: c["rubric"].update(bands=[]), "rubric.bands", "Add at least one outcome band"),
        (
            lambda c: bands(c)[1].update(label=" "),
            "rubric.bands",
            "Every outcome band needs a name",
        ),
        (lambda c: bands(c)[1].update(label="Yes"), "rubric.bands", "same name"),
        (
            lambda c: bands(c)[2].update(min_points=13, max_points=12),
            "rubric.bands",
            "the start must not be above the end",
        ),
        (lambda c: bands(c)[1].update(max_points=16), "rubric.bands", "overlap"),
        (lambda c: bands(c)[1].update(max_points=14), "rubric.bands", "No band covers 15-15"),
        (
            lambda c: bands(c)[0].update(max_points=19),
            "rubric.bands",
            "ends at 19 points, but the rubric's total is 20",
        ),
        (
            lambda c: bands(c)[0].update(passing=False),
            "rubric.bands",
            "Mark one band as the passing band",
        ),
        (
            lambda c: (bands(c)[0].update(passing=False), bands(c)[1].update(passing=True)),
            "rubric.bands",
            "Passing bands must be the highest bands",
        ),
        (
            lambda c: [band.update(passing=True) for band in bands(c)],
            "rubric.bands",
            "The lowest band cannot be passing",
        ),
        (
            # Components worth 4 points in total, bands unchanged: the pass band is unreachable.
            lambda c: [
                comp.update(max_points=1, criteria=comp["criteria"][:1])
                for comp in c["rubric"]["components"]
            ],
            "rubric.bands",
            "nobody could pass",
        ),
    ],
)
def test_band_rules(change, field, message):
    problems = problems_of(changed(change))
    assert field in problems, problems
    assert any(message.lower() in p.lower() for p in problems[field]), problems[field]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda c: c.pop("rubric"), "rubric", "Add the rubric"),
        (
            lambda c: c["rubric"].update(scoring="stars"),
            "rubric.scoring",
            "by details or by levels",
        ),
        (lambda c: c["rubric"].update(components=[]), "rubric.components", "at least one rubric"),
        (
            lambda c: c["rubric"]["components"][1].update(title=""),
            "rubric.components[2]",
            "Rubric component 2 needs a title",
        ),
        (
            lambda c: c["rubric"]["components"][0].update(criteria=[]),
            "rubric.components[1]",
            "needs at least one detail or level",
        ),
        (
            lambda c: c["rubric"]["components"][0]["criteria"][0].update(text=" "),
            "rubric.components[1]",
            "needs its text",
        ),
        (
            lambda c: c["rubric"]["components"][0].update(max_points=0),
            "rubric.components[1]",
            "must be worth at least 1 point",
        ),
        (
            lambda c: c["rubric"]["components"][0].update(max_points=6),
            "rubric.components[1]",
            "worth 6 points but its details add up to 5",
        ),
        (
            lambda c: c["rubric"]["components"][3].update(component=4),
            "rubric.components[4]",
            "key method component that does not exist",
        ),
    ],
)
def test_rubric_rules(change, field, message):
    problems = problems_of(changed(change))
    assert field in problems, problems
    assert any(message.lower() in p.lower() for p in problems[field]), problems[field]


def _evidence(c: dict[str, Any], i: int) -> dict[str, Any]:
    return c["evidence"][i]  # 0: written (1000 words), 1: video 600-900 s, 2: reflection


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda c: c.update(evidence=[]), "evidence", "at least one part"),
        (lambda c: _evidence(c, 0).update(kind="essay"), "evidence[1]", "choose the kind"),
        (lambda c: _evidence(c, 0).update(title=""), "evidence[1]", "needs a title"),
        (lambda c: _evidence(c, 0).update(instructions=" "), "evidence[1]", "instructions"),
        (lambda c: _evidence(c, 0).update(word_limit=0), "evidence[1]", "at least 1 word"),
        (lambda c: _evidence(c, 2).pop("word_limit"), "evidence[3]", "at least 1 word"),
        (
            lambda c: _evidence(c, 1).update(max_duration_seconds=None),
            "evidence[2]",
            "set the longest allowed recording",
        ),
        (
            lambda c: _evidence(c, 1).update(min_duration_seconds=960),
            "evidence[2]",
            "shortest length is longer than the longest",
        ),
        (
            lambda c: _evidence(c, 0).update(requires_annotations=True),
            "evidence[1]",
            "only be required on video",
        ),
        (
            lambda c: _evidence(c, 1).update(allowed_types=["video/mp4", "application/x-sh"]),
            "evidence[2]",
            "unsupported file types application/x-sh",
        ),
        (lambda c: _evidence(c, 1).update(max_file_size_mb=0), "evidence[2]", "at least 1 MB"),
    ],
)
def test_evidence_rules(change, field, message):
    problems = problems_of(changed(change))
    assert field in problems, problems
    assert any(message.lower() in p.lower() for p in problems[field]), problems[field]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda c: c.update(title="  "), "title", "The title is required"),
        (lambda c: c.update(summary=""), "summary", "The summary is required"),
        (lambda c: c.update(competency_statement=""), "competency_statement", "required"),
        (lambda c: c.update(key_method=""), "key_method", "required"),
        (lambda c: c.update(research_basis=""), "research_basis", "required"),
        (lambda c: c.update(estimated_hours="twelve"), "estimated_hours", "must be a number"),
        (lambda c: c.update(estimated_hours="0"), "estimated_hours", "between 0.5 and 200"),
        (lambda c: c.update(estimated_hours="201"), "estimated_hours", "between 0.5 and 200"),
        (lambda c: c.update(difficulty="expert"), "difficulty", "Choose a difficulty"),
        (lambda c: c.update(career_phase="retired"), "career_phase", "career phase"),
        (lambda c: c.update(components=[]), "components", "at least one component"),
        (lambda c: c["components"][1].update(title=""), "components[2]", "component 2 needs"),
        (lambda c: c["resources"][0].update(title=""), "resources[1]", "resource 1 needs"),
    ],
)
def test_basic_field_rules(change, field, message):
    problems = problems_of(changed(change))
    assert field in problems, problems
    assert any(message.lower() in p.lower() for p in problems[field]), problems[field]


def test_every_problem_is_reported_at_once():
    def break_many(c: dict[str, Any]) -> None:
        c["title"] = ""
        _evidence(c, 0)["word_limit"] = 0
        bands(c)[1]["max_points"] = 16

    assert {"title", "evidence[1]", "rubric.bands"} <= set(problems_of(changed(break_many)))


# ---------------------------------------------------------------------------- wording
def test_every_known_file_type_has_a_plain_label():
    assert set(display.FILE_TYPE_LABELS) == KNOWN_FILE_TYPES
    assert display.file_type_label("video/quicktime") == "QuickTime video (.mov)"


@pytest.mark.parametrize(
    ("seconds", "minutes", "words"),
    [
        (600, Decimal("10"), "10 minutes"),
        (630, Decimal("10.5"), "10 minutes 30 seconds"),
        (60, Decimal("1"), "1 minute"),
        (45, Decimal("0.75"), "45 seconds"),
    ],
)
def test_durations_read_in_minutes_and_store_in_seconds(seconds, minutes, words):
    assert display.minutes_from_seconds(seconds) == minutes
    assert str(display.minutes_from_seconds(seconds)) == str(minutes)
    assert display.seconds_from_minutes(minutes) == seconds
    assert display.format_duration(seconds) == words

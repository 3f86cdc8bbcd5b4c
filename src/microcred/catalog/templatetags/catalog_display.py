"""Template filters wording catalog facts (see catalog/display.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template

from microcred.catalog import display

register = template.Library()


@register.filter
def duration(seconds: int | None) -> str:
    return display.format_duration(seconds)


@register.filter
def file_types(mimes: Iterable[str] | None) -> str:
    return ", ".join(display.file_type_label(m) for m in mimes or [])


@register.filter
def total_points(rubric: Any) -> int:
    """A rubric's total: the sum of its components' points (as content.rubric_total)."""
    return sum(component.max_points for component in rubric.components.all())

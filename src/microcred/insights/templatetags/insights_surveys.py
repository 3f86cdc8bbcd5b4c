"""`survey_chart`: the Guskey results as the shared chart contract, for json_script."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import template

from microcred.insights.surveys import LevelSummary, chart

register = template.Library()


@register.filter
def survey_chart(summaries: Sequence[LevelSummary]) -> dict[str, Any]:
    return chart(summaries)

"""Browser journeys through assessment use the assessment tests' own fixtures (a published
coaching MC, assessors qualified for it, real submissions), so they are shared here."""

from tests.assessment.conftest import (  # noqa: F401 (fixtures, found by name)
    make_assessor,
    make_earner,
    make_submission,
    version,
)

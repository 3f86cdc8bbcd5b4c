"""A browser test's earned micro-credential: a real submission scored in the passing band by
the services (tests/credentials/awards.py), in the live server's database. Import what a
module needs: `from .earned import *  # noqa: F403`."""

from __future__ import annotations

import pytest

from microcred.assessment.models import Award
from tests.credentials.awards import (
    make_assessor,
    make_award,
    make_earner,
    make_submission,
    version,
)

__all__ = ["award", "make_assessor", "make_award", "make_earner", "make_submission", "version"]


@pytest.fixture
def award(seeded_db, make_award) -> Award:
    return make_award()

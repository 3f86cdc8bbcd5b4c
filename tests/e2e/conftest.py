"""Browser journeys through assessment use the assessment tests' own fixtures (assessors qualified
for the coaching MC, real submissions, calibration sets and drift policies), so they are shared
here."""

import pytest

from microcred.catalog.models import MicroCredentialVersion
from tests.assessment.conftest import (  # noqa: F401 (fixtures, found by name)
    anchor_set,
    drift_policy,
    lead,
    make_assessor,
    make_earner,
    make_submission,
    submissions,
    trainee,
)
from tests.catalog.factories import catalog_people
from tests.credentials.awards import issuer_admin, make_award  # noqa: F401 (fixtures)


@pytest.fixture
def version(seeded_db, org_tree, make_user) -> MicroCredentialVersion:
    """The published coaching MC, made after the migration's seeded rows are restored (the flush
    after each browser test removes them)."""
    return catalog_people(org_tree, make_user).publish()

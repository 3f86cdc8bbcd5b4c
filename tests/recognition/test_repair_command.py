"""`manage.py repair_ledger`: the daily sweep that posts what a lost task left behind."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from microcred.credentials import services as credentials
from microcred.recognition.models import LedgerEntry

from .conftest import CEU_RULE

pytestmark = pytest.mark.django_db


def test_the_sweep_posts_a_credential_whose_task_was_lost_and_then_nothing(
    licensure, org_tree, approve, make_policy, make_award
):
    approve(org_tree["state"], licensure, "license_renewal")
    make_policy(licensure, org_tree["state"], CEU_RULE)
    credential = credentials.issue_for_award(make_award())  # its on-commit task never ran
    out = StringIO()
    call_command("repair_ledger", stdout=out)
    assert "Posted 1 issued credential(s), 0 external one(s) and 0 revocation(s)" in out.getvalue()
    assert LedgerEntry.objects.filter(credential=credential).count() == 1
    call_command("repair_ledger", stdout=out)
    assert LedgerEntry.objects.filter(credential=credential).count() == 1
    assert out.getvalue().endswith("0 ledger entries.\n")

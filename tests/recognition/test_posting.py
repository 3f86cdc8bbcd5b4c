"""Posting to the ledger: which rules apply, exactly once across retries and crashes,
reversals on revocation, budgets that run out, caps, roles."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D
from unittest import mock

import pytest
from django.db import IntegrityError, transaction

from microcred.credentials import services as credentials
from microcred.earning.models import PreApproval
from microcred.orgs.models import AuditEvent
from microcred.recognition import posting, tasks
from microcred.recognition.models import LedgerEntry, Posting

from .conftest import CEU_RULE, COUNT_RULE, SALARY_RULE, stipend_rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def state_policy(licensure, org_tree, make_policy, approve):
    approve(org_tree["state"], licensure, "license_renewal")
    return make_policy(licensure, org_tree["state"], CEU_RULE, COUNT_RULE, name="Renewal")


@pytest.fixture
def district_policy(hr, org_tree, make_policy, approve):
    approve(org_tree["lea1"], hr, "stipend", "salary")
    return make_policy(hr, org_tree["lea1"], stipend_rule(), SALARY_RULE, name="Pine pay")


def entries_of(credential):
    return sorted(
        LedgerEntry.objects.filter(credential=credential).values_list("kind", "quantity", "amount")
    )


def test_an_issued_credential_posts_each_approved_rule_once(state_policy, district_policy, earn):
    credential = earn()
    assert entries_of(credential) == [
        ("ceu", D("1.50"), D("0")),  # 15 hours at 10 hours per CEU
        ("renewal_count", D("1"), D("0")),
        ("salary", D("0"), D("600.00")),  # an advanced MC
        ("stipend", D("0"), D("300.00")),
    ]
    entry = LedgerEntry.objects.filter(credential=credential).first()
    assert entry.status == LedgerEntry.Status.PENDING
    assert (
        entry.educator_id == credential.earner_id
        and entry.title == credential.award.attempt.version.title
    )
    assert AuditEvent.objects.filter(action="ledger.posted").count() == 4
    assert Posting.objects.get(credential=credential).entries == 4


def test_a_use_the_recognizer_did_not_approve_posts_nothing(licensure, org_tree, make_policy, earn):
    make_policy(licensure, org_tree["state"], CEU_RULE)  # the MC is approved for no use
    credential = earn()
    assert entries_of(credential) == []
    assert Posting.objects.get(credential=credential).entries == 0


def test_another_districts_policy_does_not_count(make_user, org_tree, make_policy, approve, earn):
    oak_hr = make_user("recognizer_admin", org_tree["lea2"])
    approve(org_tree["lea2"], oak_hr, "stipend")
    make_policy(oak_hr, org_tree["lea2"], stipend_rule())
    assert entries_of(earn()) == []  # the earner teaches at Pine Elementary


def test_a_policy_not_in_force_on_the_day_posts_nothing(
    licensure, org_tree, make_policy, approve, earn
):
    approve(org_tree["state"], licensure, "license_renewal")
    make_policy(
        licensure,
        org_tree["state"],
        CEU_RULE,
        effective_from=date(2019, 1, 1),
        effective_until=date.today() - timedelta(days=1),
    )
    assert entries_of(earn()) == []


def test_a_second_run_of_the_task_posts_nothing(state_policy, earn):
    credential = earn()
    assert tasks.post_credential.call(credential.pk) == 0
    assert posting.post_issued(credential.pk) == []
    assert LedgerEntry.objects.filter(credential=credential).count() == 2


def test_a_crash_mid_posting_leaves_nothing_and_the_retry_posts_once(
    state_policy, district_policy, make_award
):
    credential = credentials.issue_for_award(make_award())  # on_commit does not run here
    crash = mock.patch.object(Posting.objects, "create", side_effect=RuntimeError("killed"))
    with crash, pytest.raises(RuntimeError):
        posting.post_issued(credential.pk)
    assert LedgerEntry.objects.filter(credential=credential).count() == 0  # rolled back whole
    assert posting.repair() == 4
    assert posting.repair() == 0
    assert LedgerEntry.objects.filter(credential=credential).count() == 4


def test_the_database_refuses_a_second_entry_for_one_credential_and_rule(state_policy, earn):
    entry = LedgerEntry.objects.filter(credential=earn()).first()
    entry.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        entry.save()


def test_revocation_posts_reversals_with_the_reason_and_changes_nothing_else(
    state_policy, district_policy, earn, revoke
):
    credential = earn()
    originals = {e.pk: (e.quantity, e.amount, e.status) for e in credential.ledger_entries.all()}
    revoke(credential, "Evidence was not the earner's own.")
    reversals = LedgerEntry.objects.filter(credential=credential, reverses__isnull=False)
    assert reversals.count() == 4
    for reversal in reversals:
        quantity, amount, _ = originals[reversal.reverses_id]
        assert (reversal.quantity, reversal.amount) == (-quantity, -amount)
        assert "Evidence was not the earner's own." in reversal.reason
        assert reversal.status == LedgerEntry.Status.PENDING
    for entry in LedgerEntry.objects.filter(pk__in=originals):
        assert (entry.quantity, entry.amount, entry.status) == originals[entry.pk]
    assert tasks.post_revocation.call(credential.pk) == 0  # a retried task reverses nothing twice
    assert LedgerEntry.objects.filter(credential=credential).count() == 8


def test_the_budget_runs_out_visibly_and_a_reversal_gives_back(
    hr, org_tree, make_policy, approve, earn, make_earner, revoke
):
    approve(org_tree["lea1"], hr, "stipend")
    make_policy(hr, org_tree["lea1"], stipend_rule("300", "600"))
    first, second, third = (earn(make_earner()) for _ in range(3))
    stipends = [
        LedgerEntry.objects.get(credential=c, kind="stipend") for c in (first, second, third)
    ]
    assert [s.status for s in stipends] == ["pending", "pending", "unfunded"]
    assert stipends[2].note == "The stipend budget of $600.00 from Title II is spent."
    assert posting.budget_used(stipends[0].rule) == D("600")
    revoke(first)
    assert posting.budget_used(stipends[0].rule) == D("300")
    fourth = earn(make_earner())
    assert LedgerEntry.objects.get(credential=fourth, kind="stipend").status == "pending"
    revoke(third)  # an unfunded stipend granted nothing: there is nothing to reverse
    assert not LedgerEntry.objects.filter(credential=third, reverses__isnull=False).exists()


def test_an_approval_that_needs_pre_approval_counts_only_with_it(
    hr, org_tree, make_policy, approve, make_award, django_capture_on_commit_callbacks
):
    # Started before the district asked for pre-approval; only one was pre-approved since.
    without = make_award()
    with_it = make_award()
    approve(org_tree["lea1"], hr, "salary", requires_preapproval=True)
    make_policy(hr, org_tree["lea1"], SALARY_RULE)
    PreApproval.objects.create(
        attempt=with_it.attempt,
        use="salary",
        rationale="Grade-level lead next year.",
        status=PreApproval.Status.APPROVED,
    )
    with django_capture_on_commit_callbacks(execute=True):
        a = credentials.issue_for_award(without)
        b = credentials.issue_for_award(with_it)
    assert entries_of(a) == []
    assert entries_of(b) == [("salary", D("0"), D("600.00"))]


def test_masters_credit_stops_at_the_cap(hr, org_tree, make_policy, approve, earn, make_earner):
    approve(org_tree["lea1"], hr, "masters_equivalency")
    make_policy(hr, org_tree["lea1"], {"kind": "masters", "mcs_per_credit": 2, "cap": D("1")})
    teacher = make_earner()
    granted = [LedgerEntry.objects.filter(credential=earn(teacher)).count() for _ in range(3)]
    assert granted == [1, 1, 0]  # 0.5 + 0.5 reaches the cap of 1 credit
    total = sum(e.quantity for e in LedgerEntry.objects.filter(educator=teacher))
    assert total == D("1")


def test_role_eligibility_comes_with_the_credential_that_completes_it_and_goes_with_it(
    hr, org_tree, make_policy, version, earn, revoke
):
    make_policy(
        hr,
        org_tree["lea1"],
        {
            "kind": "role",
            "role_title": "Instructional coach",
            "micro_credentials": [version.micro_credential],
        },
    )
    credential = earn()
    role = LedgerEntry.objects.get(credential=credential, kind="role")
    assert role.title == "Instructional coach" and role.quantity == 1
    revoke(credential)
    assert LedgerEntry.objects.get(reverses=role).quantity == -1


def test_a_credential_revoked_before_its_posting_grants_nothing(
    state_policy, make_award, issuer_admin
):
    credential = credentials.issue_for_award(make_award())
    credentials.revoke(issuer_admin, credential, "Issued in error.")
    assert posting.repair() == 0
    assert entries_of(credential) == []
    assert set(Posting.objects.filter(credential=credential).values_list("event", flat=True)) == {
        "issued",
        "revoked",
    }

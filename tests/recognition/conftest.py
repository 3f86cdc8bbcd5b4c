"""Fixtures for recognition: a state renewal policy and a district's, real credentials issued
the way the app issues them (score, award, issue; the ledger posts on commit)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from microcred.catalog import services as catalog
from microcred.catalog.models import MicroCredentialVersion
from microcred.credentials import services as credentials
from microcred.credentials.models import IssuedCredential
from microcred.orgs.models import Organization, Role, User
from microcred.recognition import services
from microcred.recognition.models import RecognitionPolicy
from tests.credentials.awards import *  # noqa: F403  (make_award, version and friends)

START = date(2020, 1, 1)


@pytest.fixture
def hr(make_user, org_tree) -> User:
    """The Pine County HR officer: a recognizer admin of the district."""
    return make_user(Role.RECOGNIZER_ADMIN, org_tree["lea1"], first_name="Hope", last_name="Reyes")


@pytest.fixture
def licensure(make_user, org_tree) -> User:
    """The state licensure office: a recognizer admin of the state agency."""
    return make_user(Role.RECOGNIZER_ADMIN, org_tree["state"], first_name="Lee", last_name="Sato")


@pytest.fixture
def approve(version) -> Callable[..., Any]:
    """approve(recognizer, actor, *uses, requires_preapproval=False) for the fixture MC."""

    def do(
        recognizer: Organization, actor: User, *uses: str, requires_preapproval: bool = False
    ) -> None:
        for use in uses:
            catalog.approve_for_use(
                version,
                recognizer=recognizer,
                actor=actor,
                use=use,
                requires_preapproval=requires_preapproval,
            )

    return do


@pytest.fixture
def make_policy() -> Callable[..., RecognitionPolicy]:
    """make_policy(actor, recognizer, rule fields..., name=) -> a policy in force since 2020
    with the given rules (each a dict of RecognitionRule fields)."""

    def make(
        actor: User,
        recognizer: Organization,
        *rules: dict[str, Any],
        name: str = "Policy",
        effective_from: date = START,
        effective_until: date | None = None,
    ) -> RecognitionPolicy:
        policy = services.create_policy(
            actor,
            recognizer,
            name=name,
            effective_from=effective_from,
            effective_until=effective_until,
        )
        for fields in rules:
            services.add_rule(actor, policy, **fields)
        return services.activate(actor, policy)

    return make


@pytest.fixture
def earn(make_award, django_capture_on_commit_callbacks) -> Callable[..., IssuedCredential]:
    """earn(earner) -> the credential, issued and posted as in production: on commit, the
    ledger's task posts what it grants."""

    def do(earner: User | None = None) -> IssuedCredential:
        award = make_award(earner)
        with django_capture_on_commit_callbacks(execute=True):
            return credentials.issue_for_award(award)

    return do


@pytest.fixture
def revoke(issuer_admin, django_capture_on_commit_callbacks) -> Callable[..., Any]:
    def do(credential: IssuedCredential, reason: str = "Evidence was not the earner's own.") -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return credentials.revoke(issuer_admin, credential, reason)

    return do


CEU_RULE = {"kind": "ceu", "ceu_source": "hours", "hours_per_ceu": Decimal("10")}
COUNT_RULE = {"kind": "renewal_count", "mcs_required": 4}


def stipend_rule(amount: str = "300", budget: str = "600") -> dict[str, Any]:
    return {
        "kind": "stipend",
        "amount": Decimal(amount),
        "budget": Decimal(budget),
        "funding_source": "Title II",
    }


SALARY_RULE = {
    "kind": "salary",
    "salary_foundational": Decimal("200"),
    "salary_intermediate": Decimal("400"),
    "salary_advanced": Decimal("600"),
}


@pytest.fixture
def pine_pay(hr, org_tree, make_policy, approve) -> RecognitionPolicy:
    """The district's pay policy in force: a $300 stipend from a $600 budget, salary steps."""
    approve(org_tree["lea1"], hr, "stipend", "salary")
    return make_policy(
        hr, org_tree["lea1"], stipend_rule("300", "600"), SALARY_RULE, name="Pine pay"
    )


@pytest.fixture
def renewal(licensure, org_tree, make_policy, approve) -> RecognitionPolicy:
    """The state's renewal policy in force: 1 CEU per 10 hours."""
    approve(org_tree["state"], licensure, "license_renewal")
    return make_policy(licensure, org_tree["state"], CEU_RULE, name="Renewal")


def hours_of(version: MicroCredentialVersion) -> Decimal:
    return version.estimated_hours

"""Shared fixtures: people in roles, organizations, and settings that keep tests fast."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from microcred.orgs.models import Membership, Organization, User

# The browser harness (chromium + axe-core) is a plugin so that any test module, not only those
# under tests/e2e, can take the `page` fixture without starting a second Playwright.
pytest_plugins = ["tests.e2e.harness"]

# The fixture that drives chromium (tests/e2e/harness.py): tests taking it are browser tests.
BROWSER_FIXTURES = {"page"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every browser test `e2e` wherever it lives, so `-m "not e2e"` leaves them all out
    (CI runs them once, on SQLite, rather than once per database)."""
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    # One read decides unless a test gives its MC a ScoringPolicy (tests/assessment/
    # test_moderation.py): most tests follow a submission through a single read.
    settings.MICROCRED_SCORING_DEFAULTS = {
        "second_read_percent": 0,
        "second_read_first_year": False,
        "second_read_margin": 0,
    }


@pytest.fixture(autouse=True)
def _test_logins_count_as_full_sign_ins(monkeypatch):
    """`client.force_login` and `client.login` skip allauth's sign-in steps, so their sessions
    would hold admins, assessors and the like at the MFA setup page (orgs/mfa.py). Here they
    stand for a complete, fresh sign-in: password and second factor, as allauth records them.
    Tests of the MFA rule itself sign in through allauth's pages instead."""
    from allauth.account.internal.flows.login import record_authentication
    from django.http import HttpRequest
    from django.test import Client

    real_login = Client._login

    def login(self, user, backend=None):
        real_login(self, user, backend)
        request = HttpRequest()
        request.session, request.user = self.session, user
        record_authentication(request, user, "password", reauthenticated=True)
        record_authentication(request, user, "mfa", type="totp", reauthenticated=True)
        request.session.save()

    monkeypatch.setattr(Client, "_login", login)


@pytest.fixture(autouse=True)
def _every_issued_credential_matches_the_schema():
    """Whatever a test issues (awards, stacks, the demo, browser journeys), each credential
    must pass 1EdTech's canonical Open Badges 3.0 JSON Schema."""
    from django.db.models.signals import post_save

    from microcred.credentials.models import IssuedCredential
    from microcred.credentials.schema import schema_errors, schema_for

    problems: list[str] = []

    def check(sender, instance, created, **kwargs):
        schema = schema_for(instance.document)
        errors = schema_errors(instance.document, schema) if schema else ["no schema found"]
        problems.extend(f"{instance.document.get('name')}: {error}" for error in errors)

    post_save.connect(check, sender=IssuedCredential, weak=False)
    yield
    post_save.disconnect(check, sender=IssuedCredential)
    assert not problems, "Issued credentials that fail the OB 3.0 JSON Schema:\n" + "\n".join(
        problems
    )


@pytest.fixture
def org_tree(db) -> dict[str, Organization]:
    """A small state: one agency, two districts with a school each, a provider, an issuer,
    an assessment organization."""
    K = Organization.Kind
    state = Organization.objects.create(kind=K.STATE_AGENCY, name="State DPI", slug="dpi")
    lea1 = Organization.objects.create(
        kind=K.LEA,
        name="Pine County Schools",
        slug="pine",
        parent=state,
        region="West",
        locale="rural",
        low_wealth=True,
        size="small",
    )
    lea2 = Organization.objects.create(
        kind=K.LEA,
        name="Oak City Schools",
        slug="oak",
        parent=state,
        region="East",
        locale="city",
        size="large",
    )
    school1 = Organization.objects.create(
        kind=K.SCHOOL, name="Pine Elementary", slug="pine-es", parent=lea1
    )
    school2 = Organization.objects.create(
        kind=K.SCHOOL, name="Oak Middle", slug="oak-ms", parent=lea2
    )
    provider = Organization.objects.create(kind=K.PROVIDER, name="Learning Forward Lab", slug="lfl")
    other_provider = Organization.objects.create(
        kind=K.PROVIDER, name="Other Provider", slug="other"
    )
    issuer = Organization.objects.create(
        kind=K.ISSUER, name="State MC Issuer", slug="issuer", parent=state
    )
    assess = Organization.objects.create(
        kind=K.ASSESSMENT_ORG, name="Assessors Guild", slug="guild"
    )
    return {
        "state": state,
        "lea1": lea1,
        "lea2": lea2,
        "school1": school1,
        "school2": school2,
        "provider": provider,
        "other_provider": other_provider,
        "issuer": issuer,
        "assess": assess,
    }


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    """make_user("provider_author", org) -> a user holding that role there."""
    counter = {"n": 0}

    def make(role: str | None = None, organization: Organization | None = None, **extra) -> User:
        counter["n"] += 1
        email = extra.pop("email", f"{role or 'user'}{counter['n']}@example.org")
        user = User.objects.create_user(email=email, password="pw-for-tests-1", **extra)
        if role and organization:
            Membership.objects.create(user=user, organization=organization, role=role)
        return user

    return make

"""Webhook fixtures: a real receiver (receiver.py), administrators of the fixture state's
organizations, and endpoints made through the service."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from microcred.orgs.models import Organization, Role, User
from microcred.webhooks import services as webhooks
from microcred.webhooks.models import SUBSCRIBABLE, WebhookEndpoint
from tests.recognition.conftest import *  # noqa: F403  (awards, policies, earn, revoke, pine_pay)

from .receiver import Receiver, start, stop


@pytest.fixture(autouse=True)
def _short_timeout(settings):
    # A hanging endpoint costs the test half a second, not ten.
    settings.MICROCRED_WEBHOOK_TIMEOUT = 0.5
    settings.SITE_URL = "https://microcred.example.org"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = start(Receiver())
    yield running
    stop(running)


@pytest.fixture
def lea_admin(make_user, org_tree) -> User:
    """Program staff of Pine County (lea1), where the fixture earner's school is."""
    return make_user(Role.PROGRAM_ADMIN, org_tree["lea1"], first_name="Pat", last_name="Admin")


@pytest.fixture
def other_lea_admin(make_user, org_tree) -> User:
    """Program staff of Oak City (lea2): nothing of Pine County's is theirs."""
    return make_user(Role.PROGRAM_ADMIN, org_tree["lea2"])


@pytest.fixture
def make_endpoint(receiver) -> Callable[..., WebhookEndpoint]:
    """make_endpoint(actor, organization, events=all, url=receiver's): the secret goes to the
    receiver, as an administrator would paste it."""

    def make(
        actor: User,
        organization: Organization,
        events: tuple[str, ...] = SUBSCRIBABLE,
        url: str | None = None,
    ) -> WebhookEndpoint:
        endpoint, secret = webhooks.create_endpoint(
            actor, organization, url=url or receiver.url, event_types=events
        )
        receiver.secret = secret
        return endpoint

    return make


@pytest.fixture
def lea_endpoint(make_endpoint, lea_admin, org_tree) -> WebhookEndpoint:
    return make_endpoint(lea_admin, org_tree["lea1"])

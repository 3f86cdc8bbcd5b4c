"""Fixtures shared by the earning tests: one earner and their signed-in client."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def owner(make_user):
    return make_user(email="inez@example.org")


@pytest.fixture
def owner_client(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client

"""Shared fixtures for the credentials core tests (no database needed)."""

from __future__ import annotations

import json

import pytest

from microcred.credentials import Ed25519Key

from .helpers import FIXTURES, load_fixture

# In-repo copies (see fixtures/README.md), so no test depends on a path outside the repository.
TEST_VECTOR = FIXTURES / "test-vector"

__all__ = ["FIXTURES", "TEST_VECTOR", "load_fixture"]


@pytest.fixture
def vector() -> dict:
    return json.loads((TEST_VECTOR / "vector.json").read_text(encoding="utf-8"))


@pytest.fixture
def issuer_key() -> Ed25519Key:
    # A fixed seed keeps signatures reproducible between runs.
    return Ed25519Key(bytes(range(32)))

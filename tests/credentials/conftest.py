"""Shared fixtures for the credentials core tests (no database needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from microcred.credentials import Ed25519Key

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "ob3-fixtures"
TEST_VECTOR = FIXTURES / "test-vector"


def load_fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def vector() -> dict:
    return json.loads((TEST_VECTOR / "vector.json").read_text(encoding="utf-8"))


@pytest.fixture
def issuer_key() -> Ed25519Key:
    # A fixed seed keeps signatures reproducible between runs.
    return Ed25519Key(bytes(range(32)))

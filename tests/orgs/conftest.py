"""People in the admin roles the orgs tests need, on top of tests/conftest.py's org tree."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from microcred.orgs.models import Role, User


@pytest.fixture
def state_admin(org_tree, make_user) -> User:
    return make_user(Role.PROGRAM_ADMIN, org_tree["state"], email="state-admin@example.org")


@pytest.fixture
def lea_admin(org_tree, make_user) -> User:
    """Program admin of Pine County Schools (lea1) only."""
    return make_user(Role.PROGRAM_ADMIN, org_tree["lea1"], email="pine-admin@example.org")


@pytest.fixture
def teacher(org_tree, make_user) -> User:
    return make_user(Role.EARNER, org_tree["school1"], email="teacher@example.org")


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser(email="root@example.org", password="pw-for-tests-1")


@pytest.fixture
def csv_file() -> Callable[..., SimpleUploadedFile]:
    """csv_file("a,b\\n1,2\\n") -> an upload as the browser sends it."""

    def make(text: str | bytes, name: str = "people.csv") -> SimpleUploadedFile:
        data = text.encode() if isinstance(text, str) else text
        return SimpleUploadedFile(name, data, content_type="text/csv")

    return make

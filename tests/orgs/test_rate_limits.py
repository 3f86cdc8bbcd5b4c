"""Failed sign-ins are counted in a cache every web process shares (the database by default),
so a lockout holds whichever process answers; the Django admin has no sign-in form of its own
to get around it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.test import Client

from microcred.orgs.models import User

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
PASSWORD = "pw-for-tests-1"
LOCKED = "Too many failed login attempts. Try again later."


def attempt(client: Client, email: str, password: str):
    return client.post(LOGIN, {"login": email, "password": password})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def cache_rows() -> int:
    table = connection.ops.quote_name(settings.CACHES["default"]["LOCATION"])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # the name is a setting, not input
        return cursor.fetchone()[0]


def test_the_default_cache_is_a_database_table():
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    caches["default"].set("probe", "shared")
    assert cache_rows() == 1, "the test database has the cache table (createcachetable)"


def test_failed_sign_ins_lock_the_account_for_every_client(make_user):
    """Five wrong passwords from one address; then a different client from another address
    (another browser, another web process) is refused even with the right password."""
    user = make_user(email="target@example.org")
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(5):
        response = attempt(attacker, user.email, "wrong guess")
        assert response.status_code == 200 and not signed_in(attacker)
        assert LOCKED not in response.content.decode()
    # The counter lives in the database table, not in this process's memory.
    assert cache_rows() >= 1

    owner = Client(REMOTE_ADDR="198.51.100.20")
    refused = attempt(owner, user.email, PASSWORD)
    assert refused.status_code == 200
    assert LOCKED in refused.content.decode()
    assert not signed_in(owner)

    other = make_user(email="bystander@example.org")
    assert attempt(Client(REMOTE_ADDR="198.51.100.21"), other.email, PASSWORD).status_code == 302


def test_the_admin_sign_in_page_sends_people_to_the_limited_one(make_user):
    admin = User.objects.create_superuser(email="root@example.org", password=PASSWORD)
    client = Client()
    shown = client.get("/admin/login/?next=/admin/")
    assert shown.status_code == 302
    assert shown["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    # Its own form is gone: posting the right password there signs no one in.
    posted = client.post("/admin/login/", {"username": admin.email, "password": PASSWORD})
    assert posted.status_code == 302 and posted["Location"].startswith("/accounts/login/")
    assert not signed_in(client)


def test_guessing_an_admin_password_is_limited_too():
    admin = User.objects.create_superuser(email="root@example.org", password=PASSWORD)
    for n in range(5):
        client = Client(REMOTE_ADDR=f"203.0.113.{n + 1}")  # a new address for each guess
        client.post("/admin/login/", {"username": admin.email, "password": "guess"})
        attempt(client, admin.email, f"guess {n}")
    late = Client(REMOTE_ADDR="198.51.100.99")
    refused = attempt(late, admin.email, PASSWORD)
    assert LOCKED in refused.content.decode()
    assert not signed_in(late)
    assert late.get("/admin/").status_code == 302


def test_a_signed_in_non_staff_user_is_refused_by_the_admin(client, make_user):
    client.force_login(make_user(email="teacher@example.org"))
    assert client.get("/admin/login/").status_code == 403


def test_guessing_the_second_step_code_is_limited_too(org_tree, make_user):
    """Five wrong codes after a right password: the account's second step is locked, from any
    client, even for the right code."""
    from allauth.mfa.totp.internal.auth import TOTP

    from microcred.orgs.models import Role
    from tests.e2e.helpers import totp_code

    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assessor = make_user(Role.ASSESSOR, org_tree["assess"], email="assessor@example.org")
    TOTP.activate(assessor, secret)
    for n in range(5):
        guesser = Client(REMOTE_ADDR=f"203.0.113.{n + 1}")
        attempt(guesser, assessor.email, PASSWORD)
        guesser.post("/accounts/2fa/authenticate/", {"code": f"00000{n}"})
    owner = Client(REMOTE_ADDR="198.51.100.20")
    attempt(owner, assessor.email, PASSWORD)
    refused = owner.post("/accounts/2fa/authenticate/", {"code": totp_code(secret, "rl-owner")})
    assert refused.status_code == 200 and LOCKED in refused.content.decode()
    assert not signed_in(owner)

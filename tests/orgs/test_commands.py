"""The create_user command: first setup and demos."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from microcred.orgs.models import AuditEvent, Role, User


def test_creates_a_user_with_a_role_and_audits_it(org_tree):
    call_command(
        "create_user",
        "Admin@DPI.example",
        "--role",
        Role.PROGRAM_ADMIN,
        "--org",
        "dpi",
        "--password",
        "a-long-Pass-phrase-9",
    )
    user = User.objects.get(email="admin@dpi.example")
    assert user.check_password("a-long-Pass-phrase-9")
    assert user.has_perm("orgs.manage_organization", org_tree["school2"])
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {
        "user.created",
        "membership.added",
    }
    assert AuditEvent.objects.filter(actor__isnull=True).count() == 2  # the system acted


def test_without_a_password_the_person_is_invited(
    org_tree, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("create_user", "t@example.org", "--role", Role.EARNER, "--org", "pine-es")
    assert not User.objects.get(email="t@example.org").has_usable_password()
    assert [m.to for m in mailoutbox] == [["t@example.org"]]


def test_superuser(db):
    call_command("create_user", "root@example.org", "--superuser", "--password", "x-Y-z-12345")
    assert User.objects.get(email="root@example.org").is_superuser


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", Role.EARNER], "Give both --role and --org"),
        (["--role", Role.EARNER, "--org", "nowhere"], "No organization has the slug 'nowhere'"),
        (["--role", Role.PRINCIPAL, "--org", "pine"], "cannot be held at a District (LEA)"),
        ([], "Nothing to do"),
    ],
)
def test_bad_arguments_are_explained_and_change_nothing(org_tree, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("create_user", "t@example.org", *args)
    assert not User.objects.filter(email="t@example.org").exists()

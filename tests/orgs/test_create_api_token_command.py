"""manage.py create_api_token: a token for an integration, its secret printed once."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from microcred.orgs.models import ApiToken, AuditEvent
from microcred.orgs.tokens import user_for_secret


def test_the_secret_printed_acts_for_that_person_and_is_audited(make_user):
    person = make_user(email="hr-sync@district.example")
    out = io.StringIO()
    call_command("create_api_token", "HR-Sync@district.example", name="HR sync", stdout=out)
    secret = out.getvalue().strip()
    assert user_for_secret(secret) == person
    token = ApiToken.objects.get(user=person)
    assert token.name == "HR sync" and secret not in token.key_hash
    assert AuditEvent.objects.filter(action="api_token.created").count() == 1


def test_an_unknown_address_or_a_blank_name_is_refused_and_nothing_is_made(make_user):
    make_user(email="hr-sync@district.example")
    with pytest.raises(CommandError, match="No active user"):
        call_command("create_api_token", "nobody@district.example", name="HR sync")
    with pytest.raises(CommandError, match="Give the token a name"):
        call_command("create_api_token", "hr-sync@district.example", name="  ")
    assert not ApiToken.objects.exists()

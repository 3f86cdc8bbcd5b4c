"""Personal API tokens: make one (the secret is shown once), revoke it, and find the person a
presented token acts for. Only a SHA-256 of each secret is stored.

Writes follow services.py's rules: one transaction each, with its AuditEvent; bad input raises
ValidationError keyed by field."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from .models import ApiToken, User
from .services import record_audit

# Recognisable in logs and secret scanners; the rest is 256 bits from the OS.
PREFIX = "mct_"
MAX_ACTIVE = 10
NAME_MAX = ApiToken._meta.get_field("name").max_length
# A token used many times a minute is written once a minute, not on every request.
LAST_USED_EVERY = timedelta(minutes=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def tokens_of(user: Any) -> QuerySet[ApiToken]:
    """The user's tokens, newest first, revoked ones included (they show when they stopped)."""
    return ApiToken.objects.filter(user=user)


def create_token(user: User, *, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; returns it and its secret, which is never readable again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, such as the tool that will use it."})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": f"Keep the name to {NAME_MAX} characters or fewer."})
    with transaction.atomic():
        # Locking the user row makes two creations at once count each other.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if tokens_of(user).filter(revoked_at__isnull=True).count() >= MAX_ACTIVE:
            raise ValidationError(
                {"name": f"You already have {MAX_ACTIVE} tokens: revoke one you no longer use."}
            )
        secret = PREFIX + secrets.token_urlsafe(32)
        token = ApiToken.objects.create(user=user, name=name, key_hash=digest(secret))
        record_audit(user, "api_token.created", token, data={"name": name})
    return token, secret


def revoke_token(token: ApiToken, *, actor: Any) -> ApiToken:
    """Stop a token from working, at once and for good; revoking twice changes nothing."""
    if not actor.has_perm("orgs.revoke_api_token", token):
        raise PermissionDenied
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            record_audit(actor, "api_token.revoked", locked, data={"name": locked.name})
    return locked


def bearer_secret(request: HttpRequest) -> str | None:
    """The secret of the request's `Authorization: Bearer ...` header ("" for an empty one),
    or None when it carries no bearer header. The one reading of that header, for the API's
    authentication and the plain views that also take a token (uploads, evidence files);
    here rather than in api_auth, so those views need not load ninja."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip()


def user_for_secret(secret: str) -> User | None:
    """The active person an unrevoked token acts for, or None; notes when it was used."""
    if not secret:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=digest(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used is None or now - token.last_used >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token.user

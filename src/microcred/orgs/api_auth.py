"""Bearer-token authentication for the JSON API (`Authorization: Bearer mct_...`), beside the
browser's session.

Routers list it first, `auth=[ApiTokenAuth(), django_auth]`: ninja's session auth checks CSRF
before anything else and answers 403 to a script, which never has the cookie, so the token
must be tried before it. Without the header it steps aside and the session is tried."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from .tokens import bearer_secret, user_for_secret


class ApiTokenAuth(HttpBearer):
    """A token stands for its user: endpoints read `request.user`, as with a session. No CSRF
    check applies, since a browser never sends this header on its own."""

    def __call__(self, request: HttpRequest) -> Any:
        # The header is read as every other route that takes a token reads it (ninja's own
        # reading is replaced); HttpBearer stays the base for the OpenAPI security scheme.
        secret = bearer_secret(request)
        if secret is None:
            return None  # no token: the session is tried next
        return self.authenticate(request, secret)

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_secret(token)
        if user is None:
            # A token was presented and is wrong or revoked: 401 now, rather than falling
            # through to the session's CSRF refusal.
            raise AuthenticationError()
        request.user = user
        return user

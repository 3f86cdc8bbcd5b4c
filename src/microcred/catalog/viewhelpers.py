"""Small pieces the authoring and vetting views share: permission refusals that explain
themselves, safe "back to" addresses, and turning a service's refusal into a message."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from . import rules as catalog_rules


def refuse(request: HttpRequest, perm: str, obj: Any, *, explain: str, back: str) -> HttpResponse:
    """Stop a request the user may not make. Someone who could take this step at another
    moment (a double post, a page left open after the version moved on) gets `explain` on the
    page they came from; anyone else a 403."""
    role_only = catalog_rules.ROLE_ONLY.get(perm)
    if role_only is not None and role_only.test(request.user, obj):
        messages.error(request, explain)
        return redirect(back)
    raise PermissionDenied


def require(request: HttpRequest, perm: str, obj: Any = None) -> None:
    if not request.user.has_perm(perm, obj):
        raise PermissionDenied


def safe_next(request: HttpRequest, default: str) -> str:
    """Where to go after a POST: the posted `next` if it stays on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def report_refusal(request: HttpRequest, error: ValidationError) -> None:
    """A service said no (wrong state, missing reason...): say why, in its words."""
    messages.error(request, " ".join(error.messages))

"""The person's own API tokens: make one (its secret is shown once, on the answer to the form)
and revoke one. Someone else's token answers 404, like a missing one."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import tokens
from .forms import ApiTokenForm, show_service_errors
from .models import ApiToken


def _page(request: HttpRequest, form: ApiTokenForm, **extra: object) -> HttpResponse:
    context = {"form": form, "tokens": tokens.tokens_of(request.user), **extra}
    status = 400 if form.errors else 200
    return render(request, "orgs/api_tokens.html", context, status=status)


@login_required
# A token acts as its owner until revoked: making one needs a recent sign-in or confirmation of
# the password (or second factor), not just a session someone may have left open. Showing the
# page does not.
@reauthentication_required(allow_get=True)
def api_tokens(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, ApiTokenForm())
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, secret = tokens.create_token(request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            # Rendered, not redirected: the secret must not wait in a session or a cookie.
            return _page(request, ApiTokenForm(), created=token, secret=secret)
    return _page(request, form)


@login_required
@require_POST
def revoke_api_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    tokens.revoke_token(token, actor=request.user)
    messages.success(request, f"Revoked “{token.name}”: it no longer works.")
    return redirect("orgs:api_tokens")

"""The issuer admin's list of what their organizations issued: find a credential, open it or
revoke it (revocation itself stays on the credential's own page, views.credential_revoke)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from . import issued

PAGE_SIZE = 25


@login_required
def issued_list(request: HttpRequest) -> HttpResponse:
    if not issued.can_list_issued(request.user):
        raise PermissionDenied
    query = request.GET.get("q", "").strip()[:200]
    revoked = request.GET.get("revoked", issued.Revoked.ANY)
    if revoked not in dict(issued.Revoked.CHOICES):
        revoked = issued.Revoked.ANY
    credentials = issued.issued_by(request.user, query=query, revoked=revoked)
    page = Paginator(credentials, PAGE_SIZE).get_page(request.GET.get("page"))
    filters = {name: value for name, value in (("q", query), ("revoked", revoked)) if value}
    return render(
        request,
        "credentials/issued.html",
        {
            "page": page,
            "rows": [issued.row(credential) for credential in page],
            "query": query,
            "revoked": revoked,
            "revoked_choices": issued.Revoked.CHOICES,
            "filtering": bool(filters),
            "filters": urlencode(filters),
        },
    )

"""Open Badges 2.0 hosted documents (ob2.py), public JSON-LD for older backpacks."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from . import ob2
from .badge import badge_svg
from .models import IssuedCredential, IssuerProfile


def _ld(document: dict) -> JsonResponse:
    response = JsonResponse(
        document, content_type="application/ld+json", json_dumps_params={"indent": 2}
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _public_credential(credential_uuid: UUID) -> IssuedCredential:
    # Here, not at the top: selectors loads the verifier (pyld, jsonschema), which a web process
    # that never serves a credential should not carry (issue 8).
    from . import selectors

    credential = selectors.issued_credential(credential_uuid)
    if credential is None or not credential.public:
        raise Http404("No credential is shared at this address.")
    return credential


def _issuer(slug: str) -> IssuerProfile:
    profile = IssuerProfile.objects.filter(slug=slug).first()
    if profile is None:
        raise Http404("No issuer has this address.")
    return profile


@require_GET
def assertion(request: HttpRequest, credential_uuid: UUID) -> JsonResponse:
    document = ob2.assertion(_public_credential(credential_uuid))
    response = _ld(document)
    if document.get("revoked"):
        response.status_code = 410  # Gone: how OB 2.0 hosted verification says "revoked"
    return response


@require_GET
def badge(request: HttpRequest, credential_uuid: UUID) -> JsonResponse:
    return _ld(ob2.badge_class(_public_credential(credential_uuid)))


@require_GET
def image(request: HttpRequest, credential_uuid: UUID) -> HttpResponse:
    credential = _public_credential(credential_uuid)
    return HttpResponse(badge_svg(credential.document["name"]), content_type="image/svg+xml")


@require_GET
def issuer(request: HttpRequest, slug: str) -> JsonResponse:
    return _ld(ob2.issuer(_issuer(slug)))


@require_GET
def revocations(request: HttpRequest, slug: str) -> JsonResponse:
    return _ld(ob2.revocation_list(_issuer(slug)))

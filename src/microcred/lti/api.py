"""LTI over the API (invariant 8): the platforms of the organizations I run, and the scores
sent back to their gradebooks. Registering stays on the pages (it needs the platform's
values pasted or its dynamic-registration window)."""

# No `from __future__ import annotations`: django-ninja reads these annotations at run time.
from datetime import datetime

from django.http import Http404, HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from microcred.orgs.api_auth import ApiTokenAuth

from . import selectors, services
from .models import LtiPlatform

router = Router(tags=["LTI"], auth=[ApiTokenAuth(), django_auth])


class PlatformOut(Schema):
    id: int
    name: str
    organization: str
    issuer: str
    client_id: str
    deployments: list[str]
    registered_dynamically: bool


class PassbackOut(Schema):
    earner: str
    micro_credential: str
    status: str
    tries: int
    response_code: int | None
    detail: str
    created: datetime
    sent_at: datetime | None


def _forbid_unless_staff(request: HttpRequest) -> None:
    if not request.user.has_perm("lti.view_platforms"):
        raise HttpError(403, "Learning platforms are connected by program staff.")


@router.get("/platforms", response=list[PlatformOut])
def platforms(request: HttpRequest) -> list[PlatformOut]:
    _forbid_unless_staff(request)
    return [
        PlatformOut(
            id=p.pk,
            name=p.name,
            organization=p.organization.slug,
            issuer=p.issuer,
            client_id=p.client_id,
            deployments=[d.deployment_id for d in p.deployments.all()],
            registered_dynamically=p.registered_dynamically,
        )
        for p in selectors.platforms_for(request.user)
    ]


@router.get("/platforms/{platform_id}/passbacks", response=list[PassbackOut])
def passbacks(request: HttpRequest, platform_id: int) -> list[PassbackOut]:
    platform = LtiPlatform.objects.filter(pk=platform_id).select_related("organization").first()
    if platform is None or not services.may_manage_platform(request.user, platform):
        raise Http404("There is no such platform among those you run.")
    return [
        PassbackOut(
            earner=p.launch.user.email,
            micro_credential=p.launch.micro_credential.slug if p.launch.micro_credential else "",
            status=p.status,
            tries=p.tries,
            response_code=p.response_code,
            detail=p.detail,
            created=p.created,
            sent_at=p.sent_at,
        )
        for p in selectors.passbacks_of(platform)[:500]
    ]

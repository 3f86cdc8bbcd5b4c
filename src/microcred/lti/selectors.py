"""Reads of the LTI app: the platforms an admin runs, the courses that launched microcred,
and a course's members (from the platform's Names and Role Provisioning Service) with their
progress on the course's micro-credentials."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from django.db.models import Count, QuerySet

from microcred.catalog import selectors as catalog
from microcred.catalog.models import MicroCredential
from microcred.credentials.models import IssuedCredential
from microcred.earning.selectors import attempts_of
from microcred.orgs import selectors as orgs
from microcred.orgs.models import User

from . import claims
from .models import GradePassback, LtiPlatform, LtiResourceLaunch, LtiUserLink
from .platform_http import TIMEOUT, PlatformError, access_token

NRPS_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGES = 50  # a course of 50 pages of members is not a course; stop rather than loop


def platforms_for(user: Any) -> QuerySet[LtiPlatform]:
    """The registrations of the organizations the user runs."""
    return (
        LtiPlatform.objects.filter(organization__in=orgs.manageable_organizations(user))
        .select_related("organization")
        .prefetch_related("deployments")
        .annotate(launch_count=Count("launches"))
    )


@dataclass(frozen=True)
class Course:
    context_id: str
    title: str
    launches: int


def courses_of(platform: LtiPlatform) -> list[Course]:
    rows = (
        LtiResourceLaunch.objects.filter(platform=platform)
        .exclude(context_id="")
        .values("context_id", "context_title")
        .annotate(n=Count("pk"))
        .order_by("context_title", "context_id")
    )
    seen: dict[str, Course] = {}
    for row in rows:
        if row["context_id"] not in seen:
            seen[row["context_id"]] = Course(row["context_id"], row["context_title"], row["n"])
    return list(seen.values())


def passbacks_of(platform: LtiPlatform) -> QuerySet[GradePassback]:
    return GradePassback.objects.filter(launch__platform=platform).select_related(
        "launch__user", "launch__micro_credential"
    )


@dataclass(frozen=True)
class Progress:
    micro_credential: str
    status: str
    credential: IssuedCredential | None


@dataclass(frozen=True)
class Member:
    name: str
    email: str
    roles: list[str]
    status: str
    user: User | None
    progress: list[Progress]


def _nrps_pages(platform: LtiPlatform, url: str) -> list[dict[str, Any]]:
    token = access_token(platform, [claims.SCOPE_NRPS])
    members: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        try:
            response = requests.get(
                url,
                headers={"Authorization": f"Bearer {token}", "Accept": NRPS_MEDIA_TYPE},
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            raise PlatformError(f"{platform.name} did not send the course's members.") from exc
        if response.status_code != 200:
            raise PlatformError(
                f"{platform.name} refused the list of members (HTTP {response.status_code}).",
                response.status_code,
            )
        try:
            page = response.json().get("members", [])
        except (ValueError, AttributeError) as exc:
            raise PlatformError(f"{platform.name} sent an unreadable list of members.") from exc
        members += [m for m in page if isinstance(m, dict)]
        following = response.links.get("next", {}).get("url")
        if not following:
            break
        url = following
    return members


def course_launches(platform: LtiPlatform, context_id: str) -> QuerySet[LtiResourceLaunch]:
    return LtiResourceLaunch.objects.filter(platform=platform, context_id=context_id)


def course_members(platform: LtiPlatform, context_id: str) -> tuple[str, list[Member]]:
    """(course title, members): PlatformError when the platform does not answer; LookupError
    when no launch from this course offered the service."""
    launches = course_launches(platform, context_id).select_related("micro_credential")
    source = launches.exclude(nrps_url="").first()
    if source is None:
        raise LookupError(context_id)
    mcs = {launch.micro_credential for launch in launches if launch.micro_credential}
    links = dict(LtiUserLink.objects.filter(platform=platform).values_list("sub", "user_id"))
    members = _nrps_pages(platform, source.nrps_url)
    user_ids = {links.get(str(m.get("user_id"))) for m in members} - {None}
    emails = {str(m.get("email", "")).lower() for m in members if m.get("email")}
    users = {u.pk: u for u in User.objects.filter(pk__in=user_ids)}
    by_email = {u.email.lower(): u for u in User.objects.filter(email__in=emails)}
    rows = []
    for m in members:
        user = users.get(links.get(str(m.get("user_id")), -1)) or by_email.get(
            str(m.get("email", "")).lower()
        )
        rows.append(
            Member(
                name=str(m.get("name") or m.get("email") or m.get("user_id") or "?"),
                email=str(m.get("email") or ""),
                roles=sorted(claims.short_roles(m.get("roles"))),
                status=str(m.get("status") or "Active"),
                user=user,
                progress=_progress(user, mcs) if user else [],
            )
        )
    rows.sort(key=lambda r: r.name.lower())
    return source.context_title or context_id, rows


def _progress(user: User, mcs: set[Any]) -> list[Progress]:
    found = []
    for mc in sorted(mcs, key=lambda m: m.slug):
        attempt = attempts_of(user).filter(version__micro_credential=mc).first()
        credential = (
            IssuedCredential.objects.filter(award__earner=user, award__attempt=attempt).first()
            if attempt
            else None
        )
        title = attempt.version.title if attempt else mc.slug
        status = attempt.get_status_display() if attempt else "Not started"
        found.append(Progress(title, str(status), credential))
    return found


CHOICES_SHOWN = 50


def deep_link_choices(query: str = "") -> list[tuple[MicroCredential, str]]:
    """Published MCs a course designer may place, by title (the first 50 matching `query`)."""
    versions = catalog.published_versions().select_related("micro_credential")
    if query:
        versions = versions.filter(title__icontains=query)
    return [(v.micro_credential, v.title) for v in versions.order_by("title")[:CHOICES_SHOWN]]


def chosen_micro_credentials(slugs: list[str]) -> list[tuple[MicroCredential, str]]:
    """The published MCs named by `slugs`, in the order chosen; unknown slugs are left out.
    Looked up by slug, not among the titles shown, which a search narrowed."""
    versions = catalog.published_versions().select_related("micro_credential")
    found = {
        v.micro_credential.slug: (v.micro_credential, v.title)
        for v in versions.filter(micro_credential__slug__in=slugs)
    }
    return [found[slug] for slug in dict.fromkeys(slugs) if slug in found]

"""An earner's public evidence page: the submission that earned a micro-credential, as text.

Evidence stays private (DESIGN.md invariant 6) unless the earners choose otherwise; this is
their choice to show the written parts, the reflection and their time-stamped video notes of
the frozen snapshot. Videos and files are never shown here, published or not: they show
students. The page's address exists from the moment the submission is earned, because every
credential's evidence entry names it (a credential signed before publishing still points to
the right place); until it is published it answers 404 to everyone but the earners.

Reads and the one write (publish or unpublish, audited) live here, like evidence_access;
views translate HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse

from microcred.orgs.services import record_audit

from . import selectors
from .models import Attempt, PublicEvidence, Submission

URL_NAME = "evidence:public"


def page_url(submission: Submission) -> str:
    """The page's absolute address, as credentials carry it (stable: the submission's uuid)."""
    return settings.SITE_URL + reverse(URL_NAME, args=[submission.uuid])


def earned_submission(attempt: Attempt) -> Submission | None:
    """The submission that earned the attempt, or None: an earned attempt takes no further
    submissions, so it is the last one decided."""
    if attempt.status != Attempt.Status.EARNED:
        return None
    return attempt.submissions.filter(status=Submission.Status.DECIDED).order_by("-number").first()


def is_published(submission: Submission) -> bool:
    return PublicEvidence.objects.filter(submission=submission, published=True).exists()


@dataclass(frozen=True)
class PageState:
    """What the attempt page shows next to its publish control."""

    submission: Submission
    published: bool
    path: str  # for links within the site
    address: str  # the full address to share (the one credentials carry)


def state_for(attempt: Attempt) -> PageState | None:
    submission = earned_submission(attempt)
    if submission is None:
        return None
    path = reverse(URL_NAME, args=[submission.uuid])
    return PageState(submission, is_published(submission), path, settings.SITE_URL + path)


@dataclass(frozen=True)
class Note:
    timestamp: str
    note: str
    component: str


@dataclass(frozen=True)
class Part:
    title: str
    kind: str
    text: str
    notes: list[Note]
    files: int  # how many files were submitted here (never shown, only counted)


@dataclass(frozen=True)
class Page:
    submission: Submission
    title: str
    parts: list[Part]
    published: bool
    viewer_is_earner: bool


def page_for(user: Any, submission_uuid: Any) -> Page:
    """The page as `user` may see it: published, or an earner's preview; otherwise the same
    404 as for an address that never existed."""
    submission = (
        Submission.objects.select_related("attempt__version", "attempt__team")
        .filter(uuid=submission_uuid)
        .first()
    )
    if submission is None or earned_submission(submission.attempt) != submission:
        raise Http404("There is no such page.")
    published = is_published(submission)
    member = selectors.is_attempt_member(user, submission.attempt)
    if not published and not member:
        raise Http404("There is no such page.")
    parts = [
        Part(
            title=view.requirement.title,
            kind=view.requirement.get_kind_display(),
            text=view.text,
            notes=[
                Note(
                    annotation.timestamp,
                    annotation.note,
                    annotation.component.title if annotation.component else "",
                )
                for artifact in view.artifacts
                for annotation in artifact.annotations
            ],
            files=len(view.artifacts),
        )
        for view in selectors.submission_evidence(submission)
    ]
    return Page(submission, submission.attempt.version.title, parts, published, member)


@transaction.atomic
def set_published(submission: Submission, *, user: Any, published: bool) -> bool:
    """Publish or unpublish the page; returns whether anything changed (a second post of the
    same choice changes nothing and records nothing). Any earner of the attempt may."""
    attempt = Attempt.objects.select_for_update(of=("self",)).get(pk=submission.attempt_id)
    if not selectors.is_attempt_member(user, attempt):
        raise PermissionDenied("This is not your evidence.")
    if earned_submission(attempt) != submission:
        raise ValidationError(
            "Only the submission that earned this micro-credential can have a public page."
        )
    # The attempt row is locked, so two posts at once cannot both create the row.
    page, _ = PublicEvidence.objects.get_or_create(submission=submission)
    if page.published == published:
        return False
    page.published = published
    page.save(update_fields=["published", "changed_at"])
    action = "earning.evidence.published" if published else "earning.evidence.unpublished"
    record_audit(user, action, page, organization=attempt.school)
    return True

"""Evidence is seen only by the earner and team, assigned assessors, coaches the earner
shared with, and audited admins (DESIGN.md invariant 6); files only through short-lived
links made for one person."""

from __future__ import annotations

import json
import posixpath
import time
import urllib.request
from datetime import timedelta
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from microcred.assessment.models import AssessorProfile, Assignment, CoachingRelationship
from microcred.catalog.models import EvidenceRequirement
from microcred.earning import evidence_access
from microcred.earning.evidence_access import (
    can_view_evidence,
    revoke_share,
    share_with_coach,
    signed_url,
)
from microcred.earning.models import (
    Artifact,
    Attempt,
    EvidenceItem,
    EvidenceShare,
    Submission,
    Team,
    TeamMember,
    Upload,
)
from microcred.orgs.models import AuditEvent, Role

from ..catalog.factories import publish, vary
from . import test_uploads_s3

pytestmark = pytest.mark.django_db

# The moto_server and bucket fixtures of the upload tests, reused as they are.
moto_endpoint = test_uploads_s3.moto_endpoint
bucket = test_uploads_s3.bucket

DATA = bytes(range(256)) * 40  # 10,240 bytes, each position recognisable


def make_upload(
    owner,
    *,
    key: str,
    data: bytes = DATA,
    content_type: str = "video/mp4",
    filename: str = "lesson.mp4",
    backend: str = Upload.Backend.LOCAL,
) -> Upload:
    """A finished upload whose file is in the default storage (as the upload flow leaves it).
    A recording or picture also gets the assessors' copy the worker would make, a stand-in
    holding the same bytes (test_blind_media strips real metadata from real files)."""
    blind_key = ""
    if content_type.split("/", 1)[0] in Upload.BLIND_COPY_FAMILIES:
        stem, extension = posixpath.splitext(key)
        blind_key = f"{stem}.blind{extension}"
    if backend == Upload.Backend.LOCAL:
        default_storage.save(key, ContentFile(data))
        if blind_key:
            default_storage.save(blind_key, ContentFile(data))
    return Upload.objects.create(
        blind_key=blind_key,
        blind_type=content_type if blind_key else "",
        owner=owner,
        key=key,
        backend=backend,
        filename=filename,
        declared_type=content_type,
        size=len(data),
        part_size=len(data),
        max_bytes=10 * len(data),
        status=Upload.Status.COMPLETE,
        content_type=content_type,
    )


class World:
    """An earner's attempt with one video, and everyone around it."""

    def __init__(self, org_tree, make_user) -> None:
        school, other_school = org_tree["school1"], org_tree["school2"]
        author = make_user(Role.PROVIDER_AUTHOR, org_tree["provider"])
        reviewer = make_user(Role.VETTING_REVIEWER, org_tree["state"])
        version = publish(vary(), org_tree["provider"], author, reviewer)
        self.earner = make_user(Role.EARNER, school, email="ana@example.org")
        self.teammate = make_user(Role.EARNER, school, email="teammate@example.org")
        self.invited = make_user(Role.EARNER, school, email="invited@example.org")
        self.other_earner = make_user(Role.EARNER, school, email="other@example.org")
        team = Team.objects.create(name="Grade 3 PLC", school=school, created_by=self.earner)
        TeamMember.objects.create(team=team, user=self.earner, status=TeamMember.Status.ACTIVE)
        TeamMember.objects.create(team=team, user=self.teammate, status=TeamMember.Status.ACTIVE)
        TeamMember.objects.create(team=team, user=self.invited)
        self.attempt = Attempt.objects.create(
            version=version,
            earner=self.earner,
            team=team,
            school=school,
            status=Attempt.Status.SUBMITTED,
        )
        requirement = EvidenceRequirement.objects.filter(version=version).first()
        item = EvidenceItem.objects.create(attempt=self.attempt, requirement=requirement)
        self.upload = make_upload(self.earner, key="evidence/ana/lesson.mp4")
        Artifact.objects.create(evidence=item, upload=self.upload)
        submission = Submission.objects.create(
            attempt=self.attempt, number=1, snapshot={"items": []}, submitted_by=self.earner
        )
        self.assessor = self._assessor(make_user, org_tree, submission, Assignment.Status.ASSIGNED)
        self.declined_assessor = self._assessor(
            make_user, org_tree, submission, Assignment.Status.DECLINED
        )
        self.unassigned_assessor = make_user(Role.ASSESSOR, org_tree["assess"])
        self.coach = make_user(Role.COACH, school, email="coach@example.org")
        self.district_coach = make_user(Role.COACH, org_tree["lea1"], email="lea@example.org")
        self.far_coach = make_user(Role.COACH, other_school, email="far@example.org")
        self.own_coach = make_user(Role.COACH, other_school, email="mentor@example.org")
        CoachingRelationship.objects.create(coach=self.own_coach, earner=self.earner)
        self.superuser = make_user(is_superuser=True, is_staff=True)
        self.state_admin = make_user(Role.PROGRAM_ADMIN, org_tree["state"])
        self.district_admin = make_user(Role.PROGRAM_ADMIN, org_tree["lea1"])

    @staticmethod
    def _assessor(make_user, org_tree, submission, status):
        user = make_user(Role.ASSESSOR, org_tree["assess"])
        profile = AssessorProfile.objects.create(user=user, home_organization=org_tree["assess"])
        Assignment.objects.create(
            submission=submission,
            assessor=profile,
            status=status,
            kind=Assignment.Kind.PRIMARY
            if status == Assignment.Status.ASSIGNED
            else Assignment.Kind.SECOND,
            due_at=timezone.now() + timedelta(days=14),
        )
        return user


@pytest.fixture
def world(org_tree, make_user) -> World:
    return World(org_tree, make_user)


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def fetch(user, url: str, **headers):
    return client_for(user).get(url, headers=headers)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


ALLOWED = ["earner", "teammate", "assessor", "shared_coach", "superuser", "state_admin"]
REFUSED = [
    "other_earner",
    "invited",
    "unassigned_assessor",
    "declined_assessor",
    "coach",
    "far_coach",
    "district_admin",
]


def person(world: World, name: str):
    if name == "shared_coach":
        share_with_coach(world.attempt, world.coach, user=world.earner)
        return world.coach
    return getattr(world, name)


# ---------------------------------------------------------------------------- who may see
@pytest.mark.parametrize("name", ALLOWED)
def test_each_allowed_party_gets_a_link_and_the_file(world, name):
    user = person(world, name)
    assert can_view_evidence(user, world.attempt)
    url = signed_url(user, world.upload)
    response = fetch(user, url)
    assert response.status_code == 200
    assert body(response) == DATA
    assert response["Content-Type"] == "video/mp4"
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
    # The stable address pages link to sends the browser on to a fresh link.
    opened = client_for(user).get(reverse("evidence:open", args=[world.upload.pk, "original"]))
    assert opened.status_code == 302
    assert opened["Location"].startswith(reverse("evidence:file"))


@pytest.mark.parametrize("name", REFUSED)
def test_each_other_party_is_refused(world, name):
    user = getattr(world, name)
    assert not can_view_evidence(user, world.attempt)
    with pytest.raises(PermissionDenied):
        signed_url(user, world.upload)
    opened = client_for(user).get(reverse("evidence:open", args=[world.upload.pk, "original"]))
    assert opened.status_code == 404
    # Even holding the earner's own link, they get nothing.
    assert fetch(user, signed_url(world.earner, world.upload)).status_code == 404


def test_anonymous_gets_no_link(world):
    """No link is made for a visitor. A link made for someone works without a session, as a
    presigned URL does (tests/earning/test_evidence_links.py), for a few minutes."""
    with pytest.raises(PermissionDenied):
        signed_url(mock.Mock(is_authenticated=False, pk=None), world.upload)
    opened = client_for(None).get(reverse("evidence:open", args=[world.upload.pk, "original"]))
    assert opened.status_code == 302 and reverse("account_login") in opened["Location"]


def test_the_rules_permission_follows_the_same_reasons(world):
    assert world.assessor.has_perm("earning.view_evidence", world.attempt)
    assert not world.other_earner.has_perm("earning.view_evidence", world.attempt)
    assert world.teammate.has_perm("earning.share_evidence", world.attempt)
    assert not world.assessor.has_perm("earning.share_evidence", world.attempt)


@pytest.mark.parametrize("name", ["superuser", "state_admin"])
def test_admin_access_is_audited_every_time(world, name):
    admin = getattr(world, name)
    signed_url(admin, world.upload)
    signed_url(admin, world.upload, variant="original")
    events = AuditEvent.objects.filter(action="evidence.admin_access", actor=admin)
    assert events.count() == 2
    event = events.first()
    assert event.target_id == str(world.attempt.pk)
    assert event.organization == world.attempt.school
    assert event.data == {"upload": str(world.upload.pk), "variant": "original"}
    assert can_view_evidence(admin, world.attempt)
    assert events.count() == 3


def test_people_with_their_own_reason_leave_no_admin_audit(world):
    for user in (world.earner, world.teammate, world.assessor):
        signed_url(user, world.upload)
        can_view_evidence(user, world.attempt)
    assert not AuditEvent.objects.filter(action="evidence.admin_access").exists()


def test_an_upload_not_yet_in_evidence_is_its_owners_alone(world):
    loose = make_upload(world.earner, key="evidence/ana/draft.mp4")
    assert fetch(world.earner, signed_url(world.earner, loose)).status_code == 200
    for user in (world.superuser, world.assessor, world.teammate):
        with pytest.raises(PermissionDenied):
            signed_url(user, loose)


# ------------------------------------------------------------------------------- the links
def test_an_expired_link_is_refused_with_a_plain_message(world):
    with mock.patch("time.time", return_value=time.time() - evidence_access.LINK_SECONDS - 5):
        url = signed_url(world.earner, world.upload)
    response = fetch(world.earner, url)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/plain")
    assert "expired" in response.content.decode()


@pytest.mark.parametrize("tamper", ["flip", "reassign", "garbage", "missing"])
def test_a_tampered_link_is_refused(world, tamper):
    url = signed_url(world.earner, world.upload)
    token = url.split("token=", 1)[1]
    holder = world.earner
    if tamper == "flip":
        url = url[:-1] + ("A" if url[-1] != "A" else "B")
    elif tamper == "reassign":
        # Keep the earner's signature but claim the link for someone else.
        payload = {
            "upload": str(world.upload.pk),
            "variant": "original",
            "user": world.other_earner.pk,
        }
        forged = signing.b64_encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
        url = url.replace(token, forged + token[token.index(":") :])
        holder = world.other_earner
    elif tamper == "garbage":
        url = reverse("evidence:file") + "?token=not-a-token"
    else:
        url = reverse("evidence:file")
    response = fetch(holder, url)
    assert response.status_code == 403
    assert "not valid" in response.content.decode()


def test_range_requests_return_the_right_bytes(world):
    url = signed_url(world.earner, world.upload)
    response = fetch(world.earner, url, Range="bytes=100-199")
    assert response.status_code == 206
    assert body(response) == DATA[100:200]
    assert response["Content-Range"] == f"bytes 100-199/{len(DATA)}"
    assert response["Content-Length"] == "100"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"].startswith("inline")
    tail = fetch(world.earner, url, Range="bytes=-10")
    assert tail.status_code == 206 and body(tail) == DATA[-10:]
    open_ended = fetch(world.earner, url, Range=f"bytes={len(DATA) - 5}-")
    assert body(open_ended) == DATA[-5:]
    outside = fetch(world.earner, url, Range=f"bytes={len(DATA) + 10}-")
    assert outside.status_code == 416
    assert outside["Content-Range"] == f"bytes */{len(DATA)}"


def test_documents_download_instead_of_opening(world):
    item = EvidenceItem.objects.get(attempt=world.attempt)
    pdf = make_upload(
        world.earner,
        key="evidence/ana/work.pdf",
        data=b"%PDF-1.7 student work",
        content_type="application/pdf",
        filename="student work.pdf",
    )
    Artifact.objects.create(evidence=item, upload=pdf)
    response = fetch(world.earner, signed_url(world.earner, pdf))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="student work.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_svg_pictures_download_so_their_scripts_never_run_on_our_site(world):
    svg = make_upload(
        world.earner,
        key="evidence/ana/chart.svg",
        data=b"<svg></svg>",
        content_type="image/svg+xml",
        filename="chart",
    )
    response = fetch(world.earner, signed_url(world.earner, svg))
    assert response["Content-Disposition"] == 'attachment; filename="chart"'


def test_assessors_never_see_the_teachers_file_name(world):
    """Scoring is blind (invariant 2): file names often carry the teacher's or school's name."""
    Upload.objects.filter(pk=world.upload.pk).update(filename="Ana Lopez - Pine Elementary.mp4")
    world.upload.refresh_from_db()
    response = fetch(world.assessor, signed_url(world.assessor, world.upload))
    assert response["Content-Disposition"] == 'inline; filename="evidence.mp4"'
    own = fetch(world.earner, signed_url(world.earner, world.upload))
    assert "Ana Lopez" in own["Content-Disposition"]


def test_variants_that_do_not_exist_give_no_link(world):
    assert signed_url(world.earner, world.upload, variant="poster") == ""
    opened = client_for(world.earner).get(
        reverse("evidence:open", args=[world.upload.pk, "poster"])
    )
    assert opened.status_code == 404
    bogus = client_for(world.earner).get(reverse("evidence:open", args=[world.upload.pk, "raw"]))
    assert bogus.status_code == 404
    with pytest.raises(ValueError):
        signed_url(world.earner, world.upload, variant="raw")


def test_poster_and_playable_copies_are_served_with_their_own_types(world):
    default_storage.save("evidence/ana/lesson.poster.jpg", ContentFile(b"\xff\xd8poster"))
    default_storage.save("evidence/ana/lesson.playable.mp4", ContentFile(b"playable"))
    Upload.objects.filter(pk=world.upload.pk).update(
        poster_key="evidence/ana/lesson.poster.jpg",
        playable_key="evidence/ana/lesson.playable.mp4",
        playable_type="video/mp4",
    )
    world.upload.refresh_from_db()
    poster = fetch(world.assessor, signed_url(world.assessor, world.upload, variant="poster"))
    assert body(poster) == b"\xff\xd8poster" and poster["Content-Type"] == "image/jpeg"
    playable = fetch(world.assessor, signed_url(world.assessor, world.upload, variant="playable"))
    assert body(playable) == b"playable" and playable["Content-Type"] == "video/mp4"


def test_media_files_are_not_publicly_routed(world, client):
    assert client.get(f"/media/{world.upload.key}").status_code == 404
    client.force_login(world.earner)
    assert client.get(f"/media/{world.upload.key}").status_code == 404


def test_s3_links_are_presigned_gets_for_the_bucket(world, bucket, moto_endpoint):
    key = "evidence/ana/remote.mp4"
    item = EvidenceItem.objects.get(attempt=world.attempt)
    remote = make_upload(world.earner, key=key, backend=Upload.Backend.S3)
    for stored in (key, remote.blind_key):
        bucket.put_object(Bucket=bucket.bucket, Key=stored, Body=DATA)
    Artifact.objects.create(evidence=item, upload=remote)
    assert signed_url(world.earner, remote).startswith(f"{moto_endpoint}/{bucket.bucket}/{key}?")
    # The assessor's link is to the copy without metadata, never the original.
    url = signed_url(world.assessor, remote)
    assert url.startswith(f"{moto_endpoint}/{bucket.bucket}/{remote.blind_key}?")
    query = parse_qs(urlsplit(url).query)
    assert query["response-content-disposition"] == ['inline; filename="evidence.mp4"']
    # Signature version 2 or 4, the link dies five minutes from now.
    if "X-Amz-Expires" in query:
        assert query["X-Amz-Expires"] == ["300"]
    else:
        assert abs(int(query["Expires"][0]) - (time.time() + 300)) < 30
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == DATA
        assert response.headers["Content-Disposition"].startswith("inline")
    with pytest.raises(PermissionDenied):
        signed_url(world.other_earner, remote)


# ---------------------------------------------------------------------- sharing with coaches
def test_eligible_coaches_are_those_of_the_school_district_and_own_coach(world):
    eligible = set(evidence_access.eligible_coaches(world.attempt))
    assert eligible == {world.coach, world.district_coach, world.own_coach}


def test_sharing_grants_and_revoking_removes_access_at_once(world):
    share = share_with_coach(world.attempt, world.coach, user=world.earner)
    assert share_with_coach(world.attempt, world.coach, user=world.teammate) == share  # twice
    assert EvidenceShare.objects.filter(attempt=world.attempt).count() == 1
    url = signed_url(world.coach, world.upload)
    assert fetch(world.coach, url).status_code == 200
    assert revoke_share(share, user=world.earner) is True
    assert revoke_share(share, user=world.earner) is False
    assert fetch(world.coach, url).status_code == 404  # the link already given stops working
    with pytest.raises(PermissionDenied):
        signed_url(world.coach, world.upload)
    actions = list(
        AuditEvent.objects.filter(action__startswith="evidence.").values_list("action", flat=True)
    )
    assert sorted(actions) == ["evidence.shared", "evidence.unshared"]


def test_sharing_with_someone_who_is_not_an_eligible_coach_changes_nothing(world):
    for user in (world.far_coach, world.other_earner):
        with pytest.raises(ValidationError):
            share_with_coach(world.attempt, user, user=world.earner)
    with pytest.raises(PermissionDenied):
        share_with_coach(world.attempt, world.coach, user=world.assessor)
    assert not EvidenceShare.objects.exists()


def test_shares_page_for_the_earner(world):
    client = client_for(world.earner)
    url = reverse("evidence:shares", args=[world.attempt.uuid])
    page = client.get(url).content.decode()
    assert "<h1>Who can see your evidence</h1>" in page
    assert "coach@example.org" in page and "far@example.org" not in page
    assert reverse("evidence:open", args=[world.upload.pk, "original"]) in page
    response = client.post(url, {"coach": world.coach.pk}, follow=True)
    assert "can now see this evidence" in response.content.decode()
    share = EvidenceShare.objects.get(attempt=world.attempt, revoked_at__isnull=True)
    again = client.post(url, {"coach": world.coach.pk})  # double post: still one share
    assert again.status_code == 302
    assert EvidenceShare.objects.filter(attempt=world.attempt).count() == 1
    response = client.post(url, {"revoke": "1", "share": share.pk}, follow=True)
    assert "can no longer see this evidence" in response.content.decode()
    response = client.post(url, {"revoke": "1", "share": share.pk}, follow=True)
    assert "already cannot see this evidence" in response.content.decode()
    assert client.post(url, {"revoke": "1", "share": "abc"}).status_code == 302


def test_shares_page_refuses_bad_choices_with_a_clear_message(world):
    client = client_for(world.earner)
    url = reverse("evidence:shares", args=[world.attempt.uuid])
    for data in ({"coach": world.far_coach.pk}, {"coach": ""}, {"coach": "x"}):
        response = client.post(url, data)
        assert response.status_code == 200
        page = response.content.decode()
        assert "Your evidence was not shared" in page
        assert ("Choose one of the coaches in the list." in page) or (
            "Choose a coach to share your evidence with." in page
        )
    assert not EvidenceShare.objects.exists()


@pytest.mark.parametrize("name", ["other_earner", "assessor", "coach", "superuser"])
def test_shares_page_is_only_for_the_earner_and_team(world, name):
    client = client_for(getattr(world, name))
    url = reverse("evidence:shares", args=[world.attempt.uuid])
    assert client.get(url).status_code == 404
    assert client.post(url, {"coach": world.coach.pk}).status_code == 404
    assert not EvidenceShare.objects.exists()


def test_shares_page_for_a_teammate_and_for_visitors(world):
    url = reverse("evidence:shares", args=[world.attempt.uuid])
    assert client_for(world.teammate).get(url).status_code == 200
    response = client_for(None).get(url)
    assert response.status_code == 302 and reverse("account_login") in response["Location"]

"""A file a user uploaded is never served as active content from the app's origin (DESIGN.md
invariant 9): one decision (earning.user_files) for the uploader's own links and for evidence
links, a sandbox policy on every answer, and an optional separate origin for user files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.csp import CSP

from microcred.earning import user_files
from microcred.earning.evidence_access import signed_url
from microcred.earning.models import Artifact, EvidenceItem, Upload
from microcred.earning.uploads import selectors

from . import test_evidence_access, test_uploads_s3
from .test_evidence_access import body, client_for, fetch, make_upload
from .test_upload_views import policy_from
from .uploading import Protocol

pytestmark = pytest.mark.django_db

world = test_evidence_access.world
moto_endpoint = test_uploads_s3.moto_endpoint
bucket = test_uploads_s3.bucket

FILES = "https://files.example.org"
SCRIPTED_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="fetch(\'/api/v1/\')">'
    b"<script>document.title = document.cookie</script></svg>"
)
SITE_POLICY = {"default-src": [CSP.SELF], "script-src": [CSP.SELF, CSP.NONCE]}


@pytest.fixture(autouse=True)
def _site_wide_csp(settings):
    """The pages' policy, as settings turn it on: the file answers must keep their own."""
    if "django.middleware.csp.ContentSecurityPolicyMiddleware" not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [
            "django.middleware.csp.ContentSecurityPolicyMiddleware",
            *settings.MIDDLEWARE,
        ]
    settings.SECURE_CSP = SITE_POLICY


def assert_sandboxed(response) -> None:
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def upload_through_the_page(client: Client, user, data: bytes, name: str, capture) -> Upload:
    """Upload as the /uploads/ page's uploader does: create, one signed part, complete."""
    api = Protocol(client)
    token = policy_from(client.get("/uploads/").content.decode(), user).token(user)
    created = api.create(token, name=name, size=len(data), part_size=len(data), type="image/png")
    upload_id = created.json()["uploadId"]
    url = api.sign(upload_id, 1).json()["url"]
    etag = client.put(url, data, content_type="x/y")["ETag"]
    with capture(execute=True):
        assert api.complete(upload_id, [{"PartNumber": 1, "ETag": etag}]).status_code == 200
    return Upload.objects.get(pk=upload_id)


# ------------------------------------------------------------------------- the decision
@pytest.mark.parametrize(
    ("content_type", "inline"),
    [
        ("video/mp4", True),
        ("video/webm", True),
        ("audio/mpeg", True),
        ("image/jpeg", True),
        ("image/png", True),
        ("image/webp", True),
        ("video/mp4; codecs=avc1", True),
        ("image/svg+xml", False),
        ("IMAGE/SVG+XML", False),
        ("text/html", False),
        ("application/xhtml+xml", False),
        ("text/xml", False),
        ("application/xml", False),
        ("text/javascript", False),
        ("application/pdf", False),
        ("text/plain", False),
        ("application/octet-stream", False),
        ("", False),
    ],
)
def test_only_media_and_raster_pictures_open_in_the_browser(content_type, inline):
    assert user_files.opens_inline(content_type) is inline
    expected = "inline" if inline else "attachment"
    assert user_files.disposition(content_type, "x.bin") == f'{expected}; filename="x.bin"'
    assert user_files.disposition(content_type, "x.bin", download=True).startswith("attachment")


# ---------------------------------------------------------------- the uploader's own links
def test_an_svg_with_a_script_uploaded_on_the_page_never_runs_on_our_origin(
    make_user, django_capture_on_commit_callbacks
):
    """Issue 8, finding 1: the list's "view" link served an uploaded SVG inline, as
    image/svg+xml with no policy, so its script ran in whichever signed-in browser opened it."""
    uploader = make_user(email="mallory@example.org")
    client = Client()
    client.force_login(uploader)
    upload = upload_through_the_page(
        client, uploader, SCRIPTED_SVG, "chart.svg", django_capture_on_commit_callbacks
    )
    assert upload.content_type == "image/svg+xml"
    listing = client.get("/uploads/list/").content.decode()
    view_url = unescape(re.search(r'href="(/uploads/files/\?[^"]+)"', listing).group(1))
    admin = make_user(is_superuser=True, is_staff=True)
    response = client_for(admin).get(view_url)
    assert response.status_code == 200
    assert body(response) == SCRIPTED_SVG  # the file itself is unchanged, only never active
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"] == 'attachment; filename="original.svg"'
    assert_sandboxed(response)


def test_the_uploaders_video_still_plays_inline_and_downloads_on_request(make_user, settings):
    owner = make_user(email="inez@example.org")
    upload = make_upload(owner, key="uploads/inez/original.mp4")
    view = Client().get(selectors.file_url(upload, "view"))
    assert view["Content-Disposition"] == 'inline; filename="original.mp4"'
    assert_sandboxed(view)
    ranged = Client().get(selectors.file_url(upload, "view"), headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206 and body(ranged) == test_evidence_access.DATA[:10]
    assert ranged["Content-Disposition"].startswith("inline")
    assert_sandboxed(ranged)
    download = Client().get(selectors.file_url(upload, "download"))
    assert download["Content-Disposition"] == 'attachment; filename="original.mp4"'


def test_the_uploaders_links_to_the_bucket_follow_the_same_decision(make_user, bucket):
    """S3 cannot add a CSP header, and its files come from the bucket's origin, not ours; an
    SVG still downloads there rather than open."""
    owner = make_user(email="inez@example.org")
    key = "uploads/inez/original.svg"
    bucket.put_object(Bucket=bucket.bucket, Key=key, Body=SCRIPTED_SVG)
    upload = make_upload(
        owner,
        key=key,
        content_type="image/svg+xml",
        filename="chart.svg",
        backend=Upload.Backend.S3,
    )
    url = selectors.file_url(upload, "view")
    query = parse_qs(urlsplit(url).query)
    assert query["response-content-disposition"] == ['attachment; filename="original.svg"']
    assert query["response-cache-control"] == ["private, no-store"]
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.read() == SCRIPTED_SVG


def test_a_refused_file_link_is_sandboxed_too(make_user):
    response = Client().get("/uploads/files/?key=x&type=text/html&name=&expires=1&signature=x")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/plain")
    assert_sandboxed(response)


# --------------------------------------------------------------------------- evidence links
@pytest.mark.parametrize(
    ("content_type", "filename", "disposition"),
    [
        ("image/svg+xml", "chart.svg", 'attachment; filename="chart.svg"'),
        ("text/html", "page.html", 'attachment; filename="page.html"'),
        ("application/pdf", "work.pdf", 'attachment; filename="work.pdf"'),
        ("image/png", "board.png", 'inline; filename="board.png"'),
    ],
)
def test_evidence_files_follow_the_same_decision(world, content_type, filename, disposition):
    item = EvidenceItem.objects.get(attempt=world.attempt)
    upload = make_upload(
        world.earner, key=f"evidence/ana/{filename}", content_type=content_type, filename=filename
    )
    Artifact.objects.create(evidence=item, upload=upload)
    response = fetch(world.earner, signed_url(world.earner, upload))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == disposition
    assert_sandboxed(response)


def test_every_evidence_answer_carries_the_sandbox(world):
    url = signed_url(world.earner, world.upload)
    assert_sandboxed(fetch(world.earner, url, Range="bytes=0-9"))
    assert_sandboxed(fetch(world.earner, reverse("evidence:file") + "?token=bogus"))
    assert_sandboxed(fetch(world.other_earner, url))  # 404: someone else's link


def test_pages_keep_the_site_wide_policy(world):
    page = client_for(world.earner).get(reverse("evidence:shares", args=[world.attempt.uuid]))
    assert page.status_code == 200
    assert "sandbox" not in page["Content-Security-Policy"]
    assert "default-src 'self'" in page["Content-Security-Policy"]


# ------------------------------------------------------------------- a separate file origin
@pytest.fixture
def files_origin(settings):
    settings.MICROCRED_USER_CONTENT_ORIGIN = FILES
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "files.example.org"]


def on_files_origin() -> Client:
    """A browser on the file origin: it never carries the app's session cookie."""
    return Client(HTTP_HOST="files.example.org", secure=True)


def test_links_are_built_on_the_file_origin_and_work_there(world, files_origin):
    evidence = signed_url(world.earner, world.upload)
    assert evidence.startswith(f"{FILES}/evidence/files/?token=")
    served = on_files_origin().get(evidence.removeprefix(FILES))
    assert served.status_code == 200 and body(served) == test_evidence_access.DATA
    assert served["Content-Disposition"].startswith("inline")
    assert_sandboxed(served)
    own = selectors.file_url(world.upload, "view")
    assert own.startswith(f"{FILES}/uploads/files/?key=")
    assert on_files_origin().get(own.removeprefix(FILES)).status_code == 200


def test_the_apps_origin_sends_file_requests_to_the_file_origin(world, files_origin):
    """Requests on the app's origin never get the file: they are sent on, unchanged."""
    for url in (signed_url(world.earner, world.upload), selectors.file_url(world.upload)):
        path = url.removeprefix(FILES)
        response = client_for(world.earner).get(path)
        assert response.status_code == 302
        assert response["Location"] == f"{FILES}{path}"
        assert not response.streaming and b"\x00\x01" not in response.content
    # The stable address pages link to hands out a link on the file origin too.
    opened = client_for(world.earner).get(
        reverse("evidence:open", args=[world.upload.pk, "original"])
    )
    assert opened.status_code == 302 and opened["Location"].startswith(f"{FILES}/evidence/")


def test_without_a_file_origin_links_stay_on_the_apps_origin(world, settings):
    settings.MICROCRED_USER_CONTENT_ORIGIN = ""
    assert signed_url(world.earner, world.upload).startswith("/evidence/files/?token=")
    assert selectors.file_url(world.upload).startswith("/uploads/files/?")


def _settings_with(origin: str) -> subprocess.CompletedProcess[str]:
    script = (
        "import json, microcred.settings as s; "
        "print(json.dumps([s.ALLOWED_HOSTS, s.SECURE_CSP['media-src']]))"
    )
    env = {**os.environ, "MICROCRED_USER_CONTENT_ORIGIN": origin}
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )


def test_the_setting_names_an_origin_and_lets_pages_embed_from_it():
    good = _settings_with("https://files.example.org/")
    assert good.returncode == 0, good.stderr
    hosts, media = json.loads(good.stdout)
    assert "files.example.org" in hosts and FILES in media
    for bad in ("files.example.org", "https://files.example.org/media", "ftp://files.example.org"):
        refused = _settings_with(bad)
        assert refused.returncode != 0
        assert "MICROCRED_USER_CONTENT_ORIGIN must be an origin" in refused.stderr

"""Media probing after an upload completes, on small real videos made with PyAV: length,
codecs, poster, a browser-playable copy when the original is not, and duration messages."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest
from django.core.files.storage import default_storage

from microcred.earning import durations, media
from microcred.earning.models import Upload
from microcred.earning.uploads import processing, services
from microcred.earning.uploads.backends import default_backend
from microcred.earning.uploads.policy import UploadPolicy

from .uploading import MiB, small_mp4, split, write_video

POLICY = UploadPolicy(allowed_types=("video/*", "audio/*", "application/pdf"), max_bytes=64 * MiB)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def upload_file(make_user, django_capture_on_commit_callbacks):
    """Send bytes through the upload services (local disk) and run the post-upload task."""
    owner = make_user(email="inez@example.org")

    def send(data: bytes, name: str) -> Upload:
        upload = services.create_upload(
            owner, POLICY, filename=name, declared_type="", size=len(data), part_size=5 * MiB
        )
        backend = default_backend()
        stored = [
            backend.write_part(upload, n, io.BytesIO(piece), len(piece))
            for n, piece in enumerate(split(data, upload.part_size), start=1)
        ]
        claimed = [services.ClaimedPart(p.number, p.etag) for p in stored]
        with django_capture_on_commit_callbacks(execute=True):
            services.complete_upload(upload, claimed)
        upload.refresh_from_db()
        return upload

    return send


def video_bytes(tmp_path: Path, name: str, **options) -> bytes:
    path = tmp_path / name
    write_video(path, **options)
    return path.read_bytes()


def open_stored(key: str):
    return av.open(default_storage.path(key))


def test_a_browser_ready_video_gets_length_codecs_and_a_poster(upload_file, tmp_path):
    upload = upload_file(video_bytes(tmp_path, "lesson.mp4", seconds=3), "lesson.mp4")
    assert upload.content_type == "video/mp4"
    assert upload.probe_status == Upload.ProbeStatus.READY
    assert upload.duration_seconds == pytest.approx(3.0, abs=0.05)
    assert (upload.video_codec, upload.audio_codec) == ("h264", "aac")
    assert (upload.width, upload.height) == (160, 120)
    assert upload.playable_key == ""  # plays as it is
    with default_storage.open(upload.poster_key) as poster:
        assert poster.read(3) == b"\xff\xd8\xff"
    with open_stored(upload.poster_key) as poster:
        assert poster.streams.video[0].codec_context.width == 160


@pytest.mark.parametrize(
    ("name", "options", "content_type", "source_codec"),
    [
        ("phone.mov", {"container": "mov", "codec": "libx265"}, "video/quicktime", "hevc"),
        (
            "camera.avi",
            {"container": "avi", "codec": "mpeg4", "audio": "mp2"},
            "video/x-msvideo",
            "mpeg4",
        ),
        ("h264.mov", {"container": "mov", "codec": "libx264"}, "video/quicktime", "h264"),
    ],
)
def test_a_video_browsers_cannot_play_gets_an_h264_copy(
    upload_file, tmp_path, name, options, content_type, source_codec
):
    upload = upload_file(video_bytes(tmp_path, name, seconds=2, **options), name)
    assert upload.content_type == content_type
    assert upload.video_codec == source_codec
    assert upload.playable_key.endswith("/playable.mp4")
    assert upload.playable_type == "video/mp4"
    assert "plays in every browser" in upload.probe_message
    with open_stored(upload.playable_key) as copy:
        assert copy.streams.video[0].codec_context.codec.canonical_name == "h264"
        assert copy.streams.audio[0].codec_context.codec.canonical_name in {"aac", "mp3"}
        assert copy.duration / av.time_base == pytest.approx(2.0, abs=0.1)
    assert upload.poster_key


def test_the_encoder_for_copies_is_libx264():
    assert media.video_encoder() == ("libx264", "mp4", "aac", "video/mp4")


def test_a_damaged_video_is_flagged_not_crashed_on(upload_file):
    truncated = small_mp4()[:3000]  # the index at the end of the file is missing
    upload = upload_file(truncated, "cut.mp4")
    assert upload.status == Upload.Status.COMPLETE
    assert upload.probe_status == Upload.ProbeStatus.FAILED
    assert "could not read this recording" in upload.probe_message
    assert upload.duration_seconds is None


def test_documents_get_a_checksum_and_no_media_probe(upload_file):
    upload = upload_file(PDF, "student-work.pdf")
    assert upload.content_type == "application/pdf"
    assert upload.probe_status == Upload.ProbeStatus.NOT_MEDIA
    assert len(upload.sha256) == 64


def test_processing_again_replaces_the_earlier_results(upload_file, tmp_path):
    upload = upload_file(video_bytes(tmp_path, "phone.mov", container="mov"), "phone.mov")
    first_poster, first_copy = upload.poster_key, upload.playable_key
    again = processing.process_upload(upload.pk)
    assert (again.poster_key, again.playable_key) == (first_poster, first_copy)
    folder = Path(default_storage.path(first_poster)).parent
    assert sorted(p.name for p in folder.iterdir()) == [
        "original.mov",
        "playable.mp4",
        "poster.jpg",
    ]


def test_duration_messages_name_the_actual_and_the_needed_length():
    assert durations.duration_problem(492, 600, 900) == (
        "This video is 8 min 12 s long; this part needs 10 to 15 minutes."
    )
    assert durations.duration_problem(1000, 600, 900) == (
        "This video is 16 min 40 s long; this part needs 10 to 15 minutes."
    )
    assert durations.duration_problem(45, 90, None, noun="recording") == (
        "This recording is 45 s long; this part needs at least 1 min 30 s."
    )
    assert durations.duration_problem(3600, None, 1800) == (
        "This video is 60 min long; this part needs at most 30 minutes."
    )
    assert durations.duration_problem(599.6, 600, 900) is None  # shown and checked as 10 min
    assert durations.duration_problem(700, 600, 900) is None
    assert durations.duration_problem(None, 600, 900) == (
        "We could not read how long this video is, so we cannot check its length yet."
    )
    assert durations.duration_problem(10, None, None) is None


def test_check_duration_reads_the_probed_upload(upload_file, tmp_path):
    upload = upload_file(video_bytes(tmp_path, "lesson.mp4", seconds=3), "lesson.mp4")
    assert durations.check_duration(upload, 600, 900) == (
        "This video is 3 s long; this part needs 10 to 15 minutes."
    )
    assert durations.check_duration(upload, 1, 10) is None
    upload.probe_status = Upload.ProbeStatus.PENDING
    assert durations.check_duration(upload, 600, 900) == (
        "We are still checking this video's length. Try again in a minute."
    )

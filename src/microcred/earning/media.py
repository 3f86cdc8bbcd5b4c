"""Reading and converting evidence media with PyAV (FFmpeg ships inside its wheel).

Everything here works on file paths and streams packet by packet and frame by frame, so a
15-minute classroom video never sits in memory. Callers (the upload task) decide where files
live. Length checks against a requirement's bounds are in `durations` (no PyAV needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

# What every current browser plays. Containers are named by the subtype of the MIME type
# detected from the file's content ("quicktime" for .mov): FFmpeg calls MP4 and MOV alike.
PLAYABLE_CONTAINERS = {"mp4", "webm"}
PLAYABLE_VIDEO = {"h264", "vp8", "vp9", "av1"}
PLAYABLE_AUDIO = {"aac", "mp3", "opus", "vorbis", "flac"}
PLAYABLE_AUDIO_FILES = {("mpeg", "mp3"), ("mp4", "aac"), ("webm", "opus"), ("wav", "pcm_s16le")}
# Audio that MP4 can carry as is when we remux or transcode the video.
MP4_AUDIO = {"aac", "mp3"}
# H.264 encoders in order of preference (PyAV's wheel ships libx264), then VP9/VP8 in WebM.
ENCODER_PREFERENCE = [
    ("libx264", "mp4", "aac", "video/mp4"),
    ("libopenh264", "mp4", "aac", "video/mp4"),
    ("libvpx-vp9", "webm", "libopus", "video/webm"),
    ("libvpx", "webm", "libopus", "video/webm"),
]
POSTER_MAX_WIDTH = 1280
PLAYABLE_MAX_HEIGHT = 1080
_ATTACHED_PIC = av.stream.Disposition.attached_pic


class MediaError(Exception):
    """The file cannot be read as audio or video."""


@dataclass(frozen=True)
class MediaInfo:
    container: str
    duration_seconds: float | None
    video_codec: str = ""
    audio_codec: str = ""
    width: int | None = None
    height: int | None = None

    @property
    def has_video(self) -> bool:
        return bool(self.video_codec)

    @property
    def is_browser_playable(self) -> bool:
        if self.has_video:
            return (
                self.container in PLAYABLE_CONTAINERS
                and self.video_codec in PLAYABLE_VIDEO
                and (not self.audio_codec or self.audio_codec in PLAYABLE_AUDIO)
            )
        return (self.container, self.audio_codec) in PLAYABLE_AUDIO_FILES


def _open(path: Path, mode: str = "r", **kwargs: Any) -> Any:
    try:
        return av.open(str(path), mode, **kwargs)
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise MediaError(f"FFmpeg could not open the file: {exc}") from exc


def probe(path: Path, container: str) -> MediaInfo:
    """Duration, codecs and picture size. `container` names the format detected from the
    file's content ("mp4", "quicktime", "webm", ...)."""
    with _open(path) as source:
        video, audio = main_streams(source)
        if video is None and audio is None:
            raise MediaError("The file holds no audio or video stream.")
        duration = None
        if source.duration is not None:
            duration = source.duration / av.time_base
        else:
            stream = video or audio
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
        return MediaInfo(
            container=container,
            duration_seconds=duration,
            video_codec=_codec_name(video) if video else "",
            audio_codec=_codec_name(audio) if audio else "",
            width=video.codec_context.width if video else None,
            height=video.codec_context.height if video else None,
        )


def main_streams(source: Any) -> tuple[Any, Any]:
    """The first real video stream and the first audio stream (None where there is none).
    Cover art travels as a one-picture "video" stream marked as an attached picture: it is
    never the recording (and it may be a photo of the teacher), so it is skipped."""
    videos = [s for s in source.streams.video if not s.disposition & _ATTACHED_PIC]
    audios = source.streams.audio
    return (videos[0] if videos else None), (audios[0] if audios else None)


def _codec_name(stream: Any) -> str:
    # The format's name ("mp3"), not the decoder's ("mp3float").
    return stream.codec_context.codec.canonical_name


def poster_time(duration_seconds: float | None) -> float:
    """A tenth of the way in (past fade-ins and black first frames), at least 1 s."""
    if not duration_seconds:
        return 0.0
    return min(max(1.0, duration_seconds / 10), duration_seconds / 2)


def make_poster(path: Path, out_path: Path, at_seconds: float) -> None:
    """Write one JPEG frame from about `at_seconds` into the video."""
    with _open(path) as source:
        stream = main_streams(source)[0]
        if stream is None:
            raise MediaError("The file holds no video to take a poster from.")
        stream.thread_type = "AUTO"
        if at_seconds and stream.time_base:
            source.seek(int(at_seconds / stream.time_base), stream=stream, backward=True)
        frame = None
        for frame in source.decode(stream):
            if frame.time is None or frame.time >= at_seconds:
                break
        if frame is None:
            raise MediaError("The video has no picture to take a poster from.")
        width, height = _fit(frame.width, frame.height, max_width=POSTER_MAX_WIDTH)
        encoder = av.CodecContext.create("mjpeg", "w")
        encoder.width, encoder.height = width, height
        encoder.pix_fmt = "yuvj420p"
        encoder.time_base = Fraction(1, 25)
        picture = frame.reformat(width=width, height=height, format="yuvj420p")
        packets = [*encoder.encode(picture), *encoder.encode(None)]
    out_path.write_bytes(b"".join(bytes(p) for p in packets))


def _fit(width: int, height: int, *, max_width: int = 0, max_height: int = 0) -> tuple[int, int]:
    """Scale down to the limits, keeping the aspect ratio; even sizes, as H.264 needs."""
    scale = 1.0
    if max_width and width > max_width:
        scale = max_width / width
    if max_height and height * scale > max_height:
        scale = max_height / height
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def video_encoder() -> tuple[str, str, str, str]:
    """(video encoder, container, audio encoder, MIME type) for browser-playable copies: the
    first of ENCODER_PREFERENCE this FFmpeg build has."""
    for choice in ENCODER_PREFERENCE:
        try:
            av.codec.Codec(choice[0], "w")
        except av.error.FFmpegError:
            continue
        except ValueError:
            continue
        return choice
    raise MediaError("This FFmpeg build has no H.264, VP9 or VP8 encoder.")


def playable_format(info: MediaInfo) -> tuple[str, str]:
    """(file suffix, MIME type) of the copy make_playable writes for this media."""
    _, container, _, mime = video_encoder()
    if not info.has_video:
        mime = mime.replace("video/", "audio/")
    return f".{container}", mime


def make_playable(path: Path, out_path: Path, info: MediaInfo) -> None:
    """Write a copy every browser plays: H.264/AAC in MP4 (or VP9/Opus in WebM when no H.264
    encoder exists). Streams that are already fine are copied packet by packet; the others are
    decoded and re-encoded frame by frame."""
    encoder, container, audio_encoder, _ = video_encoder()
    copy_video = info.video_codec == "h264" and container == "mp4"
    copy_audio = (info.audio_codec in MP4_AUDIO and container == "mp4") or (
        info.audio_codec == "opus" and container == "webm"
    )
    # faststart puts the index first, so playback starts before the whole file has loaded.
    options = {"movflags": "+faststart"} if container == "mp4" else {}
    with (
        _open(path) as source,
        _open(out_path, "w", format=container, options=options) as target,
    ):
        routes: dict[int, _Route] = {}
        vin, ain = main_streams(source)
        if vin is not None:
            vin.thread_type = "AUTO"
            routes[vin.index] = _video_route(vin, target, encoder, copy=copy_video)
        if ain is not None:
            routes[ain.index] = _audio_route(ain, target, audio_encoder, copy=copy_audio)
        _pump(source, target, routes)


def _pump(source: Any, target: Any, routes: dict[int, _Route]) -> None:
    """Send the routed streams' packets through, one at a time, then flush the encoders."""
    for packet in source.demux(*[source.streams[i] for i in routes]):
        route = routes[packet.stream.index]
        if packet.dts is None:
            continue  # the demuxer's end-of-stream marker
        route.push(packet, target)
    for route in routes.values():
        route.flush(target)


# The FFmpeg muxer for each container a browser plays as it is (the subtype of the detected
# MIME type, as in PLAYABLE_CONTAINERS and PLAYABLE_AUDIO_FILES).
STRIP_MUXERS = {"mp4": "mp4", "webm": "webm", "mpeg": "mp3", "wav": "wav"}


def strip_metadata(path: Path, out_path: Path, container: str) -> None:
    """Copy the recording into the same container with nothing but its picture and sound:
    no global or stream tags (title, artist, comment, GPS location, device make and model,
    creation time), no chapters, no cover art, attachments, subtitle or data streams, since
    any of them can name the teacher or their school (DESIGN.md invariant 2). Packets are
    copied as they are, one at a time: nothing is re-encoded, nothing held in memory.

    FFmpeg copies no tags by itself: a new output starts with empty metadata, and streams
    made from a template take only its codec parameters (their display matrix, so phone
    videos keep their rotation), so leaving tags out here is enough."""
    muxer = STRIP_MUXERS.get(container)
    if muxer is None:
        raise MediaError(f"No metadata-free copy is made in the {container} container.")
    # bitexact: not even FFmpeg's own version tag; faststart: the index first, so the
    # assessor's player starts before the whole file has loaded.
    options = {"fflags": "+bitexact"}
    if muxer == "mp4":
        options["movflags"] = "+faststart"
    with _open(path) as source, _open(out_path, "w", format=muxer, options=options) as target:
        routes = {
            stream.index: _Route(target.add_stream_from_template(stream), copy=True)
            for stream in main_streams(source)
            if stream is not None
        }
        if not routes:
            raise MediaError("The file holds no audio or video stream.")
        _pump(source, target, routes)


class _Route:
    """One input stream's way into the output: packet copy or decode/encode."""

    def __init__(self, out_stream: Any, *, copy: bool, size: tuple[int, int] | None = None):
        self.out = out_stream
        self.copy = copy
        self.size = size

    def push(self, packet: Any, target: Any) -> None:
        if self.copy:
            packet.stream = self.out
            target.mux(packet)
            return
        for frame in packet.decode():
            self._encode(frame, target)

    def _encode(self, frame: Any, target: Any) -> None:
        if self.size is not None:
            frame = frame.reformat(width=self.size[0], height=self.size[1], format="yuv420p")
        target.mux(self.out.encode(frame))

    def flush(self, target: Any) -> None:
        if not self.copy:
            target.mux(self.out.encode(None))


def _video_route(vin: Any, target: Any, encoder: str, *, copy: bool) -> _Route:
    if copy:
        return _Route(target.add_stream_from_template(vin), copy=True)
    rate = vin.average_rate or vin.guessed_rate or Fraction(30)
    out = target.add_stream(encoder, rate=rate)
    size = _fit(vin.codec_context.width, vin.codec_context.height, max_height=PLAYABLE_MAX_HEIGHT)
    out.width, out.height = size
    out.pix_fmt = "yuv420p"
    out.time_base = vin.time_base
    if encoder == "libx264":
        # Classroom video: quality that keeps faces and whiteboards legible, a fast preset so
        # a 15-minute lesson converts in minutes on two cores.
        out.options = {"crf": "23", "preset": "veryfast"}
    return _Route(out, copy=False, size=size)


class _AudioRoute(_Route):
    """Re-encoded audio: resampled into the encoder's frame size, timed by sample count."""

    FRAME_SIZES = {"aac": 1024, "libopus": 960}

    def __init__(self, out_stream: Any, encoder: str) -> None:
        super().__init__(out_stream, copy=False)
        self.rate = out_stream.codec_context.sample_rate
        self.resampler = av.AudioResampler(
            format="fltp", layout="stereo", rate=self.rate, frame_size=self.FRAME_SIZES[encoder]
        )
        self.samples = 0

    def _encode(self, frame: Any, target: Any) -> None:
        for chunk in self.resampler.resample(frame):
            self._encode_chunk(chunk, target)

    def _encode_chunk(self, chunk: Any, target: Any) -> None:
        chunk.pts = self.samples
        chunk.time_base = Fraction(1, self.rate)
        self.samples += chunk.samples
        target.mux(self.out.encode(chunk))

    def flush(self, target: Any) -> None:
        for chunk in self.resampler.resample(None):
            self._encode_chunk(chunk, target)
        super().flush(target)


def _audio_route(ain: Any, target: Any, encoder: str, *, copy: bool) -> _Route:
    if copy:
        return _Route(target.add_stream_from_template(ain), copy=True)
    rate = 48000 if encoder == "libopus" else (ain.codec_context.sample_rate or 48000)
    out = target.add_stream(encoder, rate=rate)
    out.layout = "stereo"
    return _AudioRoute(out, encoder)

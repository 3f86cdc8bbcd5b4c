"""Lengths of audio and video evidence in words, and the check against a requirement's bounds.

Kept apart from `media` so web processes can use it without loading PyAV and FFmpeg.
"""

from __future__ import annotations

from .models import Upload


def format_duration(seconds: float) -> str:
    """492 -> "8 min 12 s"; 600 -> "10 min"; 42 -> "42 s"."""
    whole = round(seconds)
    minutes, secs = divmod(whole, 60)
    if minutes and secs:
        return f"{minutes} min {secs} s"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def _bound(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    if secs:
        return format_duration(seconds)
    return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"


def describe_bounds(min_seconds: int | None, max_seconds: int | None) -> str:
    """ "10 to 15 minutes", "at least 5 minutes", "at most 90 s"."""
    if min_seconds and max_seconds:
        if min_seconds % 60 == 0 and max_seconds % 60 == 0:
            return f"{min_seconds // 60} to {_bound(max_seconds)}"
        return f"{_bound(min_seconds)} to {_bound(max_seconds)}"
    if min_seconds:
        return f"at least {_bound(min_seconds)}"
    if max_seconds:
        return f"at most {_bound(max_seconds)}"
    return ""


def duration_problem(
    duration_seconds: float | None,
    min_seconds: int | None,
    max_seconds: int | None,
    *,
    noun: str = "video",
) -> str | None:
    """A message when the length is outside the bounds (compared in whole seconds, as shown)."""
    if not min_seconds and not max_seconds:
        return None
    if duration_seconds is None:
        return f"We could not read how long this {noun} is, so we cannot check its length yet."
    whole = round(duration_seconds)
    if (min_seconds and whole < min_seconds) or (max_seconds and whole > max_seconds):
        return (
            f"This {noun} is {format_duration(whole)} long; this part needs "
            f"{describe_bounds(min_seconds, max_seconds)}."
        )
    return None


def check_duration(upload: Upload, min_seconds: int | None, max_seconds: int | None) -> str | None:
    """The evidence rule for a requirement's length bounds, on a probed upload: a message
    naming the actual and the needed length, or None when it fits (or nothing is required)."""
    if not min_seconds and not max_seconds:
        return None
    noun = "video" if upload.video_codec else "recording"
    if upload.probe_status == Upload.ProbeStatus.PENDING:
        return f"We are still checking this {noun}'s length. Try again in a minute."
    return duration_problem(upload.duration_seconds, min_seconds, max_seconds, noun=noun)

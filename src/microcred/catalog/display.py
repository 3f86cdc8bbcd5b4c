"""How catalog facts are worded for people: file types, recording lengths, point ranges.

Shared by the authoring forms (choices) and the template filters (pages), so a file type or a
duration reads the same on the editor and on the page an earner sees.
"""

from __future__ import annotations

from decimal import Decimal

# In the order an author scans them: documents, images, video, audio.
FILE_TYPE_CHOICES: list[tuple[str, str]] = [
    ("application/pdf", "PDF (.pdf)"),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word document (.docx)",
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "PowerPoint slides (.pptx)",
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel spreadsheet (.xlsx)",
    ),
    ("text/plain", "Plain text (.txt)"),
    ("image/jpeg", "JPEG photo (.jpg)"),
    ("image/png", "PNG image (.png)"),
    ("video/mp4", "MP4 video (.mp4)"),
    ("video/quicktime", "QuickTime video (.mov)"),
    ("video/webm", "WebM video (.webm)"),
    ("audio/mpeg", "MP3 audio (.mp3)"),
    ("audio/mp4", "M4A audio (.m4a)"),
    ("audio/wav", "WAV audio (.wav)"),
    ("audio/webm", "WebM audio (.weba)"),
    ("audio/ogg", "Ogg audio (.ogg)"),
]
FILE_TYPE_LABELS: dict[str, str] = dict(FILE_TYPE_CHOICES)


def file_type_label(mime: str) -> str:
    return FILE_TYPE_LABELS.get(mime, mime)


def minutes_from_seconds(seconds: int | None) -> Decimal | None:
    """Authors think of recordings in minutes; the catalog stores seconds."""
    if seconds is None:
        return None
    minutes = (Decimal(seconds) / 60).quantize(Decimal("0.01")).normalize()
    # 630 s reads as 10.5 and 600 s as 10 (not 10.00, nor the 1E+1 normalize gives).
    return Decimal(format(minutes, "f"))


def seconds_from_minutes(minutes: Decimal | None) -> int | None:
    if minutes is None:
        return None
    return int((minutes * 60).to_integral_value())


def format_duration(seconds: int | None) -> str:
    """600 -> '10 minutes', 90 -> '1 minute 30 seconds'."""
    if seconds is None:
        return ""
    minutes, rest = divmod(int(seconds), 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if rest or not minutes:
        parts.append(f"{rest} second{'s' if rest != 1 else ''}")
    return " ".join(parts)

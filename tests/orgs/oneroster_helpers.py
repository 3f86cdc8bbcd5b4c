"""Building OneRoster zips for the tests: the sample roster, with files changed or left out."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

SAMPLE = Path(__file__).parent / "fixtures" / "oneroster" / "sample"


def sample_files() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(SAMPLE.glob("*.csv"))}


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def to_csv(rows: list[dict[str, str]], header: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, header or list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def roster_zip(
    changes: dict[str, str | None] | None = None, *, files: dict[str, str] | None = None
) -> bytes:
    """The sample as a zip; `changes` replaces files by name (None leaves one out)."""
    contents: dict[str, str | None] = {**(files or sample_files()), **(changes or {})}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in contents.items():
            if text is not None:
                archive.writestr(name, text)
    return buffer.getvalue()


def edit_rows(name: str, edit, files: dict[str, str] | None = None) -> str:
    """The sample's file `name` with edit(rows) applied (edit changes the list in place)."""
    text = (files or sample_files())[name]
    header = next(csv.reader(io.StringIO(text)))
    rows = rows_of(text)
    edit(rows)
    return to_csv(rows, header)

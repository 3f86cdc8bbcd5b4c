"""The educator's printable transcript: their record as a PDF, rendered with fpdf2.

A Unicode font (DejaVu Sans, which Debian ships as fonts-dejavu) prints any name; without
it the core Helvetica font takes only Latin-1, so text is first made Latin-1-safe (accents
survive, curly quotes become straight ones, anything else a question mark) instead of
failing on a name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from django.utils import timezone
from fpdf import FPDF

from .record import Record

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_TO_LATIN1 = str.maketrans(
    {
        "\u201c": '"',  # curly double quotes
        "\u201d": '"',
        "\u2018": "'",  # curly single quotes
        "\u2019": "'",
        "\u2013": "-",  # en and em dashes
        "\u2014": "-",
        "\u2026": "...",
        "\u2713": "*",  # check mark
    }
)


def latin1_safe(text: str) -> str:
    return text.translate(_TO_LATIN1).encode("latin-1", "replace").decode("latin-1")


class _Transcript(FPDF):
    def __init__(self, font_dir: Path = FONT_DIR) -> None:
        super().__init__(format="Letter")
        self.family, self.clean = self._fonts(font_dir)
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(auto=True, margin=18)

    def _fonts(self, font_dir: Path) -> tuple[str, Callable[[str], str]]:
        regular, bold = font_dir / "DejaVuSans.ttf", font_dir / "DejaVuSans-Bold.ttf"
        if regular.is_file():
            self.add_font("DejaVu", "", str(regular))
            self.add_font("DejaVu", "B", str(bold if bold.is_file() else regular))
            return "DejaVu", str
        return "Helvetica", latin1_safe

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(self.family, "", 8)
        self.cell(0, 6, self.clean(f"microcred transcript · page {self.page_no()} of {{nb}}"))

    def heading(self, text: str, size: int = 13) -> None:
        self.ln(3)
        self.set_font(self.family, "B", size)
        self.multi_cell(0, 7, self.clean(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, "", 10)

    def para(self, text: str) -> None:
        self.set_font(self.family, "", 10)
        self.multi_cell(0, 5.5, self.clean(text), new_x="LMARGIN", new_y="NEXT")

    def grid(self, header: list[str], rows: list[list[str]], widths: tuple[int, ...]) -> None:
        self.set_font(self.family, "", 9)
        with self.table(col_widths=widths, line_height=5, first_row_as_headings=True) as table:
            for values in [header, *rows]:
                line = table.row()
                for value in values:
                    line.cell(self.clean(value))


def _date(day: date) -> str:
    return f"{day:%b} {day.day}, {day:%Y}"


def render(record: Record, *, font_dir: Path = FONT_DIR) -> bytes:
    """The transcript of `record` as PDF bytes."""
    pdf = _Transcript(font_dir)
    educator = record.educator
    name = educator.full_name or educator.email
    pdf.set_title(pdf.clean(f"Transcript of {name}"))
    pdf.set_author("microcred")
    pdf.set_lang("en")
    pdf.add_page()
    pdf.heading("Transcript of micro-credentials", 16)
    pdf.para(f"{name} ({educator.email})")
    pdf.para(
        f"Prepared on {_date(timezone.localdate())}. Each credential can be verified at its "
        "own page; revoked credentials are listed and marked."
    )

    progress = record.progress
    if progress is not None:
        pdf.heading("License renewal")
        area = f" ({progress.license.area})" if progress.license.area else ""
        pdf.para(
            f"License {progress.license.number}{area}, cycle {_date(progress.cycle.starts_on)} "
            f"to {_date(progress.cycle.ends_on)}: {progress.sentence}. {progress.status}."
        )

    pdf.heading("Credentials")
    if record.credentials:
        pdf.grid(
            ["Credential", "Kind", "Issued", "Issuer", "Status"],
            [
                [
                    line.title,
                    line.kind,
                    _date(line.issued_on),
                    line.issuer,
                    line.state_label.upper() if line.revoked else line.state_label,
                ]
                for line in record.credentials
            ],
            (62, 26, 24, 40, 22),
        )
    else:
        pdf.para("No credentials yet.")

    pdf.heading("What the credentials earned")
    totals = [f for f in record.figures.values() if f.lines]
    if totals:
        pdf.para(
            "Net totals (revocations subtracted; unfunded stipends not counted): "
            + "; ".join(f"{f.label}: {f.total}" for f in totals)
            + "."
        )
        pdf.grid(
            ["Earned", "For", "What", "Figure", "Policy", "Status"],
            [
                [
                    _date(line.earned_on),
                    line.title + (" (reversal)" if line.reversal else ""),
                    line.kind_label,
                    line.figure,
                    f"{line.policy}, {line.recognizer}",
                    line.status_label,
                ]
                for line in record.ledger_lines
            ],
            (22, 40, 32, 22, 34, 24),
        )
    else:
        pdf.para("Nothing recorded yet.")
    if record.roles:
        pdf.heading("Roles the credentials qualify for")
        pdf.para(", ".join(record.roles))
    return bytes(pdf.output())

"""The badge picture of an achievement: a round badge with the title's initials.

One design, drawn two ways: as SVG (embedded in every credential's achievement, and the base
of a baked SVG) and as PNG with Pillow (the base of a baked PNG, for sites that take no SVG).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from PIL import Image

SIZE = 256
BLUE = "#1d4f91"
WHITE = "#ffffff"
OUTER_RADIUS = 120
RING_RADIUS = 104
RING_WIDTH = 6
FONT_SIZE = 64


def initials(title: str) -> str:
    """Up to three capitals from the title's words ("MC" when it has none to give)."""
    letters = "".join(word[0] for word in title.split() if word[:1].isalnum())[:3].upper()
    return letters or "MC"


def badge_svg(title: str, inside: str = "") -> str:
    """The badge as an SVG document; `inside` is markup placed first inside the root (the
    baked credential)."""
    label = escape(title, {'"': "&quot;"})
    namespaces = ' xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' if inside else ""
    centre = SIZE // 2
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg"{namespaces} width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}" role="img" aria-label="{label}">{inside}'
        f'<circle cx="{centre}" cy="{centre}" r="{OUTER_RADIUS}" fill="{BLUE}"/>'
        f'<circle cx="{centre}" cy="{centre}" r="{RING_RADIUS}" fill="none" stroke="{WHITE}" '
        f'stroke-width="{RING_WIDTH}"/>'
        f'<text x="{centre}" y="150" text-anchor="middle" font-family="sans-serif" '
        f'font-size="{FONT_SIZE}" font-weight="bold" fill="{WHITE}">'
        f"{escape(initials(title))}</text></svg>"
    )


def badge_png(title: str) -> Image.Image:
    """The same badge as a picture (RGBA, transparent around the circle)."""
    # Pillow is imported here, not at the top: every credential's SVG badge comes from this
    # module, and web processes that never bake a PNG should not carry Pillow (issue 8).
    from PIL import Image, ImageDraw, ImageFont

    picture = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(picture)
    centre = SIZE // 2

    def circle(radius: int, **style: object) -> None:
        box = (centre - radius, centre - radius, centre + radius, centre + radius)
        draw.ellipse(box, **style)  # type: ignore[arg-type]

    circle(OUTER_RADIUS, fill=BLUE)
    circle(RING_RADIUS, outline=WHITE, width=RING_WIDTH)
    font = ImageFont.load_default(size=FONT_SIZE)
    draw.text((centre, centre), initials(title), fill=WHITE, font=font, anchor="mm")
    return picture

"""What every printable document shares: the font that covers the names people have."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path

from fpdf import FPDF

#: Debian's fonts-dejavu-core: covers the names tutors actually have.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def latin1(text: str) -> str:
    """For the built-in PDF font only: accents dropped where Latin-1 has no letter."""
    if all(ord(c) < 256 for c in text):
        return text
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if ord(c) < 256 and not unicodedata.combining(c)) or "?"


def body_font(pdf: FPDF) -> tuple[str, Callable[[str], str] | None]:
    """Add DejaVu Sans (regular and bold) as "Body" and return its family, or, where it is not
    installed, the built-in Helvetica and the function that makes text printable in it."""
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if regular.exists() and bold.exists():
        pdf.add_font("Body", "", str(regular))
        pdf.add_font("Body", "B", str(bold))
        return "Body", None
    return "Helvetica", latin1

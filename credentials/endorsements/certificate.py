"""The QR code of an endorsement's page, and its printable certificate (PDF).

The certificate is a pointer, not the proof: it says that the live status is on the page its
QR code opens, so an edited or out-of-date printout cannot pass for a valid endorsement.
"""

from __future__ import annotations

import io

import segno
from fpdf import FPDF

from credentials.endorsements.models import Endorsement
from credentials.endorsements.services import PublicStatus
from lms.accounts.services import is_erased
from lms.platform.pdf import body_font


def qr_svg(url: str) -> str:
    """A QR code of ``url`` as a small, self-contained SVG (medium error correction)."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        out, kind="svg", scale=4, border=2, xmldecl=False, svgns=True,
        title="QR code of the endorsement's verification page", svgclass=None,
        lineclass=None)
    return out.getvalue().decode()


class _Certificate(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="landscape", format="A4")
        self.family, fold = body_font(self)
        self.clean = fold or str
        self.set_auto_page_break(False)
        self.set_title("School-Led Tutor endorsement")
        self.set_creator("Tutor Endorsement Platform")

    def text_line(self, text: str, size: float, *, bold: bool = False, gap: float = 2) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, self.clean(text), align="C")
        self.ln(gap)


def certificate_pdf(endorsement: Endorsement, status: PublicStatus, page_url: str,
                    issuer_name: str) -> bytes:
    pdf = _Certificate()
    pdf.add_page()
    pdf.set_draw_color(29, 112, 184)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_y(26)
    pdf.text_line(issuer_name, 14)
    pdf.text_line("This certifies that", 12, gap=4)
    pdf.text_line("(name erased)" if is_erased(endorsement.user) else endorsement.user.name,
                  28, bold=True, gap=6)
    pdf.text_line("is endorsed as a School-Led Tutor", 14)
    pdf.text_line(f"{endorsement.pathway.short_label} pathway, {endorsement.phase.label} phase",
                  16, bold=True, gap=6)
    pdf.text_line(f"Issued {endorsement.issued_at:%-d %B %Y} · valid until "
                  f"{endorsement.valid_until:%-d %B %Y}", 11, gap=8)
    qr = segno.make(page_url, error="m")
    image = io.BytesIO()
    qr.save(image, kind="png", scale=8, border=2)
    image.seek(0)
    pdf.image(image, x=123.5, y=pdf.get_y(), w=50, h=50)
    pdf.set_y(pdf.get_y() + 54)
    pdf.text_line("The live status of this endorsement is on its page, not on this paper.", 11,
                  bold=True)
    pdf.text_line(f"Scan the code or visit {page_url}", 10)
    pdf.text_line(f"Credential id: {endorsement.public_id} · status when printed: "
                  f"{status.headline}", 9)
    return bytes(pdf.output())

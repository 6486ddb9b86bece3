"""The account as a PDF, for the DSL to attach to the record in the school's own system."""

from __future__ import annotations

from fpdf import FPDF

from lms.platform.pdf import body_font
from lms.safeguarding.models import Concern
from lms.safeguarding.services import account_of, details_of


def _when(moment) -> str:
    from lms.platform.clock import LONDON

    return f"{moment.astimezone(LONDON):%-d %B %Y, %H:%M}" if moment else "-"


def account_pdf(concern: Concern) -> bytes:
    account = account_of(concern)
    pdf = FPDF(format="A4")
    pdf.set_title(f"Safeguarding concern {concern.reference}")
    family, fold = body_font(pdf)
    text = fold or (lambda value: value)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()

    def line(value: str, size: int = 11, *, bold: bool = False, gap: float = 2) -> None:
        pdf.set_font(family, "B" if bold else "", size)
        pdf.multi_cell(0, size * 0.5, text(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    line(f"Safeguarding concern {concern.reference}", 16, bold=True, gap=4)
    line("CONFIDENTIAL: for the school's safeguarding record only.", 10, bold=True, gap=4)
    for label, value in (
            ("School", concern.school.name), ("Kind", concern.kind.label),
            ("Category", concern.category.label),
            ("Raised", _when(concern.raised_at)), ("Told", _when(concern.told_at)),
            ("Acknowledged", _when(concern.acknowledged_at)),
            ("Reported by", account.get("reporter") or "-"),
            ("Pupil", account.get("pupil") or "-"),
            ("About", account.get("subject") or "-"),
            ("Raised from", account.get("raised_from") or "-"),
            ("When it happened", account.get("when") or "-"),
            ("Immediate danger", "Yes" if concern.immediate_danger else "No")):
        if value != "-" or label in ("Raised", "Told"):
            line(f"{label}: {value}", 11, gap=1)
    pdf.ln(3)
    line("What was seen or heard, in the reporter's words", 12, bold=True)
    line(account.get("account") or "(purged)", 11, gap=4)
    line("Chronology", 12, bold=True)
    for entry in concern.entries:
        heading = f"{_when(entry.at)} - {entry.kind.label}"
        if entry.referral_to is not None:
            heading += f" ({entry.referral_to.label})"
        if entry.on is not None:
            heading += f", on {entry.on:%-d %B %Y}"
        line(heading, 10, bold=True, gap=0.5)
        details = details_of(entry)
        if details:
            line(details, 10, gap=1.5)
    return bytes(pdf.output())

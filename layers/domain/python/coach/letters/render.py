"""Print-ready PDFs in pure Python (fpdf2, core fonts): US Letter, one letter per page run, the address block
placed for a #10 double-window envelope.

Positions (from the top-left of the page): return address 0.6 in from the top and 0.875 in from the left (the
upper window); recipient block 2.0–3.0 in from the top, 0.875 in from the left, 3.75 in wide (the lower window).
Nothing in either window names a drug or a condition: the body starts below the first fold (3.67 in).
"""

from __future__ import annotations

from datetime import date

from fpdf import FPDF

from coach.letters.templates import format_date
from coach.letters.text import Block, latin1, parse_markup
from coach.models import MemberRecord

INCH = 25.4
LEFT = 0.875 * INCH
RIGHT_MARGIN = 0.875 * INCH
RETURN_TOP = 0.6 * INCH
ADDRESS_TOP = 2.0 * INCH
ADDRESS_WIDTH = 3.75 * INCH
BODY_TOP = 3.8 * INCH
RETURN_ADDRESS = ("Pharmacy Benefit Services", "PO Box 1000", "Springfield, IL 62701")


def address_lines(member: MemberRecord) -> list[str]:
    """Name and mailing address only: this is what shows through the window."""
    lines = [f"{member.first_name} {member.last_name}", member.address_line1]
    if member.address_line2:
        lines.append(member.address_line2)
    lines.append(f"{member.city}, {member.state} {member.postal_code}")
    return [latin1(line) for line in lines]


class _LetterPdf(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="Letter")
        self.set_auto_page_break(auto=True, margin=0.9 * INCH)
        self.set_margins(LEFT, 0.75 * INCH, RIGHT_MARGIN)
        self.set_creator("Automated Pharmacist")
        self.set_compression(True)


def _write_blocks(pdf: _LetterPdf, blocks: list[Block]) -> None:
    width = pdf.w - LEFT - RIGHT_MARGIN
    for block in blocks:
        if block.kind == "heading":
            pdf.ln(1.5)
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(width, 6, latin1(block.text), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 11)
        elif block.kind == "bullet":
            pdf.set_x(LEFT + 4)
            pdf.multi_cell(width - 4, 5.4, "- " + latin1(block.text), new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.multi_cell(width, 5.4, latin1(block.text), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)


def render_letters(letters: list[tuple[MemberRecord, str, str]], today: date | None = None) -> tuple[bytes, list[tuple[int, int]]]:
    """One PDF for a batch: (member, rendered markup, language) each starting on a new page.
    Returns the PDF and, per letter, (first page, page count)."""
    pdf = _LetterPdf()
    pages: list[tuple[int, int]] = []
    printed_on = today or date.today()
    for member, text, lang in letters:
        pdf.add_page()
        first = pdf.page_no()
        pdf.set_font("Helvetica", "B", 9)
        pdf.set_xy(LEFT, RETURN_TOP)
        for line in RETURN_ADDRESS:
            pdf.cell(ADDRESS_WIDTH, 4.2, line, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 9)
        pdf.set_font("Helvetica", "", 11)
        pdf.set_xy(LEFT, ADDRESS_TOP)
        for line in address_lines(member):
            pdf.cell(ADDRESS_WIDTH, 5.4, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_xy(LEFT, BODY_TOP - 8)
        pdf.cell(0, 5.4, format_date(printed_on, lang), new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(BODY_TOP)
        _write_blocks(pdf, parse_markup(text))
        pages.append((first, pdf.page_no() - first + 1))
    return bytes(pdf.output()), pages

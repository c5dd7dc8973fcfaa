"""The client's one-page brief as a PDF (fpdf2, DejaVu Sans embedded like the letters): their plan's name, the
figures as a client may see them (coach.brief.views.view with client=True), the recommendation, the alternatives."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from fpdf import FPDF

from coach.approvals.records import link_hash
from coach.letters.render import FONTS_DIR

if TYPE_CHECKING:
    from coach.ports import ApprovalStore

NAVY, GREY, INK = (10, 48, 105), (66, 74, 83), (26, 26, 26)
EVENT_TITLES = {
    "otc_switch": "moves over the counter",
    "patent_expiry": "loses its patent: a generic is coming",
    "generic_launch": "has a new generic",
    "new_drug": "has a new alternative",
    "recall": "is recalled",
    "formulary_change": "changes on the formulary",
}


def client_brief_pdf(link_id: str, *, store: ApprovalStore) -> bytes | None:
    """The PDF of the brief a client's approval link carries (its client view); None for an unknown link or one
    without a brief. The link id is the only key: nobody without the email can read it."""
    if not 20 <= len(link_id) <= 100:  # the lengths a link id can have (coach.approvals.deciding)
        return None
    link = store.get_link(link_hash(link_id))
    if link is None or not link.brief_json or link.audience != "client":
        return None
    return brief_pdf(json.loads(link.brief_json))


def brief_pdf(shown: dict) -> bytes:
    """One A4/Letter-sized page; long breakdowns are cut to what fits, never spill to a second page."""
    pdf = FPDF(format="letter")
    pdf.set_auto_page_break(False)
    pdf.set_margins(18, 16, 18)
    pdf.add_font("DejaVu", "", str(FONTS_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"Pharmacist's brief for {shown.get('plan_name') or shown['client_name']}")
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    pdf.set_text_color(*NAVY)
    pdf.set_font("DejaVu", "B", 9)
    pdf.cell(width, 5, "THE PHARMACIST'S BRIEF", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(width, 8, shown.get("plan_name") or shown["client_name"], new_x="LMARGIN", new_y="NEXT")
    if shown.get("plan_name") and shown["plan_name"] != shown["client_name"]:
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(width, 5, shown["client_name"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    pdf.set_font("DejaVu", "", 11)
    title = f"{shown['drug_name']} {EVENT_TITLES.get(shown['event_type'], shown['event_type'])}"
    pdf.multi_cell(width, 6, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    pdf.set_fill_color(234, 238, 242)
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(
        width, 6, f"We recommend: {shown['recommendation']}", fill=True, new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(width, 5, shown["reason"], fill=True, align="L", new_x="LMARGIN", new_y="NEXT")
    if shown["alternatives"]:
        pdf.set_text_color(*GREY)
        others = "Or instead: " + "; ".join(shown["alternatives"]) + "."
        pdf.multi_cell(width, 5, others, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(*INK)
    pdf.ln(4)

    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(
        width, 6, f"Paid claims of {shown['drug_name']}, {shown['lookback']}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("DejaVu", "", 10)
    for label, value in shown["rows"]:
        pdf.cell(width * 0.7, 6, label, border="B")
        pdf.cell(width * 0.3, 6, value, border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(width, 6, "Who is affected", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    for title, cells in shown["breakdowns"]:
        text = (
            " · ".join(f"{name}: {value}" for name, value in cells.items())
            if cells
            else "not shown (too few members to break down)"
        )
        if len(text) > 330:  # one page: a long list of states is cut, never the page count
            text = text[:327].rsplit(" · ", 1)[0] + " · …"
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(pdf.get_string_width(title + ": ") + 1, 5, title + ":")
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(0, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    pdf.set_text_color(*GREY)
    pdf.set_font("DejaVu", "", 8)
    notes = list(shown["assumptions"])
    if shown["unavailable"]:
        notes.append("About the figures: " + "; ".join(shown["unavailable"]) + ".")
    notes.append(
        "Counts of 1 to 10 members read \u201cfewer than 11\u201d, and figures that would reveal them are not shown: "
        "a small count next to a drug name can identify a member."
    )
    for note in notes:
        pdf.multi_cell(width, 4, note, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(-16)
    pdf.cell(width, 4, "Clinical Programs, Automated Pharmacist", align="C")
    return bytes(pdf.output())

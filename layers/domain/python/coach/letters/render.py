"""Print-ready PDFs in pure Python (fpdf2): US Letter, one letter per page run, the address block placed for a #10
double-window envelope. The text is set in DejaVu Sans (regular and bold, fonts/, Bitstream Vera licence),
embedded as subsets of the glyphs used: print vendors reject PDFs whose fonts are not embedded, and it draws every
Latin, Greek, Cyrillic and Vietnamese name as written (see coach.letters.text.Glyphs for the rest).

Positions (from the top-left of the page): return address 0.6 in from the top and 0.875 in from the left (the
upper window); recipient block 2.0–3.0 in from the top, 0.875 in from the left, 3.75 in wide (the lower window).
Nothing in either window names a drug or a condition: the body starts below the first fold (3.67 in).
"""

from __future__ import annotations

import copy
import io
import logging
from datetime import date
from functools import cache
from pathlib import Path

from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

from coach.letters.branding import PBM_BRANDING, Branding
from coach.letters.font_cuts import FontCuts
from coach.letters.text import Block, Glyphs, format_date, parse_markup
from coach.models import MemberRecord

log = logging.getLogger(__name__)

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVuSans"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

INCH = 25.4
LEFT = 0.875 * INCH
RIGHT_MARGIN = 0.875 * INCH
RETURN_TOP = 0.6 * INCH
ADDRESS_TOP = 2.0 * INCH
ADDRESS_WIDTH = 3.75 * INCH
BODY_TOP = 3.8 * INCH
RETURN_ADDRESS = PBM_BRANDING.letterhead
# A client's logo: top right, clear of both windows (they are on the left, at most 4.625 in from the edge)
LOGO_BOX = (5.4 * INCH, 0.5 * INCH, 2.225 * INCH, 0.9 * INCH)  # x, y, width, height


def address_lines(member: MemberRecord) -> list[str]:
    """Name and mailing address only: this is what shows through the window."""
    lines = [f"{member.first_name} {member.last_name}", member.address_line1 or ""]
    if member.address_line2:
        lines.append(member.address_line2)
    lines.append(f"{member.city}, {member.state} {member.postal_code}")
    return lines


@cache
def _glyphs(style: str, codepoints: frozenset[int]) -> Glyphs:
    return Glyphs(codepoints)


def _encode_each_line_once(font: TTFFont) -> None:
    """fpdf2 maps every line it prints to the font subset's codes in a Python loop, character by character: with
    the embedded font that was a third of a batch's time, and most lines repeat from letter to letter. A line's
    codes do not change once its characters are in the subset, so encoding each distinct line once per document
    gives the same bytes. TTFFont has __slots__: the cache lives in a class made for this font of this document."""
    encoded: dict[str, str] = {}

    class _LineCachedFont(TTFFont):
        __slots__ = ()

        def encode_text(self, text: str) -> str:
            line = encoded.get(text)
            if line is None:
                line = encoded[text] = super().encode_text(text)
            return line

    font.__class__ = _LineCachedFont


@cache
def _parsed_font(style: str) -> TTFFont:
    """The font as fpdf2 parses it (widths and glyph ids of every character: ~0.1 s for the two styles), once per
    process: a warm Lambda container, like a local worker, renders many batches."""
    scratch = FPDF()
    scratch.add_font(FAMILY, style, FONTS_DIR / FONT_FILES[style])
    font = scratch.fonts[f"{FAMILY.lower()}{style}"]
    assert type(font) is TTFFont
    return font


def _add_parsed_font(pdf: FPDF, style: str) -> TTFFont:
    """A document's own copy of the parsed font: the parse is shared, what a document changes is its own (the glyph
    subset, the descriptor it writes, the font file the subsetter cuts down, opened lazily: a fraction of a ms)."""
    font = copy.copy(_parsed_font(style))
    font.i = len(pdf.fonts) + 1
    font.ttfont = ttLib.TTFont(font.ttffile, recalcTimestamp=False, lazy=True)
    font.desc = copy.copy(font.desc)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.subset = SubsetMap(font)
    pdf.fonts[font.fontkey] = font
    return font


_FONT_CUTS = FontCuts()


class _LetterPdf(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="Letter")
        self.set_auto_page_break(auto=True, margin=0.9 * INCH)
        self.set_margins(LEFT, 0.75 * INCH, RIGHT_MARGIN)
        self.set_creator("Automated Pharmacist")
        self.set_compression(True)
        self.glyphs: dict[str, Glyphs] = {}
        for style in FONT_FILES:
            font = _add_parsed_font(self, style)
            _encode_each_line_once(font)
            self.glyphs[style] = _glyphs(style, frozenset(font.cmap))

    def cut_fonts(self) -> None:
        """Before output: each font is this document's glyphs, cut once per process (coach.letters.font_cuts)."""
        for style in FONT_FILES:
            font = self.fonts[f"{FAMILY.lower()}{style}"]
            assert isinstance(font, TTFFont)
            font.ttfont = _FONT_CUTS.font_for(
                FONTS_DIR / FONT_FILES[style], frozenset(font.subset.get_all_glyph_names())
            )


# word widths by (style, word, size): they depend on the font only, so they are kept across batches in one process
_WORD_WIDTHS: dict[tuple[str, str, float], float] = {}
WORD_WIDTHS_KEPT = 200_000


class _Writer:
    """Left-aligned text with our own line breaking: word widths come from the font's metrics and are cached
    across batches per font style and size (most words repeat from letter to letter). fpdf2's multi_cell
    measures character by character and was 95% of the time."""

    BODY, HEADING = (FAMILY, "", 11.0), (FAMILY, "B", 12.0)
    RETURN_BOLD, RETURN = (FAMILY, "B", 9.0), (FAMILY, "", 9.0)

    def __init__(self, pdf: _LetterPdf) -> None:
        self.pdf = pdf
        self.width = pdf.w - LEFT - RIGHT_MARGIN
        self.bottom = pdf.h - 0.9 * INCH
        self._widths = _WORD_WIDTHS
        self._font: tuple[str, str, float] | None = None
        self.unprintable = 0  # characters of the current letter printed as U+FFFD

    def font(self, spec: tuple[str, str, float]) -> None:
        if spec != self._font:
            self.pdf.set_font(*spec)
            self._font = spec

    def fit(self, text: str) -> str:
        """The text as the current font can draw it (coach.letters.text.Glyphs); notes what it could not."""
        assert self._font is not None
        text, unprintable = self.pdf.glyphs[self._font[1]].fit(text)
        self.unprintable += len(unprintable)
        return text

    def _width(self, word: str) -> float:
        assert self._font is not None
        key = (self._font[1], word, self._font[2])
        width = self._widths.get(key)
        if width is None:
            if (
                len(self._widths) >= WORD_WIDTHS_KEPT
            ):  # names and addresses: bounded, the template's words come back
                self._widths.clear()
            width = self._widths[key] = self.pdf.get_string_width(word)
        return width

    def lines(self, text: str, width: float) -> list[str]:
        out: list[str] = []
        space = self._width(" ")
        for paragraph_line in text.split("\n"):
            line: list[str] = []
            used = 0.0
            for word in paragraph_line.split():
                w = self._width(word)
                if line and used + space + w > width:
                    out.append(" ".join(line))
                    line, used = [word], w
                else:
                    used += (space if line else 0.0) + w
                    line.append(word)
            out.append(" ".join(line))
        return out

    def write(
        self, y: float, text: str, spec: tuple[str, str, float], leading: float, indent: float = 0.0
    ) -> float:
        self.font(spec)
        for line in self.lines(self.fit(text), self.width - indent):
            if y + leading > self.bottom:
                self.pdf.add_page()
                self._font = None
                self.font(spec)
                y = 0.75 * INCH
            y += leading
            self.pdf.text(LEFT + indent, y - 1.3, line)
        return y


def _write_blocks(pdf: _LetterPdf, writer: _Writer, blocks: list[Block], y: float) -> None:
    for block in blocks:
        if block.kind == "heading":
            y = writer.write(y + 1.5, block.text, _Writer.HEADING, 6.0)
        elif block.kind == "bullet":
            writer.font(_Writer.BODY)
            pdf.text(LEFT + 3, y + 5.4 - 1.3, "-")
            y = writer.write(y, block.text, _Writer.BODY, 5.4, indent=7)
        else:
            y = writer.write(y, block.text, _Writer.BODY, 5.4) + 2.5


def _draw_logo(pdf: _LetterPdf, branding: Branding) -> None:
    """The client's logo, scaled to fit LOGO_BOX (aspect kept), right-aligned in it."""
    if branding.logo is None:
        return
    x, y, width, height = LOGO_BOX
    pdf.image(io.BytesIO(branding.logo), x=x, y=y, w=width, h=height, keep_aspect_ratio=True)


def _draw_mark(pdf: _LetterPdf, writer: _Writer, mark: str) -> None:
    """A specimen's mark: a line in the margin above the letterhead and a large light word across the body."""
    writer.font((FAMILY, "B", 9.0))
    pdf.set_text_color(164, 14, 38)
    pdf.text(LEFT, 0.35 * INCH, f"{mark}: not a real member, not a letter that was sent")
    writer.font((FAMILY, "B", 60.0))
    pdf.set_text_color(235, 200, 200)
    with pdf.rotation(30, x=pdf.w / 2, y=pdf.h * 0.62):
        pdf.text(pdf.w / 2 - pdf.get_string_width(mark) / 2, pdf.h * 0.62, mark)
    pdf.set_text_color(0, 0, 0)
    writer._font = None


def render_letters(
    letters: list[tuple[MemberRecord, str, str]],
    today: date | None = None,
    branding: Branding | None = None,
    mark: str | None = None,
) -> tuple[bytes, list[tuple[int, int]]]:
    """One PDF for a batch: (member, rendered markup, language) each starting on a new page.
    Returns the PDF and, per letter, (first page, page count). A letter with characters the font cannot draw
    still prints, U+FFFD in their place, and is logged as a warning with the member id and how many (not which:
    they are usually the member's name, and logs carry no member fields). `branding`: the client's letterhead
    (default the PBM's); `mark` (e.g. SPECIMEN) is printed across each letter's first page."""
    pdf = _LetterPdf()
    pdf.set_auto_page_break(auto=False)  # _Writer breaks pages itself
    writer = _Writer(pdf)
    pages: list[tuple[int, int]] = []
    printed_on = today or date.today()
    letterhead = branding or PBM_BRANDING
    for member, text, lang in letters:
        pdf.add_page()
        first = pdf.page_no()
        if mark:
            _draw_mark(pdf, writer, mark)
        _draw_logo(pdf, letterhead)
        writer.font(_Writer.RETURN_BOLD)
        y = RETURN_TOP
        for index, line in enumerate(letterhead.letterhead):
            if index == 1:
                writer.font(_Writer.RETURN)
            y += 4.2
            pdf.text(LEFT, y - 1.0, writer.fit(line))
        writer.font(_Writer.BODY)
        y = ADDRESS_TOP
        for line in address_lines(member):
            y += 5.4
            pdf.text(LEFT, y - 1.3, writer.fit(line))
        pdf.text(LEFT, BODY_TOP - 3, format_date(printed_on, lang))
        _write_blocks(pdf, writer, parse_markup(text), BODY_TOP + 2)
        pages.append((first, pdf.page_no() - first + 1))
        if writer.unprintable:
            log.warning(
                "letter for member %s: %d characters the font has no glyph for, printed as U+FFFD",
                member.member_id,
                writer.unprintable,
            )
            writer.unprintable = 0
    pdf.cut_fonts()
    return bytes(pdf.output()), pages

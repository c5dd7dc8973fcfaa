"""The letter markup the templates produce, dates as letters write them, and text fitted to what the letters'
embedded font can draw."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

TAGLINE = (
    "ATTENTION: If you speak another language, language assistance services, free of charge, are "
    "available to you. Call the number on this letter. ATENCIÓN: si habla español, tiene a su disposición "
    "servicios gratuitos de asistencia lingüística. Llame al número en esta carta."
)

_MONTHS_ES = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)

REPLACEMENT_CHARACTER = "\ufffd"
# Drawn in logical order, right to left scripts would come out reversed (the renderer does no bidi or shaping).
_RIGHT_TO_LEFT = frozenset({"R", "AL"})


class Glyphs:
    """What one font can draw, and how text is fitted to it.

    Text is NFC-normalised (a decomposed "e" + U+0302 + U+0301 prints as the precomposed "ế"), then goes through
    unchanged when the font has a glyph for every character. Otherwise, character by character: whitespace
    becomes a space; invisible controls and format characters (zero-width space, soft hyphen, bidi marks) and
    combining accents the font lacks are dropped; a character the font has no glyph for becomes its
    compatibility form (NFKC: "ﬁ" → "fi", fullwidth "Ａ" → "A") or its canonical decomposition (base letter and
    combining accents) when the font draws those, else its base letter without the accents, else U+FFFD:
    visible on the page (never a silent "?") and reported, so that the caller flags the letter. Right-to-left
    letters (Hebrew, Arabic) count as missing although the font has them: without bidi and shaping they would
    print reversed and unjoined."""

    def __init__(self, codepoints: Iterable[int]) -> None:
        self.chars = frozenset(
            char
            for char in map(chr, codepoints)
            if unicodedata.category(char) not in ("Cc", "Cf")
            and unicodedata.bidirectional(char) not in _RIGHT_TO_LEFT
        )
        if REPLACEMENT_CHARACTER not in self.chars or " " not in self.chars:
            raise ValueError("the font has no glyph for U+FFFD or the space")
        self._fallback: dict[str, str] = {}

    def fit(self, text: str) -> tuple[str, str]:
        """(text to print, each character that could not be printed and became U+FFFD). Keeps newlines."""
        if not text.isascii():
            text = unicodedata.normalize("NFC", text)
        if self.chars.issuperset(text.replace("\n", "")):
            return text, ""
        out: list[str] = []
        unprintable: list[str] = []
        for char in text:
            if char in self.chars or char == "\n":
                out.append(char)
                continue
            fallback = self._fallback.get(char)
            if fallback is None:
                fallback = self._fallback[char] = self._fallback_for(char)
            if fallback == REPLACEMENT_CHARACTER:
                unprintable.append(char)
            out.append(fallback)
        return "".join(out), "".join(unprintable)

    def _fallback_for(self, char: str) -> str:
        if char.isspace():
            return " "
        if unicodedata.category(char) in ("Cc", "Cf") or unicodedata.combining(char):
            return ""  # invisible, or an accent the font lacks: its base letter prints without it
        for form in ("NFKC", "NFD"):
            candidate = unicodedata.normalize(form, char)
            if candidate != char and self.chars.issuperset(candidate):
                return candidate
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        if base and base != char and self.chars.issuperset(base):
            return base
        return REPLACEMENT_CHARACTER


def format_date(value: date, lang: str) -> str:
    """A date as a letter in that language writes it ("January 1, 2003", "1 de enero de 2003")."""
    if lang == "es":
        return f"{value.day} de {_MONTHS_ES[value.month - 1]} de {value.year}"
    return f"{value:%B} {value.day}, {value.year}"


@dataclass(frozen=True)
class Block:
    kind: Literal["heading", "paragraph", "bullet"]
    text: str


def parse_markup(text: str) -> list[Block]:
    """'# ' starts a heading, '- ' a bullet; other lines join into paragraphs; a blank line ends a paragraph."""
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("paragraph", "\n".join(paragraph)))
            paragraph.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("# "):
            flush()
            blocks.append(Block("heading", line[2:].strip()))
        elif line.startswith("- "):
            flush()
            blocks.append(Block("bullet", line[2:].strip()))
        else:
            paragraph.append(line)
    flush()
    return blocks

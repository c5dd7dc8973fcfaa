"""The letter markup the templates produce, and text made safe for the PDF's core font (Latin-1)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

_REPLACEMENTS = str.maketrans(
    {
        "—": "-",
        "–": "-",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "…": "...",
        "•": "-",
        "\u00a0": " ",
        "\u2009": " ",
    }
)

TAGLINE = (
    "ATTENTION: If you speak another language, language assistance services, free of charge, are "
    "available to you. Call the number on this letter. ATENCIÓN: si habla español, tiene a su disposición "
    "servicios gratuitos de asistencia lingüística. Llame al número en esta carta."
)


def latin1(text: str) -> str:
    """Keep Latin-1 (Spanish accents print as they are); fold anything else to its closest ASCII letters."""
    text = text.translate(_REPLACEMENTS)
    try:
        text.encode("latin-1")
        return text
    except UnicodeEncodeError:
        out = []
        for char in text:
            try:
                char.encode("latin-1")
                out.append(char)
            except UnicodeEncodeError:
                folded = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
                out.append(folded or "?")
        return "".join(out)


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

"""NDCs written in free text (a recall's product description and code info), read as 11 digits.

FDA texts write package NDCs hyphenated, in the 10-digit shapes 4-4-2, 5-3-2 and 5-4-1 or as 5-4-2 (`NDC
0085-1128-01`, `NDC# 68180-513-01`), sometimes as 11 bare digits after "NDC". Ten bare digits cannot be read
(which segment is short?): they are reported, never guessed."""

from __future__ import annotations

import re

from coach.ndc import normalise_ndc

# Hyphen-like characters seen in pasted recall text; the segments themselves must be ASCII digits.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212"
_HYPHENATED = re.compile(r"(?<![0-9A-Za-z-])(\d{4,5})-(\d{3,4})-(\d{1,2})(?![0-9A-Za-z]|-\d)")
_LABELLED_BARE = re.compile(
    r"\bNDC\s*(?:#|No\.?|Nos\.?|number|code)?\s*[:#]?\s*(\d{10,11})(?!\d)", re.IGNORECASE
)
_SHAPES = {(4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)}


def find_ndcs(text: str) -> tuple[list[str], list[str]]:
    """The 11-digit NDCs the text names, in order of appearance, and the NDC-like strings it names that cannot be
    read (10 bare digits)."""
    if not text:
        return [], []
    for dash in _DASHES:
        text = text.replace(dash, "-")
    found: list[str] = []
    unreadable: list[str] = []
    for match in _HYPHENATED.finditer(text):
        shape = tuple(len(part) for part in match.groups())
        if shape in _SHAPES:
            found.append(normalise_ndc(match.group(0)))
    for match in _LABELLED_BARE.finditer(text):
        digits = match.group(1)
        if len(digits) == 11:
            found.append(digits)
        else:
            unreadable.append(digits)
    return list(dict.fromkeys(found)), list(dict.fromkeys(unreadable))

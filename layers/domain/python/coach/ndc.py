"""National Drug Code normalisation: every NDC inside the system is an 11-digit string (5-4-2)."""

from __future__ import annotations

import re

_SEGMENTED = re.compile(r"^(\d{4,5})-(\d{3,4})-(\d{1,2})$")


class InvalidNdc(ValueError):
    """An NDC that cannot be read as an 11-digit code."""


def normalise_ndc(raw: str) -> str:
    """Return the 11-digit form of an NDC given as 11 digits or as a hyphenated 10-digit form.

    Hyphenated 4-4-2, 5-3-2 and 5-4-1 codes are padded in the segment that is short; an unhyphenated
    10-digit code is ambiguous (which segment is short?) and is rejected rather than guessed.
    """
    value = str(raw).strip()
    if re.fullmatch(r"\d{11}", value):
        return value
    match = _SEGMENTED.match(value)
    if match:
        labeler, product, package = match.groups()
        padded = labeler.zfill(5) + product.zfill(4) + package.zfill(2)
        if len(labeler) + len(product) + len(package) in (10, 11) and len(padded) == 11:
            return padded
    if re.fullmatch(r"\d{10}", value):
        raise InvalidNdc(
            f"NDC {value!r} has 10 digits without hyphens; give it hyphenated (e.g. 1234-5678-90) "
            "or as 11 digits so the short segment is known"
        )
    raise InvalidNdc(f"NDC {value!r} is not 11 digits or a hyphenated 10/11-digit NDC")

"""NDCs read from recall text: every published 10-digit shape becomes 11 digits; ambiguous ones are reported."""

from __future__ import annotations

import pytest
from coach.feeds.ndc_text import find_ndcs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NDC 0085-1128-01", ["00085112801"]),  # 4-4-2: labeler padded
        ("NDC# 68180-513-01", ["68180051301"]),  # 5-3-2: product padded
        ("NDC: 11523-7160-1", ["11523716001"]),  # 5-4-1: package padded
        ("NDC 11523-7160-01", ["11523716001"]),  # 5-4-2
        ("NDC 11523716001", ["11523716001"]),  # 11 bare digits after NDC
        ("NDC 0085\u20131128\u201301", ["00085112801"]),  # an en dash pasted for the hyphen
        ("NDC 0085-1128-01, 0085-1128-02 and again 0085-1128-01", ["00085112801", "00085112802"]),
    ],
)
def test_each_published_shape_becomes_eleven_digits(text, expected):
    assert find_ndcs(text) == (expected, [])


@pytest.mark.parametrize(
    "text",
    [
        "Exp 2027-06-30, lot 2024-11-01",  # dates are not NDCs
        "UPC 3 99001 44101 2",
        "Lot 12345-678",  # two segments
        "Serial 123-4567-89",  # 3-4-2 is no NDC shape
        "code AB1234-5678-90",  # glued to letters
        "12345-6789-012",  # a 3-digit package segment
    ],
)
def test_lot_numbers_dates_and_codes_are_not_read_as_ndcs(text):
    assert find_ndcs(text) == ([], [])


def test_ten_bare_digits_are_reported_never_guessed():
    assert find_ndcs("earlier labels printed NDC 9900144101") == ([], ["9900144101"])

"""Complementary suppression: whatever a client's breakdown shows, no hidden cell can be recovered. The attacker here
is written independently of coach.brief.suppression: it enumerates every row of counts consistent with what is
shown (the total, the shown cells, "fewer than 11" = 1..10, "not shown" = 11 or more) and checks that every
hidden cell can still take at least two values."""

from __future__ import annotations

from itertools import product

from coach.brief.suppression import NOT_SHOWN, suppress_row
from hypothesis import given, settings
from hypothesis import strategies as st

FEWER = "fewer than 11"


def consistent_values(shown: dict[str, str], total: int) -> dict[str, set[int]]:
    """Every value each hidden cell takes in some row consistent with what the client sees."""
    hidden = [name for name, text in shown.items() if text in (FEWER, NOT_SHOWN)]
    rest = total - sum(
        int(text.replace(",", "")) for text in shown.values() if text not in (FEWER, NOT_SHOWN)
    )
    # a complementary cell is never 1..10 (those read "fewer than 11") nor 0 (zeros are shown): 11 or more
    ranges = [range(1, 11) if shown[name] == FEWER else range(11, rest + 1) for name in hidden]
    seen: dict[str, set[int]] = {name: set() for name in hidden}
    for values in product(*ranges):
        if sum(values) == rest:
            for name, value in zip(hidden, values, strict=True):
                seen[name].add(value)
    return seen


rows = st.dictionaries(
    st.sampled_from(["0-17", "18-44", "45-64", "65+", "unknown"]), st.integers(0, 40), min_size=1
)


@settings(max_examples=300, deadline=None)
@given(rows)
def test_no_hidden_cell_can_be_recovered_from_the_total_and_the_other_cells(cells):
    total = sum(cells.values())
    shown = suppress_row(cells, total)
    if shown is None or 0 < total <= 10:  # nothing shown, or the total itself reads "fewer than 11"
        return
    for name, count in cells.items():
        if 1 <= count <= 10:
            assert shown[name] == FEWER  # the small-cell rule
        elif shown[name] not in (NOT_SHOWN,):
            assert shown[name] == f"{count:,}"
    for name, values in consistent_values(shown, total).items():
        assert cells[name] in values
        assert len(values) >= 2, (cells, shown, name)


def test_one_small_cell_beside_a_shown_total_takes_a_complement_with_it():
    assert suppress_row({"0-17": 4, "18-44": 30, "45-64": 25}, 59) == {
        "0-17": FEWER,
        "18-44": "30",
        "45-64": NOT_SHOWN,
    }


def test_two_ones_summing_to_two_are_protected_by_a_third_cell():
    shown = suppress_row({"es": 1, "vi": 1, "en": 40}, 42)
    assert shown is not None and shown["en"] == NOT_SHOWN


def test_a_row_that_cannot_be_protected_is_not_shown():
    assert suppress_row({"es": 1, "en": 11}, 12) is None

"""Complementary small-cell suppression of a breakdown a client sees (age bands, states, languages, channels).

A cell of 1–10 members reads "fewer than 11" (coach.audience.privacy). When the row's total is shown, hiding the
small cells is not enough: the total minus the shown cells, with each hidden cell known to lie in 1–10 (or 11 and
up for a complementary one), can pin a hidden cell to one value. So the smallest shown cells are hidden too
("not shown") until no hidden cell can be pinned; a row that cannot be protected that way is not shown at all.
"""

from __future__ import annotations

from coach.audience.privacy import SMALL_CELL, client_facing_count

NOT_SHOWN = "not shown"


def bounds(count: int, small: bool) -> tuple[int, int | None]:
    """What a reader knows of a hidden cell: 1–10 when it reads "fewer than 11", else 11 or more (no upper bound)."""
    return (1, SMALL_CELL) if small else (SMALL_CELL + 1, None)


def pinned(total: int, shown: int, hidden: list[tuple[int, int | None]]) -> bool:
    """Can the row's total, its shown cells and the hidden cells' bounds pin any hidden cell to one value?"""
    if not hidden:
        return False
    rest = total - shown
    for index, (low, high) in enumerate(hidden):
        others = [b for i, b in enumerate(hidden) if i != index]
        others_low = sum(b[0] for b in others)
        others_high = None if any(b[1] is None for b in others) else sum(b[1] for b in others)  # type: ignore[misc]
        can_low = max(low, rest - others_high) if others_high is not None else low
        can_high = rest - others_low if high is None else min(high, rest - others_low)
        if can_low >= can_high:
            return True
    return False


def suppress_row(cells: dict[str, int], total: int) -> dict[str, str] | None:
    """Each cell as a client may see it, with `total` shown beside them; None when the row cannot be shown."""
    if 0 < total <= SMALL_CELL:  # the total itself is hidden: every cell is at most 10, shown as such
        return {name: client_facing_count(count) for name, count in cells.items()}
    small = {name for name, count in cells.items() if 0 < count <= SMALL_CELL}
    extra: set[str] = set()
    while True:
        hidden = small | extra
        shown = sum(count for name, count in cells.items() if name not in hidden)
        if not pinned(total, shown, [bounds(cells[name], name in small) for name in sorted(hidden)]):
            break
        candidates = sorted(
            (count, name) for name, count in cells.items() if count > 0 and name not in hidden
        )
        if not candidates:
            return None
        extra.add(candidates[0][1])
    return {
        name: client_facing_count(count) if name in small else NOT_SHOWN if name in extra else f"{count:,}"
        for name, count in cells.items()
    }

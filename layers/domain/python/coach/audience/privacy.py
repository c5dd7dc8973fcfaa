"""Counts as each audience may see them. Internal teams see exact numbers; a client sees 1–10 as "fewer than 11"
(small-cell suppression: a tiny count next to a drug name can identify a member)."""

from __future__ import annotations

SMALL_CELL = 10


def exact_count(count: int) -> str:
    return f"{count:,}"


def client_facing_count(count: int) -> str:
    if count <= 0:
        return "0"
    if count <= SMALL_CELL:
        return f"fewer than {SMALL_CELL + 1}"
    return f"{count:,}"

"""Who is held out: a hash of the campaign and the member, so the choice is the same on every rerun, can be
recomputed by an auditor from two ids, and owes nothing to the order members come in."""

from __future__ import annotations

import hashlib

from coach import keys

HOLDOUT_COLUMNS = ("member_id", "client_id", "group")


def assignment_point(campaign_id: str, member_id: str) -> float:
    """A number in [0, 1), uniform over members: the first 8 bytes of SHA-256("campaign|member")."""
    digest = hashlib.sha256(f"{campaign_id}|{member_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_held_out(campaign_id: str, member_id: str, share: float) -> bool:
    return share > 0 and assignment_point(campaign_id, member_id) < share


def holdout_key(campaign_id: str, client_id: str) -> str:
    """Beside the client's letters manifest (letters bucket): the members held out, who get no letter."""
    return f"{keys.letters_prefix(campaign_id, client_id)}/holdout.csv"

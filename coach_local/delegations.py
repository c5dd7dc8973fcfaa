"""Delegations on the local runtime: kept in the lake folder (`approvers/delegations.json`), written by
`coach approvers delegate`, loaded into the runtime's approvals table when a run starts (on AWS they are items of
the approvals table itself: coach.adapters.digest_store)."""

from __future__ import annotations

import json
from pathlib import Path

from coach.approvals.delegation import Delegation
from pydantic import ValidationError

from coach_local.inputs import BadInput

DELEGATIONS_FILE = Path("approvers") / "delegations.json"


def read_delegations(lake_dir: Path) -> list[Delegation]:
    path = lake_dir / DELEGATIONS_FILE
    if not path.exists():
        return []
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [Delegation.model_validate(row) for row in rows]
    except (ValueError, TypeError, ValidationError) as exc:
        raise BadInput(f"{path}: not a list of delegations ({type(exc).__name__})") from None


def add_delegation(lake_dir: Path, delegation: Delegation) -> Path:
    """Add (or replace: same approver and start) a delegation; returns the file."""
    kept = [
        d
        for d in read_delegations(lake_dir)
        if (d.approver.lower(), d.starts) != (delegation.approver.lower(), delegation.starts)
    ]
    path = lake_dir / DELEGATIONS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [d.model_dump() for d in [*kept, delegation]]
    path.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return path

"""Where a local run writes (docs/lake-check.md, README "Outputs"): an output folder holds ONE campaign's output,
and no run loses another run's letters or report.

A run writes into OUT/.running/ and publishes when it ends: a run that succeeds replaces the earlier output of
the same campaign; a run that fails where an earlier run's output exists leaves it untouched and puts its own
output in OUT/failed-<UTC time>/. A folder holding another campaign's output is refused before anything starts.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from coach_local.status import RUNNING_DIR

OUTPUTS = (
    "outbox",
    "letters",
    "prescriber-notices",
    "logs",
    "report.json",
    "report.html",
    "audit.json",
    "status.json",
)
MARKER = ".campaign.json"  # {"campaign_id": …}: whose output this folder holds


class OutputClash(ValueError):
    """OUT cannot take this run (another campaign's output, or a run already writing there)."""


def campaign_of(out: Path) -> str | None:
    """The campaign whose output `out` holds (its marker, or the report or audit trail of an older run)."""
    for name in (MARKER, "report.json", "audit.json"):
        try:
            campaign_id = json.loads((out / name).read_text(encoding="utf-8")).get("campaign_id")
        except (OSError, ValueError, AttributeError):
            continue
        if campaign_id:
            return str(campaign_id)
    return None


def has_output(out: Path) -> bool:
    return any((out / name).exists() for name in OUTPUTS)


def claim(out: Path, campaign_id: str) -> Path:
    """The staging folder of a new run into `out`; refuses another campaign's folder or a run in progress."""
    other = campaign_of(out)
    if other is not None and other != campaign_id:
        raise OutputClash(
            f"{out}: holds the output of campaign {other}; write campaign {campaign_id} to another --out "
            "(each campaign gets its own folder) or remove that folder"
        )
    staging = out / RUNNING_DIR
    if staging.exists():
        raise OutputClash(
            f"{staging}: another run is writing into {out} (or one was interrupted: remove {staging} to go on)"
        )
    staging.mkdir(parents=True)
    return staging


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def publish(out: Path, staging: Path, campaign_id: str, *, succeeded: bool) -> tuple[Path, str | None]:
    """Move the finished run out of staging; returns where its output is, and a note when that is not `out`."""
    marker = json.dumps({"campaign_id": campaign_id}) + "\n"
    if succeeded or not has_output(out):
        for name in OUTPUTS:  # the same campaign's earlier output (campaign_of checked it), replaced
            _remove(out / name)
        for item in staging.iterdir():
            item.replace(out / item.name)
        staging.rmdir()
        (out / MARKER).write_text(marker, encoding="utf-8")
        return out, None
    target = out / f"failed-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
    staging.replace(target)
    (target / MARKER).write_text(marker, encoding="utf-8")
    return target, f"this failed run's output is in {target}; the earlier run's output in {out} is untouched"

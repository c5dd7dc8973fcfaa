"""`coach status`: what every campaign of a local runtime is doing and whose decision it waits for.

The runtime lives inside the `coach demo`/`coach run` process; a StatusWriter there rewrites OUT/status.json
(atomically) when something happened, at most every second, and `coach status` — from any terminal — reads it.
Counts, ids and times only: no member.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coach.adapters.stepfunctions import executions
from coach.approvals.waits import open_waits
from coach.ports import ApprovalStore

STATUS_FILE = "status.json"
RUNNING_DIR = (
    ".running"  # a run in progress writes here (coach_local.outputs) and publishes to OUT when it ends
)
REDRIVE_SUFFIX = "--redrive-"
STALE_SECONDS = 10.0  # a status older than this comes from a runtime that is no longer running


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return datetime.fromtimestamp(float(value), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def open_questions(store: ApprovalStore, now: float) -> list[dict[str, Any]]:
    """Every question still waiting for an answer: who is asked, since when, until when (the open-waits index)."""
    return [
        {
            "campaign_id": w.campaign_id,
            "client_id": w.client_id,
            "client_name": w.client_name,
            "role": w.role,
            "kind": w.kind,
            "since": _iso(w.since),
            "deadline": _iso(w.deadline),
            "recipients": w.recipients,
        }
        for w in open_waits(store, now)
    ]


def snapshot(sfn: Any, store: ApprovalStore, state_machine_arn: str, day_seconds: float) -> dict[str, Any]:
    runs = executions(state_machine_arn, sfn=sfn)
    questions = open_questions(store, time.time())
    campaigns = []
    for execution in sorted(runs, key=lambda e: e["startDate"]):
        campaign_id = execution["name"].split(REDRIVE_SUFFIX)[
            0
        ]  # an emulated redrive runs as NAME--redrive-N
        waiting = (
            [q for q in questions if q["campaign_id"] == campaign_id]
            if execution["status"] == "RUNNING"
            else []
        )
        campaigns.append(
            {
                "campaign_id": campaign_id,
                "state": execution["status"],
                "started": _iso(execution["startDate"]),
                "stopped": _iso(execution.get("stopDate")),
                "waiting_for": waiting,
            }
        )
    return {"written_at": time.time(), "pid": os.getpid(), "day_seconds": day_seconds, "campaigns": campaigns}


class StatusWriter:
    """Rewrites OUT/status.json when the runtime did something (`changed()` is called by every function invocation),
    at most every `interval` seconds, at least every STALE_SECONDS / 2 (so `coach status` sees it live), and once at
    the end."""

    def __init__(self, path: Path, take: Any, interval: float = 2.0) -> None:
        self.path = path
        self.take = take
        self.interval = interval
        self._stop = threading.Event()
        self._changed = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="coach-status", daemon=True)
        self._last: dict[str, Any] | None = None

    def start(self) -> None:
        self._thread.start()

    def changed(self, *_: object) -> None:
        self._changed.set()

    def stop(self) -> None:
        self._stop.set()
        self._changed.set()
        self._thread.join(timeout=10)
        self.write(final=True)

    def write(self, final: bool = False) -> None:
        try:
            state = self.take()
        except Exception:
            return
        self._save(state, final)

    def _save(self, state: dict[str, Any], final: bool = False) -> None:
        state["final"] = final
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        tmp.replace(self.path)
        self._last = state

    def _keep_alive(self) -> None:
        """The last snapshot again, stamped now: `coach status` still sees a live runtime, for no new reads."""
        if self._last is not None:
            self._save({**self._last, "written_at": time.time()})

    def _loop(self) -> None:
        # With many campaigns a snapshot is not free (a query over the approvals table's open-waits index, which moto
        # answers by reading every item, and a read per open question): after one, the next waits 19 times as long
        # as it took (at most a twentieth of a core on status; it was 12.7% of a 400-client run's Python time while
        # the wait was capped at 5 s). Meanwhile the last snapshot is stamped again every 5 s, so `coach status`
        # never calls a running runtime stale.
        next_snapshot = 0.0
        while not self._stop.is_set():
            self._changed.wait(STALE_SECONDS / 2)
            if self._stop.is_set():
                return
            if time.monotonic() < next_snapshot:
                self._keep_alive()
                self._stop.wait(min(next_snapshot - time.monotonic(), STALE_SECONDS / 2))
                continue
            self._changed.clear()
            began = time.monotonic()
            self.write()
            next_snapshot = time.monotonic() + max(self.interval, 19 * (time.monotonic() - began))
            self._stop.wait(min(next_snapshot - time.monotonic(), STALE_SECONDS / 2))


class StatusError(ValueError):
    """No status to show (exit code 2)."""


def read_status(out_dir: Path) -> dict[str, Any]:
    running = out_dir / RUNNING_DIR / STATUS_FILE
    path = running if running.exists() else out_dir / STATUS_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StatusError(f"{path}: no local runtime has run with --out {out_dir}") from exc
    except json.JSONDecodeError as exc:
        raise StatusError(f"{path}: unreadable status ({exc.msg})") from exc
    state["live"] = not state.get("final") and time.time() - float(state.get("written_at", 0)) < STALE_SECONDS
    return dict(state)

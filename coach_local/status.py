"""`coach status`: what every campaign of a local runtime is doing and whose decision it waits for.

The runtime lives inside the `coach demo`/`coach run` process; a StatusWriter there rewrites OUT/status.json every
second (atomically), and `coach status` — from any terminal — reads it. Counts, ids and times only: no member.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATUS_FILE = "status.json"
STALE_SECONDS = 10.0  # a status older than this comes from a runtime that is no longer running


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return datetime.fromtimestamp(float(value), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def open_questions(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every approval link still pending whose group has no decision yet: who is asked, since when, until when."""
    links: list[dict[str, Any]] = []
    decided: set[str] = set()
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = dynamodb.scan(**kwargs)
        for item in page.get("Items", []):
            pk = item["pk"]["S"]
            if pk.startswith("decision#"):
                decided.add(pk.removeprefix("decision#"))
            elif pk.startswith("link#") and item.get("state", {}).get("S") == "pending":
                links.append(item)
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    by_group: dict[str, dict[str, Any]] = {}
    for item in links:
        group = item["group"]["S"]
        if group in decided:
            continue
        created = float(item["created_at"]["N"])
        entry = by_group.setdefault(
            group,
            {
                "campaign_id": item["campaign_id"]["S"],
                "client_id": item["client_id"]["S"],
                "client_name": item["client_name"]["S"],
                "role": item["role"]["S"],
                "since": created,
                "deadline": float(item["deadline"]["N"]),
                "kind": item["kind"]["S"],
                "recipients": 0,
            },
        )
        entry["recipients"] += 1
        if created >= entry["since"]:  # the latest ask, reminder or escalation is the one that counts
            entry.update(kind=item["kind"]["S"], deadline=float(item["deadline"]["N"]))
        entry["since"] = min(entry["since"], created)
    questions = sorted(by_group.values(), key=lambda q: (q["campaign_id"], q["client_id"], q["role"]))
    for question in questions:
        question["since"], question["deadline"] = _iso(question["since"]), _iso(question["deadline"])
    return questions


def snapshot(
    sfn: Any, dynamodb: Any, state_machine_arn: str, table: str, day_seconds: float
) -> dict[str, Any]:
    executions = []
    kwargs: dict[str, Any] = {"stateMachineArn": state_machine_arn}
    while True:
        page = sfn.list_executions(**kwargs)
        executions += page["executions"]
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    questions = open_questions(dynamodb, table)
    campaigns = []
    for execution in sorted(executions, key=lambda e: e["startDate"]):
        campaign_id = execution["name"]
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
    """Rewrites OUT/status.json every `interval` seconds while the local runtime runs, and once at the end."""

    def __init__(self, path: Path, take: Any, interval: float = 1.0) -> None:
        self.path = path
        self.take = take
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="coach-status", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.write(final=True)

    def write(self, final: bool = False) -> None:
        try:
            state = self.take()
        except Exception:
            return
        state["final"] = final
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        tmp.replace(self.path)

    def _loop(self) -> None:
        # A snapshot scans the approvals table: with many campaigns it is not free, so the writer waits at least
        # four times as long as the last snapshot took (at most a fifth of one core spent on status).
        wait = self.interval
        while not self._stop.wait(wait):
            began = time.monotonic()
            self.write()
            wait = max(self.interval, 4 * (time.monotonic() - began))


class StatusError(ValueError):
    """No status to show (exit code 2)."""


def read_status(out_dir: Path) -> dict[str, Any]:
    path = out_dir / STATUS_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StatusError(f"{path}: no local runtime has run with --out {out_dir}") from exc
    except json.JSONDecodeError as exc:
        raise StatusError(f"{path}: unreadable status ({exc.msg})") from exc
    state["live"] = not state.get("final") and time.time() - float(state.get("written_at", 0)) < STALE_SECONDS
    return dict(state)

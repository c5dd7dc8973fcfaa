"""What a user hands the CLI (an event file, a decisions file) read and checked, and the error that says what is
wrong and where (exit code 2). Light on purpose: every command imports it, and only `run`/`demo` need the runtime."""

from __future__ import annotations

import json
from pathlib import Path

from coach.intake import InvalidEvent, parse_event

VALID_CHOICES = {"approve", "decline", "none"}
Decisions = dict[str, dict[str, str]]  # client_id → {"account_team" | "client": approve | decline | none}


class BadInput(ValueError):
    """Input a user gave that cannot be run; the message says what and where (exit code 2)."""


def load_event(path: Path) -> dict:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BadInput(f"{path}: no such event file") from exc
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if isinstance(raw, dict) and "detail" not in raw and "event_id" in raw:
        raw = {"source": "coach.market-feed", "detail-type": "Drug Market Event", "detail": raw}
    try:
        parse_event(raw)
    except InvalidEvent as exc:
        raise BadInput(f"{path}: " + "; ".join(exc.reasons)) from exc
    return raw


def load_decisions(path: Path | None) -> Decisions:
    if path is None:
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInput(f"{path}: cannot read decisions ({exc})") from exc
    if not isinstance(raw, dict):
        raise BadInput(f"{path}: expected an object mapping client_id to decisions")
    for client_id, entry in raw.items():
        if not isinstance(entry, dict) or not set(entry) <= {"account_team", "client"}:
            raise BadInput(f'{path}: {client_id}: expected {{"account_team": …, "client": …}}')
        for role, choice in entry.items():
            if choice not in VALID_CHOICES:
                raise BadInput(f"{path}: {client_id}.{role}: {choice!r} is not approve, decline or none")
    return raw

"""What a user hands the CLI (an event file, a decisions file) read and checked, and the error that says what is
wrong and where (exit code 2). Light on purpose: every command imports it, and only `run`/`demo` need the runtime."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VALID_CHOICES = {"approve", "decline", "none"}
# client_id → {"account_team" | "client": approve | decline | none}; and under REVIEW_KEY the clinical reviewer's
# answer to a feed's candidate (a ReviewChoice)
Decisions = dict[str, dict[str, Any]]
ReviewChoice = dict[
    str, Any
]  # {"decision": confirm | correct | dismiss | none, "fields": {…}, "comment": "…"}
REVIEW_KEY = "clinical_review"
REVIEW_CHOICES = {"confirm", "correct", "dismiss", "none"}
REVIEW_FIELDS = {"ndcs", "effective_date", "alternatives", "summary"}


class BadInput(ValueError):
    """Input a user gave that cannot be run; the message says what and where (exit code 2)."""


def load_event(path: Path) -> dict:
    from coach.intake import InvalidEvent, parse_event  # the domain's models load when an event is read
    from coach.review.intake import BadReviewNotes, split_candidate

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BadInput(f"{path}: no such event file") from exc
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if isinstance(raw, dict) and "detail" not in raw and "event_id" in raw:
        raw = {"source": "coach.market-feed", "detail-type": "Drug Market Event", "detail": raw}
    try:
        parse_event(split_candidate(raw)[0])  # a feed's candidate: its event, without the review notes
    except BadReviewNotes as exc:
        raise BadInput(f"{path}: " + "; ".join(exc.reasons)) from exc
    except InvalidEvent as exc:
        raise BadInput(f"{path}: " + "; ".join(exc.reasons)) from exc
    return raw


def review_choice(decisions: Decisions) -> ReviewChoice:
    """The clinical reviewer's answer in a decisions file (confirm, the candidate as it is, when none is given)."""
    return dict(decisions.get(REVIEW_KEY) or {"decision": "confirm"})


def _check_review(path: Path, entry: object) -> None:
    where = f"{path}: {REVIEW_KEY}"
    if not isinstance(entry, dict) or not set(entry) <= {"decision", "fields", "comment"}:
        raise BadInput(f'{where}: expected {{"decision": …, "fields": {{…}}, "comment": …}}')
    if entry.get("decision", "confirm") not in REVIEW_CHOICES:
        raise BadInput(
            f"{where}.decision: {entry.get('decision')!r} is not confirm, correct, dismiss or none"
        )
    fields = entry.get("fields", {})
    if not isinstance(fields, dict) or not set(fields) <= REVIEW_FIELDS:
        raise BadInput(f"{where}.fields: expected some of {', '.join(sorted(REVIEW_FIELDS))}")
    if fields and entry.get("decision") != "correct":
        raise BadInput(f"{where}.fields: only a `correct` decision carries fields")


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
        if client_id == REVIEW_KEY:
            _check_review(path, entry)
            continue
        if not isinstance(entry, dict) or not set(entry) <= {"account_team", "client"}:
            raise BadInput(f'{path}: {client_id}: expected {{"account_team": …, "client": …}}')
        for role, choice in entry.items():
            if choice not in VALID_CHOICES:
                raise BadInput(f"{path}: {client_id}.{role}: {choice!r} is not approve, decline or none")
    return raw

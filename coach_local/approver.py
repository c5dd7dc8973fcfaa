"""Answers approval emails from the outbox the way a person would: open the link (GET), then submit the form."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

LINK = re.compile(r"https?://[^\s\"'<>]+/a/[A-Za-z0-9_-]{20,}")
CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')

# decisions file: client_id → {"account_team": "approve"|"decline"|"none", "client": ...}; default approve
Decisions = dict[str, dict[str, str]]


@dataclass(frozen=True)
class ApprovalEmail:
    path: Path
    campaign_id: str
    client_id: str
    role: str
    attempt: str
    kind: str
    link: str


def read_approval_email(path: Path) -> ApprovalEmail | None:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    if message.get("X-Coach-Kind") != "approval":
        return None
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    match = LINK.search(text)
    if not match:
        return None
    return ApprovalEmail(
        path,
        str(message.get("X-Coach-Campaign", "")),
        str(message.get("X-Coach-Client", "")),
        str(message.get("X-Coach-Role", "")),
        str(message.get("X-Coach-Attempt", "0")),
        str(message.get("X-Coach-Request", "ask")),
        match.group(0),
    )


def answer(link: str, decision: str, comment: str = "") -> int:
    """GET the confirmation page, then POST the form with its CSRF token; returns the POST's status."""
    opener = urllib.request.build_opener()
    opener.addheaders = [("User-Agent", "coach-demo-approver/1.0")]
    with opener.open(link, timeout=30) as page:
        html = page.read().decode("utf-8")
    token = CSRF.search(html)
    if token is None:
        raise RuntimeError("the confirmation page has no form to submit")
    form = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "decision": decision, "comment": comment}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 — an http(s) link matched by LINK in an approval email
        link,
        data=form,
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "coach-demo-approver/1.0",
        },
    )
    try:
        with opener.open(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


class OutboxWatcher:
    """Polls the outbox; for every new approval email calls `on_email` once per (campaign, client, role, attempt)."""

    def __init__(self, outbox: Path, on_email: Callable[[ApprovalEmail], None], poll: float = 0.1) -> None:
        self.outbox = outbox
        self.on_email = on_email
        self.poll = poll
        self._seen_files: set[str] = set()
        self._seen_requests: set[tuple[str, str, str, str]] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="outbox-watcher")
        self.errors: list[str] = []

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            for path in sorted(self.outbox.glob("*.eml")):
                if path.name in self._seen_files:
                    continue
                self._seen_files.add(path.name)
                try:
                    found = read_approval_email(path)
                    if found is None:
                        continue
                    key = (found.campaign_id, found.client_id, found.role, found.attempt)
                    if key in self._seen_requests:
                        continue  # another recipient of the same request: the first decision wins anyway
                    self._seen_requests.add(key)
                    self.on_email(found)
                except Exception as exc:  # keep watching; the run reports what went wrong
                    self.errors.append(f"{path.name}: {type(exc).__name__}: {exc}")
            self._stop.wait(self.poll)


def auto_approver(
    decisions: Decisions, errors: list[str], workers: int = 8
) -> Callable[[ApprovalEmail], None]:
    """Answers like a team of people would: several at once, each GET-then-POST; problems go to `errors`."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="approver")

    def decide(found: ApprovalEmail, choice: str) -> None:
        try:
            status = answer(found.link, choice)
            if status != 200:
                errors.append(
                    f"{found.client_id} {found.role} attempt {found.attempt}: the page answered {status}"
                )
        except Exception as exc:
            errors.append(
                f"{found.client_id} {found.role} attempt {found.attempt}: {type(exc).__name__}: {exc}"
            )

    def on_email(found: ApprovalEmail) -> None:
        choice = decisions.get(found.client_id, {}).get(found.role, "approve")
        if choice != "none":
            pool.submit(decide, found, choice)

    return on_email

"""Answers approval emails as they are sent, the way a person would: open the link (GET), then submit the form."""

from __future__ import annotations

import email
import email.parser
import email.policy
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import cast

from coach_local.inputs import Decisions
from coach_local.runtime.answers import AnswerClock, Question, question_of
from coach_local.runtime.mailboxes import Mailboxes, is_kind

LINK = re.compile(r"https?://[^\s\"'<>]+/a/[A-Za-z0-9_-]{20,}")
CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
DEMO_DECLINE_REASON = "not_relevant"
APPROVER_AGENT = "coach-demo-approver/1.0"
DIGEST_LINK = re.compile(r"https?://[^\s\"'<>]+/d/[A-Za-z0-9_-]{20,}")
DIGEST_ROW = re.compile(r'data-index="(\d+)" data-client="([^"]*)" data-role="([^"]*)"')


@dataclass(frozen=True)
class ApprovalEmail:
    campaign_id: str
    client_id: str
    role: str
    attempt: str
    kind: str
    link: str

    @property
    def question(self) -> Question:
        return question_of(self.campaign_id, self.client_id, self.role, self.attempt)


def linked_email(raw: bytes, kind: str, link: re.Pattern[str]) -> tuple[EmailMessage, str] | None:
    """A message of this X-Coach-Kind and the first `link` in its plain text; None for any other email (only its
    headers are read then) or one without the link."""
    if not is_kind(raw, kind):
        return None
    message = cast(EmailMessage, email.message_from_bytes(raw, policy=email.policy.default))  # its class
    body = message.get_body(preferencelist=("plain",))
    match = link.search(body.get_content() if body is not None else "")
    return (message, match.group(0)) if match else None


def asked_in(message: EmailMessage, link: str) -> ApprovalEmail:
    """The question an approval (or review) email asks, from its routing headers: ids only."""
    return ApprovalEmail(
        str(message.get("X-Coach-Campaign", "")).strip(),
        str(message.get("X-Coach-Client", "")).strip(),
        str(message.get("X-Coach-Role", "")).strip(),
        str(message.get("X-Coach-Attempt", "0")).strip(),
        str(message.get("X-Coach-Request", "ask")).strip(),
        link,
    )


def read_approval_email(raw: bytes) -> ApprovalEmail | None:
    """The approval request in a raw message, or None for any other email."""
    found = linked_email(raw, "approval", LINK)
    return asked_in(*found) if found else None


@dataclass(frozen=True)
class DigestEmail:
    """A digest: one link, several questions (campaign, client, role, attempt), in the order of its page's rows."""

    link: str
    questions: tuple[Question, ...]

    @property
    def role(self) -> str:
        return "/".join(sorted({q[2] for q in self.questions}))

    @property
    def client_id(self) -> str:
        return ", ".join(q[1] for q in self.questions)


def read_digest_email(raw: bytes) -> DigestEmail | None:
    found = linked_email(raw, "approval_digest", DIGEST_LINK)
    if found is None:
        return None
    message, link = found
    questions = tuple(
        question_of(*part.split("|", 3))
        for part in str(message.get("X-Coach-Questions", "")).split(",")
        if part
    )
    return DigestEmail(link, questions)


def submit(link: str, agent: str, fill: Callable[[str], dict[str, str]]) -> tuple[int, str]:
    """As a person's browser: GET the page at `link`, then POST the form fields `fill` makes of its HTML (with the
    page's CSRF token); the POST's status, and the page it answered with when it refused (else "")."""
    opener = urllib.request.build_opener()
    opener.addheaders = [("User-Agent", agent)]
    with opener.open(link, timeout=30) as page:
        fields = fill(page.read().decode("utf-8"))
    request = urllib.request.Request(  # noqa: S310 — an http(s) link matched in one of our emails
        link,
        data=urllib.parse.urlencode(fields).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": agent},
    )
    try:
        with opener.open(request, timeout=30) as response:
            return int(response.status), ""
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode("utf-8", "replace")


def csrf_token(page: str, what: str) -> str:
    token = CSRF.search(page)
    if token is None:
        raise RuntimeError(f"the {what} page has no form to submit")
    return token.group(1)


def answer_digest(link: str, choices: dict[tuple[str, str], str]) -> int:
    """GET the digest page, then POST one choice per (client, role) row (approve, decline or later)."""

    def fill(page: str) -> dict[str, str]:
        fields = {"csrf_token": csrf_token(page, "digest")}
        for index, client_id, role in DIGEST_ROW.findall(page):
            choice = choices.get((client_id, role), "later")
            fields[f"c{index}-decision"] = choice
            if choice == "decline":
                fields[f"c{index}-reason"] = DEMO_DECLINE_REASON
        return fields

    return submit(link, APPROVER_AGENT, fill)[0]


def answer(link: str, decision: str, comment: str = "") -> int:
    """GET the confirmation page, then POST the form with its CSRF token; returns the POST's status."""

    def fill(page: str) -> dict[str, str]:
        fields = {"csrf_token": csrf_token(page, "confirmation"), "decision": decision, "comment": comment}
        if decision == "decline":  # a decline needs a reason: the demo approver's is "not relevant"
            fields["reason"] = DEMO_DECLINE_REASON
        return fields

    return submit(link, APPROVER_AGENT, fill)[0]


class Inbox:
    """Reads every email SES sends (coach_local/runtime/mailboxes.py) as it is sent; for every approval request
    calls `on_email` once per (campaign, client, role, attempt), in the sending thread."""

    def __init__(self, mailboxes: Mailboxes, on_email: Callable[[ApprovalEmail], None]) -> None:
        self.mailboxes = mailboxes
        self.on_email = on_email
        self._seen_requests: set[tuple[str, str, str, str]] = set()
        self._lock = threading.Lock()
        self._unsubscribe: Callable[[], None] | None = None
        self.errors: list[str] = []

    def start(self) -> None:
        self._unsubscribe = self.mailboxes.subscribe(self._read)

    def stop(self) -> None:
        """No more emails; answers under way (an AutoApprover's) finish first."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if isinstance(self.on_email, AutoApprover):
            self.on_email.close()

    def _read(self, raw: bytes) -> None:
        try:
            if (digest := read_digest_email(raw)) is not None:
                self._read_digest(digest)
                return
            found = read_approval_email(raw)
            if found is None:
                return
            with self._lock:
                if found.question in self._seen_requests:
                    return  # another recipient of the same request: the first decision wins anyway
                self._seen_requests.add(found.question)
            self.on_email(found)
        except Exception as exc:  # never fail the send; the run reports what went wrong
            self.errors.append(f"an approval email: {type(exc).__name__}: {exc}")

    def _read_digest(self, digest: DigestEmail) -> None:
        """A digest asks several questions; each is answered once, whoever's email it came in."""
        with self._lock:
            unseen = tuple(q for q in digest.questions if q not in self._seen_requests)
            self._seen_requests.update(unseen)
        on_digest = getattr(self.on_email, "on_digest", None)
        if unseen and on_digest is not None:
            on_digest(DigestEmail(digest.link, unseen))


class ForwardLinks:
    """Interactive runs: every link (a client's own, or a digest's) goes to `on_link`, for a person to open."""

    def __init__(self, on_link: Callable[[object], None] | None) -> None:
        self.on_link = on_link

    def __call__(self, found: ApprovalEmail) -> None:
        if self.on_link:
            self.on_link(found)

    def on_digest(self, found: DigestEmail) -> None:
        if self.on_link:
            self.on_link(found)


ANSWER_ATTEMPTS = 5  # a page that could not reach the workflow asks to press again: the approver does


class AutoApprover:
    """Answers like a team of people would: several at once, each GET-then-POST; problems go to `errors`. With an
    answer clock, the question's wait stands still from the email's arrival until the answer is in. `close()`
    lets the answers under way finish and ends the team's threads."""

    def __init__(
        self, decisions: Decisions, errors: list[str], answers: AnswerClock | None = None, workers: int = 8
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.decisions, self.errors, self.answers = decisions, errors, answers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="approver")

    def __call__(self, found: ApprovalEmail) -> None:
        choice = self.decisions.get(found.client_id, {}).get(found.role, "approve")
        if choice == "none":
            return
        if self.answers is not None:
            self.answers.hold(found.question)  # before this send returns, so before the wait begins
        self._pool.submit(self._decide, found, choice)

    def on_digest(self, found: DigestEmail) -> None:
        """Every question of a digest answered in one submit, as the person reading it would."""
        choices = {
            (client_id, role): self.decisions.get(client_id, {}).get(role, "approve")
            for _, client_id, role, _ in found.questions
        }
        answered = [q for q in found.questions if choices[(q[1], q[2])] != "none"]
        if not answered:
            return
        if self.answers is not None:
            for question in answered:
                self.answers.hold(question)
        wanted = {key: ("later" if choice == "none" else choice) for key, choice in choices.items()}
        self._pool.submit(self._decide_digest, found, wanted, answered)

    def _decide_digest(
        self, found: DigestEmail, choices: dict[tuple[str, str], str], answered: list[Question]
    ) -> None:
        try:
            problem = None
            for attempt in range(ANSWER_ATTEMPTS):
                try:
                    status = answer_digest(found.link, choices)
                except OSError as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                else:
                    if status < 500:
                        problem = None if status == 200 else f"the digest page answered {status}"
                        break
                    problem = f"the digest page answered {status}"
                if attempt + 1 < ANSWER_ATTEMPTS:
                    time.sleep(1.0)
            if problem:
                self.errors.append(f"a digest of {len(found.questions)} questions: {problem}")
        except Exception as exc:
            self.errors.append(f"a digest: {type(exc).__name__}: {exc}")
        finally:
            if self.answers is not None:
                for question in answered:
                    self.answers.release(question)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _decide(self, found: ApprovalEmail, choice: str) -> None:
        who = f"{found.client_id} {found.role} attempt {found.attempt}"
        try:
            problem = self._answer(found, choice)
            if problem:
                self.errors.append(f"{who}: {problem}")
        except Exception as exc:
            self.errors.append(f"{who}: {type(exc).__name__}: {exc}")
        finally:
            if self.answers is not None:
                self.answers.release(found.question)

    def _answer(self, found: ApprovalEmail, choice: str) -> str | None:
        """None when the page took the answer; otherwise what went wrong the last time."""
        problem = None
        for attempt in range(ANSWER_ATTEMPTS):
            try:
                status = answer(found.link, choice)
            except OSError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if status < 500:
                    return None if status == 200 else f"the page answered {status}"
                problem = f"the page answered {status}"
            if attempt + 1 < ANSWER_ATTEMPTS:
                time.sleep(1.0)
        return problem


def auto_approver(
    decisions: Decisions, errors: list[str], answers: AnswerClock | None = None, workers: int = 8
) -> AutoApprover:
    return AutoApprover(decisions, errors, answers, workers)

"""The local clinical pharmacist: answers review emails as a person would, opening the review page (GET) and
submitting its form (POST with the page's CSRF token), confirming, correcting or dismissing as the decisions file
says (`"clinical_review"` entry, docs/feeds.md "Clinical review")."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from typing import Any

from coach_local.approver import ApprovalEmail, asked_in, csrf_token, linked_email, submit
from coach_local.inputs import ReviewChoice
from coach_local.runtime.answers import AnswerClock
from coach_local.runtime.mailboxes import Mailboxes

LINK = re.compile(r"https?://[^\s\"'<>]+/r/[A-Za-z0-9_-]{20,}")
TEXTAREA = re.compile(r'<textarea id="(\w+)" name="\w+"[^>]*>(.*?)</textarea>', re.DOTALL)
INPUT = re.compile(r'<input id="(\w+)" name="\w+" value="([^"]*)"')
PROBLEMS = re.compile(r'<div class="status" role="alert" id="problems">(.*?)</div>', re.DOTALL)
FIELDS = ("ndcs", "effective_date", "alternatives", "summary")


def read_review_email(raw: bytes) -> ApprovalEmail | None:
    """The review request in a raw message, or None for any other email."""
    found = linked_email(raw, "clinical_review", LINK)
    return asked_in(*found) if found else None


def page_form(page: str) -> dict[str, str]:
    """The review form's fields as the page fills them (the candidate, or what was typed before)."""
    token = csrf_token(page, "review")
    fields = {name: html.unescape(value) for name, value in TEXTAREA.findall(page)}
    fields.update({name: html.unescape(value) for name, value in INPUT.findall(page)})
    return {"csrf_token": token, **{name: fields.get(name, "") for name in FIELDS}}


def as_form_text(name: str, value: Any) -> str:
    """A decisions file's value as the field holds it: NDC and alternative lists one per line."""
    return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)


def review(link: str, choice: ReviewChoice) -> tuple[int, str]:
    """GET the review page, then POST its form with the choice and corrections; (status, refusal text if any)."""

    def fill(page: str) -> dict[str, str]:
        form = page_form(page)
        for name, value in (choice.get("fields") or {}).items():
            form[name] = as_form_text(name, value)
        form["decision"] = "dismiss" if choice.get("decision", "confirm") == "dismiss" else "confirm"
        form["comment"] = str(choice.get("comment", ""))
        return form

    status, refusal = submit(link, "coach-demo-pharmacist/1.0", fill)
    found = PROBLEMS.search(refusal)
    text = re.sub(r"<[^>]+>", " ", found.group(1)) if found else ""
    return status, " ".join(html.unescape(text).split())


class ClinicalReviewer:
    """Reads every review email as it is sent and answers it once per (campaign, attempt) in a thread of its own;
    with an answer clock, the review's wait stands still while the answer is on its way. `on_link` instead (a person
    clicks): the link is handed over and nobody answers. `choice` is one answer for every campaign, or a function of
    the campaign id (campaigns run side by side answered differently)."""

    def __init__(
        self,
        mailboxes: Mailboxes,
        choice: ReviewChoice | Callable[[str], ReviewChoice],
        errors: list[str],
        answers: AnswerClock | None = None,
        on_link: Callable[[ApprovalEmail], None] | None = None,
    ) -> None:
        self.mailboxes, self.choice, self.errors, self.answers, self.on_link = (
            mailboxes,
            choice,
            errors,
            answers,
            on_link,
        )
        self._seen: set[tuple[str, str, str, str]] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._unsubscribe: Callable[[], None] | None = None
        self.answered: list[tuple[str, int]] = []  # (campaign, the POST's status)

    def choice_for(self, campaign_id: str) -> ReviewChoice:
        return self.choice(campaign_id) if callable(self.choice) else self.choice

    def start(self) -> None:
        self._unsubscribe = self.mailboxes.subscribe(self._read)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for thread in list(self._threads):
            thread.join(timeout=60)

    def _read(self, raw: bytes) -> None:
        try:
            found = read_review_email(raw)
            if found is None:
                return
            with self._lock:
                if found.question in self._seen:
                    return
                self._seen.add(found.question)
            if self.on_link is not None:
                self.on_link(found)
                return
            if self.choice_for(found.campaign_id).get("decision") == "none":
                return
            if self.answers is not None:
                self.answers.hold(found.question)  # before this send returns, so before the wait begins
            thread = threading.Thread(target=self._answer, args=(found,), name="pharmacist", daemon=True)
            self._threads.append(thread)
            thread.start()
        except Exception as exc:  # never fail the send; the run reports what went wrong
            self.errors.append(f"a review email: {type(exc).__name__}: {exc}")

    def _answer(self, found: ApprovalEmail) -> None:
        try:
            status, refusal = review(found.link, self.choice_for(found.campaign_id))
            self.answered.append((found.campaign_id, status))
            if status != 200:
                self.errors.append(
                    f"clinical review of {found.campaign_id}: the page answered {status}"
                    + (f": {refusal}" if refusal else "")
                )
        except Exception as exc:
            self.errors.append(f"clinical review of {found.campaign_id}: {type(exc).__name__}: {exc}")
        finally:
            if self.answers is not None:
                self.answers.release(found.question)

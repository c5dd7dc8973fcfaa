"""What a digest looks like: its email, its page (every client, with an Open link and a choice each) and the page
after a submit (one line per client). Autoescaped like every other page (coach.approvals.pages)."""

from __future__ import annotations

from dataclasses import dataclass

from coach.approvals.pages import OK, STOP, WARN, Page, _env, request_facts, when
from coach.approvals.reasons import DECLINE_REASONS, MAX_COMMENT
from coach.approvals.records import LinkRecord
from coach.models import ApprovalRequest
from coach.ports import Email

MAX_ROW_COMMENT = 500  # per client on a digest: the whole form stays a small POST
KIND_LABELS = {"ask": "new", "reminder": "reminder", "escalation": "escalation"}


def headline_of(request: ApprovalRequest | None) -> str | None:
    """The brief's one-line headline where the ask carries one (the brief is another stage's; this reads it only)."""
    for holder in (request, getattr(request, "event", None), getattr(request, "brief", None)):
        value = getattr(holder, "headline", None)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


@dataclass(frozen=True)
class Row:
    """One client on a digest: its link, where to open it alone, and (once settled) what happened."""

    index: int
    link: LinkRecord
    headline: str | None = None
    settled: str | None = None  # "approved by … at …", "no longer waiting", …: no choice is offered then

    @property
    def facts(self) -> dict[str, object]:
        return {
            **request_facts(self.link),
            "headline": self.headline,
            "kind_label": KIND_LABELS[self.link.kind],
        }


def _intro(links: list[LinkRecord]) -> str:
    behalf = {link.on_behalf_of for link in links if link.on_behalf_of}
    names = "; ".join(sorted(behalf))
    note = f" You are asked on behalf of {names}, who named you as their delegate." if behalf else ""
    return (
        f"We need your decision for {len(links)} clients whose members are affected by drug market events. "
        "One page lists them all: approve them together, and decline any client with a reason." + note
    )


def digest_email(
    links: list[LinkRecord], requests: list[ApprovalRequest], *, url: str, sender: str, idempotency_key: str
) -> Email:
    rows = [Row(i, link, headline_of(req)) for i, (link, req) in enumerate(zip(links, requests, strict=True))]
    first = links[0]
    context = {"rows": rows, "intro": _intro(links), "url": url, "recipient": first.recipient}
    escalation = any(link.escalation_contact for link in links)
    reminder = any(link.kind != "ask" for link in links)
    prefix = (
        "Escalation: decisions needed"
        if escalation
        else "Reminder: decisions needed"
        if reminder
        else "Decisions needed"
    )
    campaigns = sorted({link.campaign_id for link in links})
    return Email(
        to=(first.recipient,),
        sender=sender,
        subject=f"{prefix}: {len(links)} clients",
        text=_env().get_template("digest_email.txt.j2").render(**context),
        html=_env().get_template("digest_email.html.j2").render(**context),
        idempotency_key=idempotency_key,
        tags={
            # the questions it asks (campaign|client|role|attempt, comma-separated): routing labels, ids only
            "questions": ",".join(f"{q.campaign_id}|{q.client_id}|{q.role}|{q.attempt}" for q in links),
            "kind": "approval_digest",
            "campaign": campaigns[0] if len(campaigns) == 1 else "several",
            "clients": str(len(links)),
        },
    )


def digest_page(rows: list[Row], csrf_token: str, base_path: str) -> Page:
    open_rows = [row for row in rows if row.settled is None]
    html = (
        _env()
        .get_template("digest.html.j2")
        .render(
            title=f"Decide for {len(rows)} clients",
            accent=OK,
            rows=rows,
            open_rows=open_rows,
            intro=_intro([row.link for row in rows]),
            csrf_token=csrf_token,
            base_path=base_path,
            reasons=DECLINE_REASONS,
            max_comment=min(MAX_ROW_COMMENT, MAX_COMMENT),
        )
    )
    return Page(200, html)


@dataclass(frozen=True)
class Outcome:
    client: str  # "Name (ID)"
    line: str
    ok: bool


def digest_done_page(outcomes: list[Outcome]) -> Page:
    accent = OK if all(o.ok for o in outcomes) else WARN
    html = (
        _env()
        .get_template("digest_done.html.j2")
        .render(title="Thank you: your decisions", accent=accent, outcomes=outcomes, stop=STOP)
    )
    return Page(200, html)


def settled_line(decision_verb: str, who: str, at: float) -> str:
    return f"{decision_verb} by {who} at {when(at)}"

"""One email per person: asks are collected per person and sent together (docs/architecture.md, "Digests").

Timing rule. An ask is stored in its person's queue the moment its task token arrives, and the sender is woken for
that person `quiet` seconds later. A woken sender sends the person's queued asks when none arrived in the last
`quiet` seconds, or when the oldest has waited `max_delay` seconds; otherwise it does nothing, because the newest
ask's own wake-up comes later. Each ask's wait (its task token) is untouched: a digest of several clients is one
email and one page, but every client's decision is still its own link, its own first-decision-wins record, its own
audit record and its own callback.

A person with one queued ask gets today's per-client email (its own link); two or more get one digest link.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from coach.approvals.asking import ask_email, new_link, page_extras, prepare_group, recipients
from coach.approvals.delegation import Asked, delegated
from coach.approvals.digest_pages import digest_email
from coach.approvals.digest_records import MAX_DIGEST_ROWS, DigestRecord, QueuedAsk
from coach.approvals.records import DecisionRecord, LinkRecord, link_hash, new_csrf_token, new_link_id
from coach.models import ApprovalRequest
from coach.ports import ApprovalStore, DigestScheduler, DigestStore, Mailer, ObjectStore

CLOCK_TOLERANCE_SECONDS = 1.0  # a wake-up a little early (clocks of SQS and Lambda) still counts as quiet


@dataclass(frozen=True)
class Timing:
    quiet: float  # send when no ask arrived for this long
    max_delay: float  # and never hold the oldest ask longer than this

    def due(self, asks: list[QueuedAsk], now: float) -> bool:
        newest = max(a.queued_at for a in asks)
        oldest = min(a.queued_at for a in asks)
        return now - newest >= self.quiet - CLOCK_TOLERANCE_SECONDS or now - oldest >= self.max_delay


def queue_request(
    request: ApprovalRequest,
    *,
    store: ApprovalStore,
    digests: DigestStore,
    scheduler: DigestScheduler,
    objects: ObjectStore,
    data_bucket: str,
    timing: Timing,
    now: float,
    letters_bucket: str | None = None,
) -> list[str]:
    """The task's part: prepare the question's group, queue one ask per person (delegates resolved), wake each
    person's sender after the quiet period. Returns the people queued."""
    contacts = json.loads(objects.get(data_bucket, request.client.contacts_key))
    extras = page_extras(request, objects=objects, data_bucket=data_bucket, letters_bucket=letters_bucket)
    prepare_group(request, store=store)
    queued: list[str] = []
    for asked in delegated(recipients(request, contacts), digests, now):
        ask = QueuedAsk(
            recipient=asked.recipient,
            audience=asked.audience,
            escalation_contact=asked.escalation_contact,
            on_behalf_of=asked.on_behalf_of,
            queued_at=now,
            request=request,
            brief_json=extras.brief_json(asked.audience),
            specimens=extras.specimens,
        )
        if digests.queue_ask(ask):
            scheduler.schedule(ask.person, timing.quiet, request.task_token)
            queued.append(asked.recipient)
    return queued


def token_fingerprint(task_token: str) -> str:
    """Names a wait without carrying its token (a token in a log or a result could answer the wait)."""
    return hashlib.sha256(task_token.encode()).hexdigest()[:24]


@dataclass
class Sent:
    """What one wake-up did: the task tokens whose asks went out (or were dropped), and whether it waits on."""

    emailed: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    waiting: bool = False
    emails: int = 0


def _answered(decision: DecisionRecord | None, ask: QueuedAsk) -> bool:
    """A teammate's answer already reached this wait (or a delivered one from a redrive): nobody needs asking."""
    return decision is not None and (
        decision.delivery == "delivered" or decision.task_token == ask.request.task_token
    )


def send_due(
    person: str,
    *,
    store: ApprovalStore,
    digests: DigestStore,
    mailer: Mailer,
    sender: str,
    base_url: str,
    timing: Timing,
    now: float,
) -> Sent:
    """The sender's part, for one person: send the queued asks when the timing rule says so."""
    result = Sent()
    asks = sorted(digests.queued_asks(person), key=lambda a: (a.queued_at, a.group))
    if not asks:
        return result
    if not timing.due(asks, now):
        result.waiting = True
        return result
    live: list[QueuedAsk] = []
    decided = store.decisions([ask.group for ask in asks])  # the person's questions' decisions, read together
    for ask in asks:
        if _answered(decided.get(ask.group), ask):
            digests.drop_ask(ask)
            result.dropped.append(ask.request.task_token)
        else:
            live.append(ask)
    for start in range(0, len(live), MAX_DIGEST_ROWS):
        chunk = live[start : start + MAX_DIGEST_ROWS]
        _send(chunk, store=store, digests=digests, mailer=mailer, sender=sender, base_url=base_url, now=now)
        result.emails += 1
        for ask in chunk:
            digests.drop_ask(ask)
            result.emailed.append(ask.request.task_token)
    return result


def _send(
    asks: list[QueuedAsk],
    *,
    store: ApprovalStore,
    digests: DigestStore,
    mailer: Mailer,
    sender: str,
    base_url: str,
    now: float,
) -> None:
    links: list[tuple[str, LinkRecord]] = []
    # the page and the email list clients by name, whatever order their asks arrived in
    asks = sorted(asks, key=lambda a: (a.request.client.client_name.lower(), a.request.client.client_id))
    for ask in asks:
        link_id, link = new_link(
            ask.request,
            _asked(ask),
            now=now,
            asked_at=ask.queued_at,
            brief_json=ask.brief_json,
            specimens=ask.specimens,
        )
        store.put_link(link)
        links.append((link_id, link))
    if len(asks) == 1:
        (link_id, link), request = links[0], asks[0].request
        mailer.send(ask_email(request, link, link_id, base_url, sender))
        return
    digest_id = new_link_id()
    digest = DigestRecord(
        digest_hash=link_hash(digest_id),
        recipient=asks[0].recipient,
        link_hashes=[link.link_hash for _, link in links],
        csrf_token=new_csrf_token(),
        created_at=now,
        expires_at=max(link.expires_at for _, link in links),
    )
    digests.put_digest(digest)
    questions = sorted(f"{a.group}#{a.request.attempt}" for a in asks)
    key = hashlib.sha256("\n".join(questions).encode()).hexdigest()[:32]
    mailer.send(
        digest_email(
            [link for _, link in links],
            [a.request for a in asks],
            url=f"{base_url.rstrip('/')}/d/{digest_id}",
            sender=sender,
            idempotency_key=f"digest/{asks[0].person}/{key}",
        )
    )


def _asked(ask: QueuedAsk) -> Asked:
    return Asked(ask.recipient, ask.audience, ask.escalation_contact, ask.on_behalf_of)

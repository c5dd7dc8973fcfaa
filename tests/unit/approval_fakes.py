"""Helpers for the approval tests: a request, its contacts, fakes with teeth, and API Gateway v2 events."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from botocore.exceptions import ClientError
from coach.adapters.memory import MemoryApprovalStore, MemoryCallbacks, MemoryMailer, MemoryObjectStore
from coach.approvals.asking import request_approval
from coach.approvals.deciding import decide, show
from coach.approvals.pages import Page
from coach.models import ApprovalRequest, ClientWork, Drug, MarketEvent, Role
from coach.ports import ApprovalStore

NOW = 1_800_000_000.0
BUCKET = "data"
BASE_URL = "https://approve.example.org"
SENDER = "clinical@pbm.example"
TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAR-secret-task-token-value-0001"
ACCOUNT_TEAM = ["ann@pbm.example", "bob@pbm.example"]
CLIENT_CONTACTS = ["benefits@acme.example"]
ESCALATION = "vp@acme.example"
LINK = re.compile(r"/a/([A-Za-z0-9_-]{20,})")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def market_event() -> MarketEvent:
    return MarketEvent(
        event_id="evt-1",
        event_type="otc_switch",
        drug=Drug(name="Claritin", ingredient="loratadine"),
        effective_date=date(2027, 1, 15),
        announced_on=date(2026, 11, 1),
        summary="Loratadine moves to over-the-counter sale.",
    )


def approval_request(
    *,
    role: Role = "account_team",
    kind: Literal["ask", "reminder", "escalation"] = "ask",
    attempt: int = 0,
    token: str = TOKEN,
    client_name: str = "Acme Corp",
    affected: int = 1234,
    reachable: int = 1002,
    deadline_seconds: int = 3600,
) -> ApprovalRequest:
    client = ClientWork(
        client_id="C1",
        client_name=client_name,
        affected=affected,
        reachable=reachable,
        election="ask",
        batches_key="campaigns/cmp-1/audience/C1/batches.json",
        batch_count=1,
        contacts_key="campaigns/cmp-1/audience/C1/contacts.json",
    )
    return ApprovalRequest(
        campaign_id="cmp-1",
        client=client,
        role=role,
        task_token=token,
        event=market_event(),
        kind=kind,
        attempt=attempt,
        deadline_seconds=deadline_seconds,
    )


def contacts_json() -> bytes:
    return json.dumps(
        {
            "account_team_emails": ACCOUNT_TEAM,
            "client_contact_emails": CLIENT_CONTACTS,
            "escalation_email": ESCALATION,
        }
    ).encode()


def closed_task(code: str = "TaskTimedOut") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "Task Timed Out"}}, "SendTaskSuccess")


class ClosedCallbacks(MemoryCallbacks):
    """The workflow stopped waiting: every callback fails as Step Functions would."""

    def __init__(self, code: str = "TaskTimedOut") -> None:
        super().__init__()
        self.code = code

    def succeed(self, task_token: str, output: dict) -> None:
        raise closed_task(self.code)

    def fail(self, task_token: str, error: str, cause: str) -> None:
        raise closed_task(self.code)


class AuditFirstCallbacks(MemoryCallbacks):
    """Refuses to be called unless the decision's audit record already exists."""

    def __init__(self, store: ApprovalStore, campaign_id: str = "cmp-1") -> None:
        super().__init__()
        self.store, self.campaign_id = store, campaign_id
        self.audit_seen: list[int] = []

    def _check(self) -> None:
        records = [r for r in self.store.audit(self.campaign_id) if r.action in ("approved", "declined")]
        assert records, "callback before the audit record was written"
        self.audit_seen.append(len(records))

    def succeed(self, task_token: str, output: dict) -> None:
        self._check()
        super().succeed(task_token, output)

    def fail(self, task_token: str, error: str, cause: str) -> None:
        self._check()
        super().fail(task_token, error, cause)


@dataclass
class Approvals:
    """One approval world in memory: ask, then open and answer the links like a person would."""

    store: ApprovalStore = field(default_factory=MemoryApprovalStore)
    mailer: MemoryMailer = field(default_factory=MemoryMailer)
    objects: MemoryObjectStore = field(default_factory=MemoryObjectStore)
    callbacks: MemoryCallbacks = field(default_factory=MemoryCallbacks)

    def __post_init__(self) -> None:
        self.objects.put(BUCKET, "campaigns/cmp-1/audience/C1/contacts.json", contacts_json())

    def ask(self, request: ApprovalRequest | None = None, now: float = NOW) -> dict[str, str]:
        """Send the request; returns recipient → link id, read from the emails just sent."""
        before = len(self.mailer.sent)
        request_approval(
            request or approval_request(),
            store=self.store,
            mailer=self.mailer,
            objects=self.objects,
            data_bucket=BUCKET,
            sender=SENDER,
            base_url=BASE_URL,
            now=now,
        )
        return {email.to[0]: link_id_in(email.text) for email in self.mailer.sent[before:]}

    def open(self, link_id: str, now: float = NOW + 60) -> Page:
        return show(link_id, store=self.store, now=now)

    def answer(
        self,
        link_id: str,
        decision: str = "approve",
        *,
        now: float = NOW + 120,
        comment: str = "",
        csrf: str | None = None,
        reason: str = "not_relevant",
    ) -> Page:
        token = csrf if csrf is not None else csrf_in(self.open(link_id, now=now).html)
        form = {"csrf_token": token, "decision": decision, "comment": comment}
        if decision == "decline":  # a decline needs a reason (coach.approvals.reasons)
            form["reason"] = reason
        return self.post(link_id, form, now=now)

    def post(self, link_id: str, form: dict[str, str], now: float = NOW + 120) -> Page:
        return decide(
            link_id,
            form,
            store=self.store,
            callbacks=self.callbacks,
            now=now,
            source_ip="203.0.113.9",
            user_agent="Mozilla/5.0 (test)",
        )


def link_id_in(text: str) -> str:
    found = LINK.findall(text)
    assert len(set(found)) == 1, f"expected exactly one link, found {len(set(found))}"
    return found[0]


def csrf_in(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no form"
    return match.group(1)


def http_api_event(
    method: str,
    path: str,
    body: str | bytes | None = None,
    *,
    base64_body: bool = False,
    headers: dict[str, str] | None = None,
    source_ip: str = "198.51.100.7",
    user_agent: str = "Mozilla/5.0 (iPhone)",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event: the handler routes it as it routes the deployed REST API's."""
    raw = body.encode() if isinstance(body, str) else body
    all_headers = {"user-agent": user_agent, "host": "approve.example.org", **(headers or {})}
    if raw is not None:
        all_headers.setdefault("content-type", "application/x-www-form-urlencoded")
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api1",
            "domainName": "approve.example.org",
            "stage": "$default",
            "requestId": "req-1",
            "routeKey": "$default",
            "time": "22/Nov/2026:15:00:00 +0000",
            "timeEpoch": 1_800_000_000_000,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": user_agent,
            },
        },
        "body": (base64.b64encode(raw).decode() if base64_body else raw.decode())
        if raw is not None
        else None,
        "isBase64Encoded": base64_body and raw is not None,
    }

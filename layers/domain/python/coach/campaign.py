"""Per-client outcomes and the campaign report (counts only: no member appears here)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from coach import keys
from coach.addresses import neutralised
from coach.approvals.reasons import reason_label
from coach.approvals.records import group_of, iso
from coach.brief.report import report_brief
from coach.models import ClientOutcome, ClientWork, Decision, MarketEvent
from coach.outcomes.service import read_outcomes
from coach.ports import NotFound, ObjectStore
from coach.prescribers.report import add_prescribers
from coach.reads import read_each
from coach.review.summary import review_summary

ManifestMerger = Callable[[ObjectStore, str, str, str], tuple[int, int]]


class Decisions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    account_team: Decision = "not_asked"
    client: Decision = "not_asked"


class OutcomeRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    campaign_id: str
    client: ClientWork
    decisions: Decisions


def letters_went_out(client: ClientWork, decisions: Decisions) -> bool:
    """True when the branch reached the letters stage: nobody declined or stayed silent, no `never`, and the client's
    contacts were usable."""
    if client.contacts_error:
        return False
    if client.election == "never" and decisions.account_team == "not_asked" and decisions.client == "auto":
        return False
    return all(d in ("approved", "auto", "not_asked") for d in (decisions.account_team, decisions.client))


def outcome_label(client: ClientWork, decisions: Decisions) -> str:
    if client.contacts_error:
        return "invalid_contacts"
    if decisions.account_team == "declined":
        return "declined_by_account_team"
    if decisions.account_team == "no_response":
        return "no_response_account_team"
    if decisions.client == "declined":
        return "declined_by_client"
    if decisions.client == "no_response":
        return "no_response_client"
    if not letters_went_out(client, decisions):
        return "election_never"
    if client.reachable == 0:
        return "no_reachable_members"
    return "letters_sent"


def record_outcome(
    request: OutcomeRequest,
    *,
    store: ObjectStore,
    data_bucket: str,
    letters_bucket: str,
    merge_manifest: ManifestMerger,
) -> ClientOutcome:
    client, decisions = request.client, request.decisions
    letters = emails = 0
    if letters_went_out(client, decisions) and client.batch_count > 0:
        letters, emails = merge_manifest(store, letters_bucket, request.campaign_id, client.client_id)
    outcome = ClientOutcome(
        client_id=client.client_id,
        client_name=client.client_name,
        election=client.election,
        affected=client.affected,
        reachable=client.reachable,
        account_team_decision=decisions.account_team,
        client_decision=decisions.client,
        letters=letters,
        emails=emails,
        outcome=outcome_label(client, decisions),
        data_issues=client.data_issues,
    )
    store.put(
        data_bucket,
        keys.outcome_key(request.campaign_id, client.client_id),
        outcome.model_dump_json().encode(),
        "application/json",
    )
    return outcome


class ApprovalHistory(Protocol):
    """What the report reads from the approval store (coach.ports.ApprovalStore satisfies it)."""

    def groups_links(self, groups: Sequence[str]) -> dict[str, list[Any]]: ...

    def decisions(self, groups: Sequence[str]) -> dict[str, Any]: ...

    def question_audit(self, campaign_id: str, client_id: str, role: str) -> list[Any]: ...


def approval_timeline(
    campaign_id: str, client_ids: list[str], approvals: ApprovalHistory, time_scale: float = 1.0
) -> list[dict[str, Any]]:
    """One row per question asked (client × role): when, how many reminders and escalations, how long to answer.

    Times are workflow time: a local run whose days are shrunk by `time_scale` reports the playbook's days.
    No recipient or link appears here, only counts and times.
    """
    questions = [
        (c, role, group_of(campaign_id, c, role)) for c in client_ids for role in ("account_team", "client")
    ]
    # read together (a few batch reads for the whole campaign, not two reads a question)
    asked = approvals.groups_links([group for _, _, group in questions])
    decided = approvals.decisions([group for _, _, group in questions if asked.get(group)])
    rows: list[dict[str, Any]] = []
    for client_id, role, group in questions:
        links = asked.get(group)
        if not links:
            continue
        first = min(link.created_at for link in links)
        attempts = {(link.kind, link.attempt) for link in links}
        decision = decided.get(group)
        if decision is not None and decision.delivery != "delivered":
            decision = None  # an answer the workflow never took (its wait had closed) did not count
        row: dict[str, Any] = {
            "client_id": client_id,
            "role": role,
            "asked_at": iso(first),
            "reminders": sum(1 for kind, _ in attempts if kind == "reminder"),
            "escalations": sum(1 for kind, _ in attempts if kind == "escalation"),
            "decision": decision.decision if decision else "no_response",
            "decided_at": iso(decision.decided_at) if decision else None,
            "response_seconds": (
                round(max(0.0, decision.decided_at - first) / time_scale, 1) if decision else None
            ),
            # why it was declined (the listed reason; the free text stays in the audit trail)
            "decline_reason": reason_label(decision.reason) if decision and decision.reason else None,
            "by_delegate": bool(decision and decision.on_behalf_of),
        }
        rows.append(row)
    return rows


def build_report(
    campaign_id: str,
    event: MarketEvent,
    *,
    store: ObjectStore,
    data_bucket: str,
    approvals: ApprovalHistory | None = None,
    time_scale: float = 1.0,
) -> dict[str, Any]:
    """report.json: one row per affected client, in client order, the totals and the approval timeline."""
    try:
        clients = [
            ClientWork.model_validate(c)
            for c in json.loads(store.get(data_bucket, keys.clients_key(campaign_id)))
        ]
    except NotFound:
        clients = []

    def row_of(client: ClientWork) -> dict[str, Any]:
        outcome = ClientOutcome.model_validate_json(
            store.get(data_bucket, keys.outcome_key(campaign_id, client.client_id))
        )
        return {
            "client_id": outcome.client_id,
            "client_name": neutralised(outcome.client_name),
            "election": outcome.election,
            "affected": outcome.affected,
            "reachable": outcome.reachable,
            "account_team_decision": outcome.account_team_decision,
            "client_decision": outcome.client_decision,
            "letters": outcome.letters + outcome.emails,
            "mailed": outcome.letters,
            "emailed": outcome.emails,
            "outcome": outcome.outcome,
            # members the audience rule reached whose own data could not be used, by reason
            "data_issues": outcome.data_issues,
            # the pharmacist's brief, exact (coach.brief.report): for scripts inside the PBM
            "brief": report_brief(store, data_bucket, client.brief_key),
            "held_out": client.held_out,  # reachable members the holdout kept from a letter (coach.outcomes)
        }

    # two reads a client, a few clients at once
    rows = read_each(row_of, sorted(clients, key=lambda c: c.client_id))
    totals = {
        name: sum(int(row[name]) for row in rows)
        for name in ("affected", "reachable", "letters", "mailed", "emailed")
    }
    issues: dict[str, int] = {}
    for row in rows:
        for reason, count in row["data_issues"].items():
            issues[reason] = issues.get(reason, 0) + count
    report = {
        "campaign_id": campaign_id,
        "event_id": event.event_id,
        "event_type": event.event_type,
        "drug": neutralised(event.drug.name),
        "status": "succeeded",
        "clients": rows,
        "totals": totals,
        "held_out": sum(
            int(row["held_out"]) for row in rows
        ),  # the holdout's members: no letter (coach.outcomes)
        "data_issues": dict(sorted(issues.items())),  # the campaign's members with unusable data, by reason
        "approvals": approval_timeline(campaign_id, [row["client_id"] for row in rows], approvals, time_scale)
        if approvals is not None
        else [],
    }
    if approvals is not None and (review := review_summary(campaign_id, store=approvals)) is not None:
        report["review"] = review  # a feed's candidate: the clinical pharmacist who confirmed or corrected it
    add_prescribers(report, store, data_bucket, campaign_id)  # issue 17: prescribers notified, not notified
    if (outcomes := read_outcomes(campaign_id, store=store, data_bucket=data_bucket)) is not None:
        report["outcomes"] = outcomes  # measured after the follow-up: per client, lettered against held out
    store.put(
        data_bucket, keys.report_key(campaign_id), json.dumps(report, indent=2).encode(), "application/json"
    )
    return report

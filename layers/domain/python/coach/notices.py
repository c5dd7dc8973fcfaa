"""Informational emails that ask nothing: mandatory notices (class I recalls: letters go regardless; the email
informs, counts only) and operator alerts (stage and error name only: no PHI, no event body)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from coach import keys
from coach.addresses import recipients_of
from coach.approvals.pages import event_label
from coach.audience.privacy import client_facing_count, exact_count
from coach.brief.projection import Brief
from coach.brief.service import load_brief
from coach.brief.views import view
from coach.lake_rules import LakeCheckFailed
from coach.models import Notice
from coach.observability import logger
from coach.ports import Email, Mailer, NotFound, ObjectStore

SIGNATURE = "-- Clinical Programs, Automated Pharmacist\n"


def send_notice(
    notice: Notice,
    *,
    mailer: Mailer,
    objects: ObjectStore,
    data_bucket: str,
    sender: str,
    operator_email: str | None,
) -> int:
    """Send the notice; returns how many emails were sent (0 when there is nobody to tell)."""
    if notice.kind == "operator_alert":
        branches = _unfinished_branches(notice.campaign_id, objects=objects, data_bucket=data_bucket)
        return _operator_alert(
            notice, mailer=mailer, sender=sender, operator_email=operator_email, branches=branches
        )
    if notice.kind == "invalid_contacts":
        return _invalid_contacts_alert(notice, mailer=mailer, sender=sender, operator_email=operator_email)
    if notice.client is None or notice.event is None:
        raise ValueError(f"a {notice.kind} notice needs client and event")
    client, event = notice.client, notice.event
    contacts = json.loads(objects.get(data_bucket, client.contacts_key))
    internal = notice.kind == "mandatory_account_team"
    field = "account_team_emails" if internal else "client_contact_emails"
    recipients = sorted(recipients_of(contacts.get(field)))
    counted = exact_count if internal else client_facing_count
    label = event_label(event.event_type, event.recall_class)
    text = (
        "Hello,\n\n"
        f"This is a notice, not a request. {event.drug.name}: {label}. Because this is a mandatory safety notice, "
        f"the pre-approved letter is being sent to the affected members of {client.client_name} without waiting "
        "for an opt-in.\n\n"
        f"  Client:            {client.client_name} ({client.client_id})\n"
        f"  Members affected:  {counted(client.affected)}\n"
        f"  Members reachable: {counted(client.reachable)}\n"
        f"  Effective:         {event.effective_date:%B %-d, %Y}\n\n"
        f"{event.summary}\n\n"
        f"{_brief_text(load_brief(objects, data_bucket, client.brief_key), client=not internal)}"
        f"No action is needed.\n{SIGNATURE}"
    )
    for recipient in recipients:
        mailer.send(
            Email(
                to=(recipient,),
                sender=sender,
                subject=f"Notice: {event.drug.name} {label}, letters going to {client.client_name} members",
                text=text,
                idempotency_key=f"notice/{notice.campaign_id}/{client.client_id}/{notice.kind}/{recipient}",
                tags={
                    "kind": "notice",
                    "campaign": notice.campaign_id,
                    "client": client.client_id,
                    "notice": notice.kind,
                },
            )
        )
    return len(recipients)


def _brief_text(brief: Brief | None, *, client: bool) -> str:
    """The pharmacist's brief in a notice, as the recipient may see it (a client's small cells suppressed)."""
    if brief is None:
        return ""
    shown = view(brief, client=client)
    width = max(len(label) for label, _ in shown["rows"]) + 2
    lines = [f"  {label + ':':{width}} {value}" for label, value in shown["rows"]]
    return (
        f"The pharmacist's brief ({shown['lookback']})\n"
        + "\n".join(lines)
        + f"\n  {'We recommend:':{width}} {shown['recommendation']}\n  {shown['reason']}\n\n"
    )


# The state an execution stopped in → the stage an operator knows. Inside ForEachClient (one child execution per
# client) and Letters (one per batch), the innermost known state names the stage.
STAGES = {
    "FindAudience": "audience",
    "AnyClients": "audience",
    "ForEachClient": "clients (approvals, letters, outcomes)",
    "Summary": "summary",
    "InformAccountTeam": "client branch: notice to the account team",
    "InformClient": "client branch: notice to the client",
    "AskAccountTeam": "client branch: account team approval",
    "AskClient": "client branch: client approval",
    "Letters": "client branch: letters",
    "GenerateLetters": "client branch: letters",
    "RecordOutcome": "client branch: outcome (manifest merge)",
    "Prescribers": "prescribers: notices planned",  # issue 17: after every client decided
    "HasPrescriberNotices": "prescribers: notices planned",
    "PrescriberNotices": "prescriber notices",
    "GenerateNotices": "prescriber notices: a batch",
    "FollowUp": "follow-up (waiting to measure outcomes)",
    "MeasureOutcomes": "outcomes (lettered against held out)",
    # a feed's candidate: the clinical review before the audience, and its close when nothing starts
    "AskClinicalReviewer": "clinical review: asking the pharmacist",
    "CloseReview": "clinical review: closed (dismissed or unanswered)",
}
STATUS_CHANGE = "Step Functions Execution Status Change"
ALERT_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")
ERROR_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,120}")


def failure_event_pattern(state_machine_arn: str) -> dict[str, Any]:
    """The EventBridge rule that sends a campaign's FAILED, TIMED_OUT or ABORTED status change to notify."""
    return {
        "source": ["aws.states"],
        "detail-type": [STATUS_CHANGE],
        "detail": {"status": list(ALERT_STATUSES), "stateMachineArn": [state_machine_arn]},
    }


def stage_of(path: Sequence[str] | str | None) -> str:
    """The operator's name for where the campaign failed: the innermost state of `path` that has one."""
    states = [path] if isinstance(path, str) else list(path or [])
    for state in reversed(states):
        if state in STAGES:
            return STAGES[state]
    return states[-1] if states else "unknown"


def alert_from_status_change(
    event: Mapping[str, Any], last_state: Sequence[str] | str | None, inner_error: str | None = None
) -> Notice:
    """The operator alert for an execution that ended FAILED, TIMED_OUT or ABORTED (its EventBridge status-change
    event). Only the campaign id, the stage, the status and the error *name* are kept: the cause text and the
    execution input are dropped (they are not needed, and an alert must never carry more than it has to)."""
    detail = event.get("detail") or {}
    if event.get("detail-type") != STATUS_CHANGE or detail.get("status") not in ALERT_STATUSES:
        raise ValueError("not a FAILED, TIMED_OUT or ABORTED Step Functions execution status change")
    try:
        campaign_id = str(json.loads(detail.get("input") or "{}")["campaign_id"])
    except (ValueError, KeyError, TypeError):
        campaign_id = str(detail.get("name") or "unknown")
    error = str(inner_error or detail.get("error") or detail["status"])
    return Notice(
        campaign_id=campaign_id,
        kind="operator_alert",
        stage=stage_of(last_state),
        error=error if ERROR_NAME.fullmatch(error) else "unnamed error",
        status=str(detail["status"]),
        redrive_count=int(detail.get("redriveCount") or 0),
        lake_problems=lake_problems_of(error, detail.get("cause")),
    )


def lake_problems_of(error: str, cause: object) -> list[str]:
    """The problems a LakeCheckFailed names (built from counts and columns only, so safe for an alert); any
    other error's cause stays dropped."""
    if error != LakeCheckFailed.__name__ or not isinstance(cause, str):
        return []
    try:
        message = str(json.loads(cause).get("errorMessage") or "")
    except (ValueError, AttributeError):
        return []
    _, _, problems = message.partition(": ")
    return [p.strip() for p in problems.split(" | ") if p.strip()][:100]


def _lake_problems_text(problems: list[str]) -> str:
    if not problems:
        return ""
    lines = "\n".join(f"- {p}" for p in problems)
    return (
        "The claims lake breaks the data contract; nothing was sent to anyone. Fix the extract "
        f"(docs/lake-check.md), then redrive:\n{lines}\n\n"
    )


SHOWN_BRANCHES = 20


def _unfinished_branches(campaign_id: str, *, objects: ObjectStore, data_bucket: str) -> str:
    """Which client branches had not recorded an outcome when the campaign stopped (the failed one is among them;
    a failing Distributed Map stops the others in flight): ids and counts only. Best effort: "" when unknown."""
    try:
        clients = [
            str(c["client_id"]) for c in json.loads(objects.get(data_bucket, keys.clients_key(campaign_id)))
        ]
        unfinished = [c for c in clients if not objects.exists(data_bucket, keys.outcome_key(campaign_id, c))]
    except NotFound:
        return ""  # it stopped before the audience listed its clients
    except Exception as error:  # the alert matters more than this detail
        logger.warning("could not list the unfinished client branches", extra={"error": type(error).__name__})
        return ""
    if not unfinished:
        return f"Every client branch ({len(clients)}) had recorded its outcome."
    shown = ", ".join(unfinished[:SHOWN_BRANCHES]) + (" …" if len(unfinished) > SHOWN_BRANCHES else "")
    return (
        f"Client branches without an outcome when it stopped ({len(unfinished)} of {len(clients)}; the failed "
        f"branch is among them): {shown}."
    )


def _operator_alert(
    notice: Notice, *, mailer: Mailer, sender: str, operator_email: str | None, branches: str = ""
) -> int:
    if not operator_email:
        return 0
    stage, error = notice.stage or "unknown", notice.error or "unknown"
    ended = {"FAILED": "failed", "TIMED_OUT": "timed out", "ABORTED": "was stopped"}.get(
        notice.status, "failed"
    )
    attempt = f" (redrive {notice.redrive_count})" if notice.redrive_count else ""
    mailer.send(
        Email(
            to=(operator_email,),
            sender=sender,
            subject=f"Campaign {notice.campaign_id} {ended} at stage {stage}{attempt}",
            text=(
                f"Campaign {notice.campaign_id}{attempt} {ended} at the {stage} stage with error {error}.\n\n"
                + _lake_problems_text(notice.lake_problems)
                + (f"{branches}\n\n" if branches else "")
                + "Clients still in progress received nothing further. Open the execution in the Step Functions "
                "console, fix the cause, then redrive it (`coach redrive "
                f"{notice.campaign_id}`): it resumes at the failed stage, and emails and letters already sent are "
                "not sent again.\n"
                f"{SIGNATURE}"
            ),
            idempotency_key=f"alert/{notice.campaign_id}/{notice.redrive_count}/{stage}/{error}",
            tags={"kind": "operator_alert", "campaign": notice.campaign_id},
        )
    )
    return 1


def _invalid_contacts_alert(
    notice: Notice, *, mailer: Mailer, sender: str, operator_email: str | None
) -> int:
    """One client's name or contacts cannot be used: its branch asks and sends nothing, the others go on. The alert
    names the client id and the columns (never a value: the name itself may be what is broken)."""
    if notice.client is None:
        raise ValueError("an invalid_contacts notice needs the client")
    if not operator_email:
        return 0
    client = notice.client
    mailer.send(
        Email(
            to=(operator_email,),
            sender=sender,
            subject=f"Campaign {notice.campaign_id}: client {client.client_id} skipped, its contacts cannot be used",
            text=(
                f"Campaign {notice.campaign_id}: client {client.client_id} was skipped. Its row in the clients "
                f"table cannot be used: {client.contacts_error}.\n\n"
                f"Nobody was asked and no letter was sent for this client ({client.affected} members affected); "
                "the campaign went on for every other client, and its report lists this client as "
                "invalid_contacts. Correct the clients table, then decide how these members are reached.\n"
                f"{SIGNATURE}"
            ),
            idempotency_key=f"alert/{notice.campaign_id}/{client.client_id}/invalid_contacts",
            tags={"kind": "operator_alert", "campaign": notice.campaign_id, "client": client.client_id},
        )
    )
    return 1

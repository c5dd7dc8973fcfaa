"""Informational emails that ask nothing: mandatory notices (class I recalls) and operator alerts. Counts only."""

from __future__ import annotations

import json

from coach.approvals.service import EVENT_LABELS
from coach.audience.privacy import client_facing_count
from coach.models import Notice
from coach.ports import Email, Mailer, ObjectStore


def send_notice(notice: Notice, *, mailer: Mailer, objects: ObjectStore, data_bucket: str, sender: str,
                operator_email: str | None) -> int:
    if notice.kind == "operator_alert":
        if not operator_email:
            return 0
        mailer.send(Email(
            to=(operator_email,), sender=sender,
            subject=f"Campaign {notice.campaign_id} failed at stage {notice.stage or 'unknown'}",
            text=(f"Campaign {notice.campaign_id} stopped at the {notice.stage or 'unknown'} stage with error "
                  f"{notice.error or 'unknown'}.\n\nNothing further was sent for the clients still in progress. "
                  "Look at the execution in the Step Functions console, fix the cause, then redrive the execution; "
                  "emails and letters already sent are not sent again.\n"),
            idempotency_key=f"alert/{notice.campaign_id}/{notice.stage}/{notice.error}",
            tags={"kind": "operator_alert", "campaign": notice.campaign_id}))
        return 1
    assert notice.client is not None and notice.event is not None
    contacts = json.loads(objects.get(data_bucket, notice.client.contacts_key))
    internal = notice.kind == "mandatory_account_team"
    recipients = contacts.get("account_team_emails" if internal else "client_contact_emails") or []
    affected = f"{notice.client.affected:,}" if internal else client_facing_count(notice.client.affected)
    reachable = f"{notice.client.reachable:,}" if internal else client_facing_count(notice.client.reachable)
    event = notice.event
    label = EVENT_LABELS.get(event.event_type, event.event_type)
    text = (f"Hello,\n\nThis is a notice, not a request: {event.drug.name} {label}"
            f"{f' (class {event.recall_class})' if event.recall_class else ''}. Because it is a mandatory safety "
            f"notice, the pre-approved letter is being sent to the affected members of {notice.client.client_name} "
            f"without waiting for an opt-in.\n\n  Members affected:  {affected}\n  Members reachable: {reachable}\n"
            f"  Effective:         {event.effective_date:%B %-d, %Y}\n\n{event.summary}\n\n"
            "No action is needed. — Clinical Programs, Automated Pharmacist\n")
    for recipient in sorted(set(recipients)):
        mailer.send(Email(
            to=(recipient,), sender=sender,
            subject=f"Notice: {event.drug.name} {label} — letters going to {notice.client.client_name} members",
            text=text, idempotency_key=f"notice/{notice.campaign_id}/{notice.client.client_id}/{notice.kind}/{recipient}",
            tags={"kind": "notice", "campaign": notice.campaign_id, "client": notice.client.client_id}))
    return len(recipients)

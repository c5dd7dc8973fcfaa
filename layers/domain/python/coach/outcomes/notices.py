"""Who hears the outcome: each measured client's account team (exact counts and rates) and the client's contacts
(small-cell rule: a count of 1 to 10 reads "fewer than 11", and its rate is not shown, which would give it away).
Counts and rates only: no member, no drug history."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from coach import keys
from coach.addresses import recipients_of
from coach.audience.privacy import SMALL_CELL, client_facing_count, exact_count
from coach.models import MarketEvent
from coach.ports import Email, Mailer, ObjectStore

SIGNATURE = "-- Clinical Programs, Automated Pharmacist\n"
LABELS = {
    "switched": "switched to a listed alternative",
    "refilled": "refilled the same drug",
    "no_fill": "no further fill",
}


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _small(count: int) -> bool:
    return 0 < count <= SMALL_CELL


def suppressed(group: dict[str, Any]) -> set[str]:
    """The outcomes of one group a client may not see exactly: every count of 1 to 10, and when that is a single
    one, the next smallest too (the three add up to the group's size, which the client sees)."""
    if _small(group["members"]):
        return set(LABELS)
    hidden = {o for o in LABELS if _small(group[o])}
    if len(hidden) == 1:
        hidden.add(min((o for o in LABELS if o not in hidden), key=lambda o: group[o]))
    return hidden


def _cell(group: dict[str, Any], outcome: str, *, internal: bool, hidden: set[str]) -> str:
    count, rate = group[outcome], group["rates"][outcome]
    if internal:
        return f"{exact_count(count)} ({_percent(rate)})"
    if outcome in hidden:
        return client_facing_count(count) if _small(count) else "not shown (small numbers)"
    return f"{client_facing_count(count)} ({_percent(rate)})"


def outcome_text(
    entry: dict[str, Any], outcomes: dict[str, Any], event: MarketEvent, *, internal: bool
) -> str:
    lettered, held = entry["lettered"], entry["held_out"]
    counted: Callable[[int], str] = exact_count if internal else client_facing_count
    window = outcomes["window"]
    lines = [
        "Hello,\n",
        f"The follow-up of the {event.drug.name} letters to members of {entry['client_name']} is complete: "
        f"paid claims filled {window['first_day']} to {window['last_day']} ({outcomes['follow_up_days']} days).",
    ]
    if held["members"]:
        lines.append(
            f"A holdout of {outcomes['holdout_share']:.0%} of the reachable members, chosen at random before the "
            "letters, received no letter, so what the letter changed can be told from what would have happened anyway."
        )
    lines += [
        "",
        f"  Members lettered:   {counted(lettered['members'])}",
        f"  Members held out:   {counted(held['members'])}",
        "",
    ]
    hidden_lettered = set() if internal else suppressed(lettered)
    hidden_held = set() if internal else suppressed(held)
    for outcome, label in LABELS.items():
        lines.append(f"  {label}:")
        lines.append(f"    lettered  {_cell(lettered, outcome, internal=internal, hidden=hidden_lettered)}")
        if held["members"]:
            lines.append(f"    held out  {_cell(held, outcome, internal=internal, hidden=hidden_held)}")
        diff = entry["difference"][outcome]
        # a difference and one group's rate would give the other's hidden count away
        if diff is not None and outcome not in hidden_lettered | hidden_held:
            lines.append(
                f"    difference {100 * diff['difference']:+.1f} points "
                f"(95% interval {100 * diff['ci_low']:+.1f} to {100 * diff['ci_high']:+.1f})"
            )
    lines += ["", "Counts only: no member is named in this email.", SIGNATURE]
    return "\n".join(lines)


def send_outcome_emails(
    outcomes: dict[str, Any],
    event: MarketEvent,
    *,
    campaign_id: str,
    mailer: Mailer,
    store: ObjectStore,
    data_bucket: str,
    sender: str,
) -> int:
    """One email per account-team address and per client contact of every measured client; returns how many."""
    sent = 0
    for entry in outcomes["clients"]:
        client_id = entry["client_id"]
        contacts = json.loads(
            store.get(data_bucket, f"{keys.client_audience_prefix(campaign_id, client_id)}/contacts.json")
        )
        for field, internal in (("account_team_emails", True), ("client_contact_emails", False)):
            text = outcome_text(entry, outcomes, event, internal=internal)
            audience = "account_team" if internal else "client"
            for recipient in sorted(recipients_of(contacts.get(field))):
                mailer.send(
                    Email(
                        to=(recipient,),
                        sender=sender,
                        subject=f"Outcome: {event.drug.name} letters to {entry['client_name']} members",
                        text=text,
                        idempotency_key=f"outcome/{campaign_id}/{client_id}/{audience}/{recipient}",
                        tags={
                            "kind": "outcome",
                            "campaign": campaign_id,
                            "client": client_id,
                            "audience": audience,
                        },
                    )
                )
                sent += 1
    return sent

"""Before anyone is asked: how many prescribers each client's approval would notify (the account team's email
says it). The audience stage runs the prescriber query once more and writes the count into each client's entry
of clients.json (`prescribers`); a count, never an NPI. Nothing is counted when the playbook tells no prescriber
about this event."""

from __future__ import annotations

import json
from dataclasses import replace
from itertools import groupby

from coach import keys
from coach.audience.engine import AudienceParams
from coach.models import CampaignInput
from coach.ports import ObjectStore, PrescriberRowSource
from coach.prescribers.plan import unreachable_reason
from coach.prescribers.policy import policy_of


def estimate_prescribers(
    campaign: CampaignInput, *, engine: PrescriberRowSource, store: ObjectStore, data_bucket: str
) -> dict[str, int]:
    """client_id → prescribers a notice would reach if that client approves; also written into clients.json."""
    policy = policy_of(campaign.playbook)
    if not policy.applies_to(campaign.event):
        return {}
    params = replace(
        AudienceParams.for_campaign(campaign), allowed_classes=tuple(policy.allowed_sensitive_classes)
    )
    counts: dict[str, int] = {}
    for npi, group in groupby(
        engine.prescriber_rows(params), key=lambda row: str(row.get("npi") or "").strip()
    ):
        rows = list(group)
        if unreachable_reason(npi, rows[0]) is None:
            for client_id in {row["client_id"] for row in rows}:
                counts[client_id] = counts.get(client_id, 0) + 1
    key = keys.clients_key(campaign.campaign_id)
    clients = json.loads(store.get(data_bucket, key))
    for client in clients:
        client["prescribers"] = counts.get(client["client_id"], 0)
    store.put(data_bucket, key, json.dumps(clients).encode(), "application/json")
    return counts

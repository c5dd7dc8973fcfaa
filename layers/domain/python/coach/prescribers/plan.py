"""The prescribers stage, after every client has decided: which clients' patients go on notices (the policy and
the client outcomes), one notice per prescriber listing only those patients, written in batches to S3 for the
PrescriberNotices Distributed Map. Patients whose prescriber cannot be told (no NPI, an invalid NPI, an NPI
prescribers/ does not list, no usable fax or address) are counted by reason, never dropped silently."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace
from itertools import groupby
from typing import Any

from pydantic import BaseModel, Field

from coach import keys
from coach.audience.engine import AudienceParams
from coach.models import CampaignInput, ClientOutcome, ClientWork
from coach.observability import logger
from coach.ports import NotFound, ObjectStore, PrescriberRowSource
from coach.prescribers.npi import valid_npi
from coach.prescribers.policy import policy_of

# Why a patient's prescriber gets no notice (report.json `prescribers.not_notified`)
NO_NPI, INVALID_NPI, UNKNOWN_NPI, NO_ADDRESS = "no_npi", "invalid_npi", "unknown_npi", "no_address"
REASONS = (NO_NPI, INVALID_NPI, UNKNOWN_NPI, NO_ADDRESS)


def prescribers_prefix(campaign_id: str) -> str:
    """In the data bucket: the notice batches (PHI) and the stage's counts."""
    return f"{keys.campaign_prefix(campaign_id)}/prescribers"


def summary_key(campaign_id: str) -> str:
    return f"{prescribers_prefix(campaign_id)}/summary.json"


class PrescriberPlan(BaseModel):
    """What the stage returns into workflow state: keys and counts only."""

    told: bool
    batches_key: str
    batch_count: int = Field(ge=0)
    notices: int = Field(ge=0)
    template_id: str
    template_sha256: str


def fax_digits(fax: object) -> str | None:
    digits = re.sub(r"[^0-9]", "", str(fax or ""))
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits if len(digits) == 10 else None


def channel_of(row: dict) -> tuple[str, str] | None:
    """("fax", number) when a fax is accepted and usable (it arrives the same day), ("mail", "") when the practice
    address is accepted and complete, None when neither: the same rule as the lake check's warning."""
    fax = fax_digits(row.get("fax"))
    if row.get("accepts_fax") and fax:
        return "fax", fax
    present = all(str(row.get(c) or "").strip() for c in ("address_line1", "city", "postal_code"))
    if row.get("accepts_mail") and present and len(str(row.get("state") or "").strip()) == 2:
        return "mail", ""
    return None


def _patient(row: dict) -> dict[str, Any]:
    birth = row.get("birth_date")
    return {
        "client_id": row["client_id"],
        "member_id": row["member_id"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "birth_date": str(birth)[:10] if birth else None,
        "drug_name": row["drug_name"],
        "last_fill_date": str(row["last_fill_date"])[:10],
    }


def unreachable_reason(npi: str, first: dict) -> str | None:
    if not npi:
        return NO_NPI
    if not valid_npi(npi):
        return INVALID_NPI
    if not first.get("listed"):
        return UNKNOWN_NPI
    return None if channel_of(first) else NO_ADDRESS


class _Tally:
    def __init__(self) -> None:
        self.patients: Counter[str] = Counter()  # reason → patients
        self.prescribers: Counter[str] = Counter()  # reason → distinct NPIs (no_npi: none)
        self.by_client: dict[str, Counter[str]] = {}

    def client(self, client_id: str) -> Counter[str]:
        return self.by_client.setdefault(client_id, Counter())


def _notices(rows: Iterable[dict], included: set[str], tally: _Tally) -> Iterator[dict[str, Any]]:
    for npi, group in groupby(rows, key=lambda row: str(row.get("npi") or "").strip()):
        patients = [row for row in group if row["client_id"] in included]
        if not patients:
            continue
        reason = unreachable_reason(npi, patients[0])
        clients = Counter(row["client_id"] for row in patients)
        for client_id, count in clients.items():
            counts = tally.client(client_id)
            counts["patients_listed" if reason is None else f"patients_{reason}"] += count
            counts["prescribers_notified" if reason is None else f"prescribers_{reason}"] += 1
        if reason is not None:
            tally.patients[reason] += len(patients)
            tally.prescribers[reason] += 1 if npi else 0
            continue
        first = patients[0]
        channel, fax = channel_of(first) or ("mail", "")
        yield {
            "npi": npi,
            "name": first["prescriber_name"],
            **{c: first.get(c) for c in ("address_line1", "address_line2", "city", "state", "postal_code")},
            "channel": channel,
            "fax": fax,
            "patients": [_patient(row) for row in patients],
        }


def _outcomes(campaign_id: str, store: ObjectStore, bucket: str) -> list[ClientOutcome]:
    try:
        clients = [
            ClientWork.model_validate(c) for c in json.loads(store.get(bucket, keys.clients_key(campaign_id)))
        ]
    except NotFound:
        return []
    return [
        ClientOutcome.model_validate_json(store.get(bucket, keys.outcome_key(campaign_id, c.client_id)))
        for c in clients
    ]


def plan_notices(
    campaign: CampaignInput,
    *,
    engine: PrescriberRowSource,
    store: ObjectStore,
    data_bucket: str,
    batch_size: int,
    template_sha256: str,
) -> PrescriberPlan:
    """Stream the prescriber query once; write notice batches of `batch_size` notices and the stage's counts."""
    policy = policy_of(campaign.playbook)
    outcomes = _outcomes(campaign.campaign_id, store, data_bucket)
    told = policy.applies_to(campaign.event)
    included = {o.client_id for o in outcomes if told and policy.includes(o)}
    prefix, tally = prescribers_prefix(campaign.campaign_id), _Tally()
    descriptors: list[dict[str, Any]] = []
    if included:
        params = replace(
            AudienceParams.for_campaign(campaign), allowed_classes=tuple(policy.allowed_sensitive_classes)
        )
        batch: list[dict[str, Any]] = []
        for notice in _notices(engine.prescriber_rows(params), included, tally):
            batch.append(notice)
            if len(batch) == batch_size:
                descriptors.append(_write_batch(store, data_bucket, prefix, len(descriptors), batch))
                batch = []
        if batch:
            descriptors.append(_write_batch(store, data_bucket, prefix, len(descriptors), batch))
    batches_key = f"{prefix}/batches.json"
    store.put(data_bucket, batches_key, json.dumps(descriptors).encode(), "application/json")
    notices = sum(int(d["notices"]) for d in descriptors)
    summary = {
        "told": told,
        "policy": policy.notify,
        "clients_included": sorted(included),
        "notices": notices,
        "patients_listed": sum(c["patients_listed"] for c in tally.by_client.values()),
        "not_notified": {
            reason: {"prescribers": tally.prescribers[reason], "patients": tally.patients[reason]}
            for reason in REASONS
        },
        "clients": {client_id: dict(sorted(c.items())) for client_id, c in sorted(tally.by_client.items())},
    }
    store.put(
        data_bucket,
        summary_key(campaign.campaign_id),
        json.dumps(summary, indent=2).encode(),
        "application/json",
    )
    logger.info(
        "prescriber notices planned",
        extra={"campaign_id": campaign.campaign_id, "notices": notices, "clients": len(included)},
    )
    return PrescriberPlan(
        told=told,
        batches_key=batches_key,
        batch_count=len(descriptors),
        notices=notices,
        template_id=policy.template_id,
        template_sha256=template_sha256,
    )


def _write_batch(
    store: ObjectStore, bucket: str, prefix: str, index: int, batch: list[dict]
) -> dict[str, Any]:
    key = f"{prefix}/batch-{index:05d}.jsonl"
    body = "\n".join(json.dumps(notice, default=str) for notice in batch) + "\n"
    store.put(bucket, key, body.encode("utf-8"), "application/x-ndjson")
    return {"batch_key": key, "batch_index": index, "notices": len(batch)}

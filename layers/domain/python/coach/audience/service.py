"""Run the audience query and lay its result out in S3 (docs/architecture.md): member batches per client
(PHI, KMS-encrypted bucket) and, for the workflow, counts and keys only."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from itertools import groupby
from typing import Any

from coach import keys
from coach.audience.engine import AudienceParams, ClientDirectoryEntry, LakeError
from coach.lake_rules import LakeCheckFailed, Problem
from coach.models import AudienceSummary, CampaignInput, ClientWork, MemberRecord, parse_member
from coach.ports import ClaimsEngine, ObjectStore

_log = logging.getLogger(__name__)

MEMBER_FIELDS = tuple(MemberRecord.model_fields)


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _jsonl(rows: list[dict], where: str) -> bytes:
    lines = []
    for number, row in enumerate(rows, start=1):
        record = parse_member({name: row.get(name) for name in MEMBER_FIELDS}, f"{where} record {number}")
        lines.append(record.model_dump_json())
    return ("\n".join(lines) + "\n").encode("utf-8")


def _write_client(
    campaign: CampaignInput,
    client: ClientDirectoryEntry,
    rows: list[dict] | Iterator[dict],
    *,
    store: ObjectStore,
    bucket: str,
    batch_size: int,
) -> ClientWork:
    prefix = keys.client_audience_prefix(campaign.campaign_id, client.client_id)
    counter = {"affected": 0}

    def reachable_rows() -> Iterator[dict]:
        for row in rows:
            counter["affected"] += 1
            if row["reachable"]:
                yield row

    descriptors: list[dict[str, Any]] = []
    for index, batch in enumerate(_batches(reachable_rows(), batch_size)):
        batch_key = f"{prefix}/batch-{index:05d}.jsonl"
        store.put(bucket, batch_key, _jsonl(batch, batch_key), "application/x-ndjson")
        descriptors.append({"batch_key": batch_key, "batch_index": index, "members": len(batch)})
    batches_key, contacts_key = f"{prefix}/batches.json", f"{prefix}/contacts.json"
    store.put(bucket, batches_key, json.dumps(descriptors).encode(), "application/json")
    store.put(
        bucket,
        contacts_key,
        json.dumps(
            {
                "client_id": client.client_id,
                "client_name": client.name,
                "account_team_emails": list(client.account_team_emails),
                "client_contact_emails": list(client.client_contact_emails),
                "escalation_email": client.escalation_email,
            }
        ).encode(),
        "application/json",
    )
    election = client.elections.get(campaign.event.event_type, "ask")
    return ClientWork(
        client_id=client.client_id,
        client_name=client.name,
        affected=counter["affected"],
        reachable=sum(int(d["members"]) for d in descriptors),
        election=election,  # type: ignore[arg-type]
        batches_key=batches_key,
        batch_count=len(descriptors),
        contacts_key=contacts_key,
    )


def check_lake_quality(campaign: CampaignInput, *, engine: ClaimsEngine) -> list[Problem]:
    """The first step of the audience stage: every data-quality rule (coach.lake_rules) over the lake. Any error
    fails the campaign before any email (LakeCheckFailed lists the problems: counts and columns, never values);
    the warnings are logged and returned."""
    problems = engine.lake_problems(campaign.event.announced_on)
    if any(p.is_error for p in problems):
        raise LakeCheckFailed(problems)
    for problem in problems:
        _log.warning("lake check: %s", problem.line())
    return problems


def build_audience(
    campaign: CampaignInput, *, engine: ClaimsEngine, store: ObjectStore, data_bucket: str, batch_size: int
) -> AudienceSummary:
    """Stream the affected members client by client; only one batch is held in memory at a time."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    check_lake_quality(campaign, engine=engine)
    directory = engine.clients()
    params = AudienceParams.for_campaign(campaign)
    work: list[ClientWork] = []
    for client_id, rows in groupby(engine.audience_rows(params), key=lambda row: row["client_id"]):
        client = directory.get(client_id)
        if client is None:
            raise LakeError(
                f"clients: members/ refers to client_id {client_id!r}, which the clients table does not list"
            )
        work.append(
            _write_client(campaign, client, rows, store=store, bucket=data_bucket, batch_size=batch_size)
        )
    clients_key = keys.clients_key(campaign.campaign_id)
    store.put(
        data_bucket,
        clients_key,
        json.dumps([w.model_dump(mode="json") for w in work]).encode(),
        "application/json",
    )
    return AudienceSummary(
        clients_key=clients_key,
        client_count=len(work),
        affected=sum(w.affected for w in work),
        reachable=sum(w.reachable for w in work),
    )
